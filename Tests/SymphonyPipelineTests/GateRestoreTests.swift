import Foundation
import SymphonyCrypto
import SymphonyEvents
import SymphonyJSON
import SymphonyPipeline
import SymphonyRecords
import SymphonyRules
import SymphonyStore
import Testing

/// Rules with memory keep their state across runs on the same history: a restart rebuilds it
/// from the events earlier runs recorded and handled.
@Suite(.timeLimit(.minutes(12))) struct GateRestoreTests {
    static let rules = """
        rules:
          - name: ban
            on: ssh.failure
            count: {key: "{{ payload.ip }}", at_least: 3, within: 10m}
            actions: [{emit: {type: ssh.ban, payload: {ip: "{{ window.key }}", n: "{{ window.count }}"}}}]
          - name: page
            on: http.error
            throttle: {key: "{{ payload.path }}", per: 1h}
            actions: [{emit: {type: page, payload: {path: "{{ throttle.key }}"}}}]
        """


    static let start = Timestamp(secondsSinceEpoch: 1_764_000_000)

    func run(_ store: ReopenableHistory, _ events: [Event]) throws -> (emitted: [Event], summary: RunSummary) {
        let (ruleSet, diagnostics) = RuleSetLoader.load(documents: [(file: "rules.yaml", text: Self.rules)])
        var configuration = RunConfiguration(ruleSet: try #require(ruleSet, "\(diagnostics.sorted)"), principal: "user:test")
        configuration.history = try store.open()
        configuration.workerCount = 1
        let output = CollectingOutput()
        let pipeline = try RunPipeline(configuration: configuration, output: output, stop: try StopRequest())
        _ = try pipeline.feed(ArrayEventSource(events: events.map { .success($0) }))
        let summary = pipeline.finish()
        return (output.emitted, summary)
    }

    func failure(_ id: String, minute: Int) -> Event {
        Event(type: "ssh.failure", payload: ["ip": "203.0.113.9"], id: id, time: Self.start.advanced(by: .seconds(60 * minute)))
    }

    func error(_ id: String, minute: Int) -> Event {
        Event(type: "http.error", payload: ["path": "/pay"], id: id, time: Self.start.advanced(by: .seconds(60 * minute)))
    }

    @Test("a window and a throttle carry over to the next run on the same history", arguments: [ReopenableHistory.inMemory(), ReopenableHistory.sqlite()])
    func carriesOver(_ store: ReopenableHistory) throws {
        let first = try run(store, [failure("f1", minute: 0), error("e1", minute: 0), failure("f2", minute: 1)])
        #expect(first.emitted.map(\.type) == ["page"])
        #expect(first.summary.restoredGateEvents == 0)

        let second = try run(store, [failure("f3", minute: 2), error("e2", minute: 30)])
        #expect(second.emitted.map(\.type) == ["ssh.ban"], "the third failure completes the window; the error is within the hour")
        #expect(second.emitted.first?.payload["n"] == .int(3))
        #expect(second.summary.restoredGateEvents == 3)
        #expect(second.summary.gates.suppressed == 1)

        // The ban emptied the window; that too is rebuilt: one more failure does not ban again.
        let third = try run(store, [failure("f4", minute: 3), error("e3", minute: 61)])
        #expect(third.emitted.map(\.type) == ["page"])
        #expect(third.summary.gates.counting == 1)
    }

    @Test("events older than the longest window are not read back")
    func horizon() throws {
        let store = ReopenableHistory.sqlite()
        _ = try run(store, [failure("old", minute: 0)])
        let later = try run(store, [failure("new1", minute: 120), failure("new2", minute: 121)])
        #expect(later.emitted.isEmpty)
        #expect(later.summary.restoredGateEvents == 1, "'old' is the newest recorded event then")
        let last = try run(store, [failure("new3", minute: 200)])
        #expect(last.summary.restoredGateEvents == 2, "new1 and new2 are within the longest gate period (1 h) of the newest; old is not")
        #expect(last.emitted.isEmpty)
    }

    @Test("replay = live: feeding a day of events at once gives the gates' firings that feeding them as they happened gives")
    func replayEqualsLive() throws {
        let rules = """
            rules:
              - name: ban
                on: ssh.failure
                count: {key: "{{ payload.ip }}", at_least: 3, within: 10m}
                throttle: {key: "{{ window.key }}", per: 1h}
                actions: [{emit: {type: ssh.ban, payload: {ip: "{{ window.key }}", n: "{{ window.count }}", at: "{{ time }}"}}}]
              - name: login-after-failure
                on: ssh.accepted
                after: {on: ssh.failure, key: "{{ payload.ip }}", within: 5m}
                actions: [{emit: {type: suspicious.login, payload: {ip: "{{ after.key }}", failure: "{{ after.id }}"}}}]
            """
        var events: [Event] = []
        var generator = SplitMix64(seed: 20_261_203)  // fixed: the same day of events every run
        var seconds: Int64 = 0
        for index in 0..<600 {
            seconds += Int64.random(in: 1...120, using: &generator)
            let ip = "10.0.0.\(Int.random(in: 1...6, using: &generator))"
            let type = Int.random(in: 0..<10, using: &generator) < 8 ? "ssh.failure" : "ssh.accepted"
            events.append(Event(type: type, payload: ["ip": .string(ip)], id: "e\(index)", time: Self.start.advanced(by: .seconds(seconds))))
        }
        func run(live: Bool) throws -> [String] {
            let (ruleSet, diagnostics) = RuleSetLoader.load(documents: [(file: "rules.yaml", text: rules)])
            var configuration = RunConfiguration(ruleSet: try #require(ruleSet, "\(diagnostics.sorted)"), principal: "user:test")
            let clock = ManualClock(start: Self.start)
            configuration.clock = clock
            configuration.workerCount = 1
            let output = CollectingOutput()
            let pipeline = try RunPipeline(configuration: configuration, output: output, stop: try StopRequest())
            if live {
                for event in events {
                    clock.advance(to: event.time)
                    _ = try pipeline.feed(ArrayEventSource(events: [.success(event)]))
                    pipeline.waitUntilIdle()
                }
            } else {
                clock.advance(to: events.last!.time)
                _ = try pipeline.feed(ArrayEventSource(events: events.map { .success($0) }))
            }
            _ = pipeline.finish()
            return output.emitted.map { "\($0.type) \($0.payload.jsonText) \($0.time)" }
        }
        let live = try run(live: true)
        #expect(live.count > 5)
        #expect(try run(live: false) == live)
    }
}

/// A small seeded generator (SplitMix64), so generated test input is the same every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
