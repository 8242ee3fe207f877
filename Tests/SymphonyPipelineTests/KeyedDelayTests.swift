import Foundation
import SymphonyCrypto
import SymphonyEngine
import SymphonyEvents
import SymphonyJSON
import SymphonyPipeline
import SymphonyRecords
import SymphonyRules
import SymphonyStore
import Testing

/// Keyed delays, `cancel:` and `unless:` — "remind in 2 days unless merged" — on a manual clock
/// (no test waits in real time), against the in-memory and the SQLite history alike.
@Suite(.timeLimit(.minutes(12))) struct KeyedDelayTests {
    static let rules = """
        rules:
          - name: remind-review
            on: pr.opened
            actions:
              - delay: {after: 2d, key: "pr-{{ payload.pr }}", unless: {on: pr.merged}, type: review.reminder, payload: {pr: "{{ payload.pr }}"}}
          - name: reopened
            on: pr.reopened
            actions:
              - delay: {after: 1d, key: "pr-{{ payload.pr }}", if_pending: keep, type: review.reminder, payload: {pr: "{{ payload.pr }}", again: true}}
          - name: closed
            on: pr.closed
            actions:
              - cancel: {key: "pr-{{ payload.pr }}", rule: remind-review}
          - name: remind
            on: review.reminder
            actions: [{emit: {type: reminded, payload: {pr: "{{ payload.pr }}"}}}]
        """


    /// One run: feeds `events` (each published when the clock reads its time), then moves the
    /// clock to `end` so what is due fires, and returns what it emitted, its outcomes and summary.
    func run(_ store: ReopenableHistory, clock: ManualClock, _ steps: [(at: Duration, event: Event)], end: Duration) throws
        -> (emitted: [JSONValue], outcomes: [ActionOutcome], summary: RunSummary)
    {
        let (ruleSet, diagnostics) = RuleSetLoader.load(documents: [(file: "rules.yaml", text: Self.rules)])
        var configuration = RunConfiguration(ruleSet: try #require(ruleSet, "\(diagnostics.sorted)"), principal: "user:test")
        configuration.history = try store.open()
        configuration.clock = clock
        configuration.workerCount = 1
        let output = CollectingOutput()
        let pipeline = try RunPipeline(configuration: configuration, output: output, stop: try StopRequest())
        for step in steps {
            clock.advance(to: Self.start.advanced(by: step.at))
            _ = try pipeline.feed(ArrayEventSource(events: [.success(step.event)]))
            pipeline.waitUntilIdle()
        }
        clock.advance(to: Self.start.advanced(by: end))
        pipeline.waitUntilIdle()
        let summary = pipeline.finish()
        return (output.emitted.map { $0.payload["pr"] ?? .null }, output.outcomes, summary)
    }

    static let start = Timestamp(secondsSinceEpoch: 1_764_000_000)

    func event(_ type: String, pr: Int) -> Event { Event(type: type, payload: ["pr": .int(Int64(pr))]) }

    @Test("remind in 2 days unless merged: a merge before the due time cancels; an unmerged PR is reminded once", arguments: [ReopenableHistory.inMemory(), ReopenableHistory.sqlite()])
    func unlessMerged(_ store: ReopenableHistory) throws {
        let clock = ManualClock(start: Self.start)
        let result = try run(
            store, clock: clock,
            [(.zero, event("pr.opened", pr: 1)), (.seconds(60), event("pr.opened", pr: 2)), (.seconds(3_600), event("pr.merged", pr: 1))],
            end: .seconds(3 * 86_400))
        #expect(result.emitted == [JSONValue.int(2)])
        let cancels = result.outcomes.filter { $0.action == .cancel }
        #expect(cancels.count == 1)
        let message = try #require(cancels.first?.message)
        #expect(message.hasPrefix("unless pr.merged: key pr-1: cancelled "))
        #expect(cancels.first?.rule == "remind-review")
        #expect(result.summary.pending == 0)
    }

    @Test("a second delay of a key replaces the pending one by default, or keeps it with if_pending: keep", arguments: [ReopenableHistory.inMemory(), ReopenableHistory.sqlite()])
    func replaceOrKeep(_ store: ReopenableHistory) throws {
        let clock = ManualClock(start: Self.start)
        let result = try run(
            store, clock: clock,
            [(.zero, event("pr.opened", pr: 7)), (.seconds(3_600), event("pr.opened", pr: 7)), (.seconds(7_200), event("pr.reopened", pr: 7))],
            end: .seconds(2 * 86_400 + 3_599))
        #expect(result.emitted == [], "the replacing delay is due 2 days after the second opening, and keep scheduled nothing")
        let delays = result.outcomes.filter { $0.action == .delay }.compactMap(\.message)
        #expect(delays.count == 3)
        #expect(delays[0] == "key pr-7")
        #expect(delays[1].hasPrefix("key pr-7: replaced the pending "))
        #expect(delays[2].hasPrefix("key pr-7: kept the pending ") && delays[2].hasSuffix("; nothing scheduled"))
        #expect(result.summary.pending == 1)
    }

    @Test("cancel: before the due time removes the pending delay; after it fired there is nothing left to cancel", arguments: [ReopenableHistory.inMemory(), ReopenableHistory.sqlite()])
    func cancelBeforeAndAfter(_ store: ReopenableHistory) throws {
        let clock = ManualClock(start: Self.start)
        let result = try run(
            store, clock: clock,
            [
                (.zero, event("pr.opened", pr: 3)), (.seconds(60), event("pr.closed", pr: 3)),
                (.seconds(120), event("pr.opened", pr: 4)), (.seconds(3 * 86_400), event("pr.closed", pr: 4)),
            ],
            end: .seconds(3 * 86_400 + 60))
        #expect(result.emitted == [JSONValue.int(4)])
        let cancels = result.outcomes.filter { $0.action == .cancel }.compactMap(\.message)
        #expect(cancels.count == 2)
        #expect(cancels[0].hasPrefix("key pr-3: cancelled "))
        #expect(cancels[1] == "key pr-4: nothing pending")
    }

    @Test("a keyed delay outlives the run that made it: the next run on the same history finds its key")
    func keyedSurvivesRestart() throws {
        let store = ReopenableHistory.sqlite()
        let clock = ManualClock(start: Self.start)
        let first = try run(store, clock: clock, [(.zero, event("pr.opened", pr: 9))], end: .seconds(60))
        #expect(first.summary.pending == 1)
        let second = try run(store, clock: clock, [(.seconds(120), event("pr.merged", pr: 9))], end: .seconds(3 * 86_400))
        #expect(second.emitted == [])
        #expect(second.outcomes.filter { $0.action == .cancel }.count == 1)
        #expect(second.summary.pending == 0)
    }

    @Test("replay = live for delays: replaying the input on its own time gives the reminders and cancels of running it live")
    func replayEqualsLive() throws {
        var events: [Event] = []
        var generator = SplitMix64(seed: 7)
        var hours: Int64 = 0
        for index in 0..<300 {
            hours += Int64.random(in: 0...6, using: &generator)
            let pr = Int.random(in: 1...25, using: &generator)
            let type = ["pr.opened", "pr.opened", "pr.merged", "pr.closed", "pr.reopened"][Int.random(in: 0..<5, using: &generator)]
            events.append(Event(type: type, payload: ["pr": .int(Int64(pr))], id: "e\(index)", time: Self.start.advanced(by: .seconds(hours * 3_600))))
        }
        let (ruleSet, diagnostics) = RuleSetLoader.load(documents: [(file: "rules.yaml", text: Self.rules)])
        let rules = try #require(ruleSet, "\(diagnostics.sorted)")
        func run(replay: Bool) throws -> (emitted: [String], actions: [String]) {
            var configuration = RunConfiguration(ruleSet: rules, principal: "user:test")
            configuration.workerCount = 1
            let clock = ManualClock(start: Self.start)
            configuration.clock = clock
            configuration.replay = replay
            let output = CollectingOutput()
            let pipeline = try RunPipeline(configuration: configuration, output: output, stop: try StopRequest())
            if replay {
                _ = try pipeline.feed(ArrayEventSource(events: events.map { .success($0) }))
            } else {
                for event in events {
                    clock.advance(to: event.time)
                    pipeline.waitUntilIdle()
                    _ = try pipeline.feed(ArrayEventSource(events: [.success(event)]))
                    pipeline.waitUntilIdle()
                }
            }
            _ = pipeline.finish()
            let actions = output.outcomes.map { "\($0.eventID) \($0.rule) \($0.action) \($0.key ?? "-")" }
            // The input events' outcomes (ids e0, e1, …); derived events' generated ids differ between runs.
            let inputs = actions.filter { $0.split(separator: " ")[0].dropFirst().allSatisfy(\.isNumber) && $0.hasPrefix("e") }
            return (output.emitted.map { "\($0.payload.jsonText) \($0.time)" }, inputs)
        }
        let live = try run(replay: false)
        #expect(live.emitted.count > 5)
        let replayed = try run(replay: true)
        #expect(replayed.emitted == live.emitted)
        #expect(replayed.actions == live.actions)
    }
}
