import Foundation
import SymphonyEngine
import SymphonyEvents
import SymphonyJSON
import SymphonyPipeline
import SymphonyRecords
import SymphonyRules
import Testing

/// `RunConfiguration.replay` (`symphony run --replay`): the input's times are the clock.
@Suite(.timeLimit(.minutes(12))) struct ReplayTests {
    static let start = Timestamp(secondsSinceEpoch: 1_764_000_000)

    func run(_ rules: String, _ events: [Event], history: (any HistoryRecorder)? = nil, workers: Int = 1) throws -> [Event] {
        let (ruleSet, diagnostics) = RuleSetLoader.load(documents: [(file: "rules.yaml", text: rules)])
        var configuration = RunConfiguration(ruleSet: try #require(ruleSet, "\(diagnostics.sorted)"), principal: "user:test")
        configuration.replay = true
        configuration.workerCount = workers
        configuration.history = history
        let output = CollectingOutput()
        let pipeline = try RunPipeline(configuration: configuration, output: output, stop: try StopRequest())
        _ = try pipeline.feed(ArrayEventSource(events: events.map { .success($0) }))
        _ = pipeline.finish()
        return output.emitted
    }

    func at(_ minutes: Int64, _ type: String, _ payload: JSONValue = [:], id: String? = nil) -> Event {
        Event(type: type, payload: payload, id: id, time: Self.start.advanced(by: .seconds(minutes * 60)))
    }

    @Test("a delay made by a delayed event is due from that event's due time, not from the next input line's")
    func chainedDelays() throws {
        let rules = """
            rules:
              - {name: a, on: x, actions: [{delay: {after: 1h, type: r}}]}
              - {name: b, on: r, actions: [{delay: {after: 1h, type: e}}]}
              - {name: c, on: e, actions: [{emit: {type: done}}]}
            """
        let emitted = try run(rules, [at(0, "x"), at(300, "y")])
        #expect(emitted.map(\.type) == ["done"])
        #expect(emitted.first?.time == Self.start.advanced(by: .seconds(120 * 60)), "x at 0, r at +1h, e at +2h")
    }

    @Test("what an earlier replay left pending is due on the input's time: the next replay's merge cancels it first")
    func pendingAcrossReplays() throws {
        let rules = """
            rules:
              - name: remind
                on: pr.opened
                actions: [{delay: {after: 2d, key: "pr-{{ payload.pr }}", unless: {on: pr.merged}, type: reminder}}]
              - {name: out, on: reminder, actions: [{emit: {type: reminded}}]}
            """
        let history = ReopenableHistory.sqlite()
        #expect(try run(rules, [at(0, "pr.opened", ["pr": 1])], history: try history.open()).isEmpty)
        #expect(try run(rules, [at(24 * 60, "pr.merged", ["pr": 1]), at(5 * 24 * 60, "tick")], history: try history.open()).isEmpty)
    }

    @Test("events of one time are still handled one after another: each accepted login pairs with the failure just before it")
    func sameTimeInOrder() throws {
        let rules = """
            rules:
              - name: login-after-failure
                on: ssh.accepted
                after: {on: ssh.failure, key: "{{ payload.ip }}", within: 1m}
                actions: [{emit: {type: suspicious}}]
            """
        var events: [Event] = []
        for index in 0..<200 {
            let ip: JSONValue = .string("10.0.\(index / 250).\(index % 250)")
            // The login is served first whenever both wait in the queue together (priority 0 against
            // 9): only handling one input event after the other pairs every login.
            var failure = at(Int64(index), "ssh.failure", ["ip": ip])
            failure.priority = 9
            var accepted = at(Int64(index), "ssh.accepted", ["ip": ip])
            accepted.priority = 0
            events += [failure, accepted]
        }
        #expect(try run(rules, events, workers: 2).count == 200)
    }

    @Test("an event whose type is both the delay's trigger and its unless does not cancel the delay it made")
    func unlessSparesItsOwnDelay() throws {
        let rules = """
            rules:
              - name: remind
                on: pr.opened
                actions: [{delay: {after: 1h, key: "pr-{{ payload.pr }}", unless: {on: "pr.*"}, type: reminder}}]
              - {name: out, on: reminder, actions: [{emit: {type: reminded}}]}
            """
        #expect(try run(rules, [at(0, "pr.opened", ["pr": 1]), at(120, "tick")]).map(\.type) == ["reminded"])
        #expect(try run(rules, [at(0, "pr.opened", ["pr": 1]), at(30, "pr.closed", ["pr": 1]), at(120, "tick")]).isEmpty)
    }
}
