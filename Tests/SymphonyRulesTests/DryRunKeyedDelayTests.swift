import SymphonyEngine
import SymphonyEvents
import SymphonyJSON
import SymphonyRules
import Testing

/// Keyed delays in the dry run: kept on its virtual clock across the traced events, fired in
/// the trace of the first event at or after their due time (or at the end), cancelled by
/// `cancel:` and `unless:` before that.
@Suite struct DryRunKeyedDelayTests {
    static let rules = """
        rules:
          - name: remind-review
            on: pr.opened
            actions:
              - delay: {after: 2d, key: "pr-{{ payload.pr }}", unless: {on: pr.merged}, type: review.reminder, payload: {pr: "{{ payload.pr }}"}}
          - name: nudge
            on: pr.reopened
            actions:
              - delay: {after: 1h, key: "pr-{{ payload.pr }}", if_pending: keep, type: review.reminder, payload: {pr: "{{ payload.pr }}"}}
          - name: closed
            on: pr.closed
            actions: [{cancel: {key: "pr-{{ payload.pr }}"}}]
          - name: remind
            on: review.reminder
            actions: [{emit: {type: reminded, payload: {pr: "{{ payload.pr }}"}}}]
        """

    static let start = Timestamp(secondsSinceEpoch: 1_764_000_000)

    func event(_ type: String, pr: Int, hours: Int64) -> Event {
        Event(type: type, payload: ["pr": .int(Int64(pr))], id: "\(type)-\(pr)-\(hours)", time: Self.start.advanced(by: .seconds(hours * 3_600)))
    }

    /// The prs reminded in a trace.
    func reminded(_ steps: [DryRun.Step]) -> [JSONValue] {
        steps.flatMap(\.rules).flatMap(\.actions).compactMap { $0.kind == .emit ? $0.derived?.payload["pr"] : nil }
    }

    @Test("a delay is held until an event past its due time, and unless and cancel remove theirs before that")
    func virtualClock() throws {
        let dryRun = DryRun(ruleSet: try validRules(Self.rules))
        #expect(reminded(dryRun.trace(event("pr.opened", pr: 1, hours: 0))) == [])
        #expect(reminded(dryRun.trace(event("pr.opened", pr: 2, hours: 1))) == [])
        #expect(reminded(dryRun.trace(event("pr.opened", pr: 3, hours: 2))) == [])
        let merged = dryRun.trace(event("pr.merged", pr: 1, hours: 3))
        #expect(merged.first?.notes.count == 1)
        #expect(merged.first?.notes.first?.hasPrefix("unless pr.merged: cancels the pending delay of key pr-1 (review.reminder ") == true)
        let closed = dryRun.trace(event("pr.closed", pr: 3, hours: 4))
        #expect(closed.first?.rules.first?.actions.first?.message?.hasPrefix("key pr-3: cancelled ") == true)
        // Two days later: pr 2's reminder is due before this event, and is traced first.
        let later = dryRun.trace(event("pr.reopened", pr: 5, hours: 50))
        #expect(reminded(later) == [2])
        #expect(later.first?.event.type == "review.reminder")
        #expect(dryRun.tracePendingKeyedDelays().map { reminded($0.steps) } == [[5]])
        #expect(dryRun.tracePendingKeyedDelays().isEmpty)
    }

    @Test("if_pending: keep keeps the pending delay and schedules nothing; a cancel with nothing pending says so")
    func keepAndNothingPending() throws {
        let dryRun = DryRun(ruleSet: try validRules(Self.rules))
        _ = dryRun.trace(event("pr.opened", pr: 7, hours: 0))
        let kept = dryRun.trace(event("pr.reopened", pr: 7, hours: 1))
        let message = try #require(kept.first?.rules.first?.actions.first?.message)
        #expect(message.hasPrefix("key pr-7: kept the pending ") && message.hasSuffix("; nothing scheduled"))
        #expect(kept.first?.rules.first?.actions.first?.derived == nil)
        let none = dryRun.trace(event("pr.closed", pr: 8, hours: 2))
        #expect(none.first?.rules.first?.actions.first?.message == "key pr-8: nothing pending")
        #expect(dryRun.tracePendingKeyedDelays().map { reminded($0.steps) } == [[7]])
    }
}
