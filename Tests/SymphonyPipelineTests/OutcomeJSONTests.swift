import SymphonyJSON
import SymphonyEvents
import SymphonyRecords
import Testing

@testable import SymphonyEngine

/// `--format ndjson` writes each outcome straight into bytes: every line must be what the
/// outcome's JSON object printed (keys sorted).
@Suite struct OutcomeJSONTests {
    @Test("every kind of outcome, with every optional field or none, prints as its JSON object does")
    func outcomesPrintAsTheirObjects() throws {
        let started = Timestamp(nanosecondsSinceEpoch: 1_700_000_000_123_456_789)
        let finished = Timestamp(nanosecondsSinceEpoch: 1_700_000_000_123_999_000)
        let derived = Event(
            type: "ticket.escalated", payload: ["text": "café \"urgent\"\n", "n": 2.5], priority: 1, id: "d-1", source: "rules",
            time: started, causation: Causation(parentID: "e\"1", rule: "escalate", hop: 1))
        let opened = try EventBodyCodec.decode(EventBodyCodec.encode(derived), id: derived.id, type: derived.type, priority: derived.priority)
        let request = ActionRequest.exec(
            ExecSpec(command: ["/bin/true"], workingDirectory: nil, environment: [], standardInput: nil, timeout: .seconds(1), outputLimit: 10, successStatuses: [0]))
        let entry = OutboxEntry(eventID: "e\"1", eventType: "ticket.created", rule: "run", actionIndex: 0, request: request, retry: .default, gateKey: nil, queued: started)
        var outcomes: [ActionOutcome] = []
        for kind in [ActionKind.publish, .delay, .audit, .emit, .exec] {
            for status in [ActionOutcome.Status.ok, .failed, .denied, .skipped] {
                outcomes.append(
                    ActionOutcome(
                        eventID: "e\"1", eventType: "ticket.created", rule: "rule\u{2028}", action: kind, status: status, error: nil,
                        started: started, finished: finished, derivedEvent: nil, due: nil, message: nil))
                var full = ActionOutcome(
                    eventID: "e-2", eventType: "t", rule: "r", action: kind, status: status, error: "it \"failed\"\u{1}",
                    started: started, finished: finished, derivedEvent: kind == .delay ? opened : derived, due: finished, message: "audit: ü\t")
                full.key = "ip 10.0.0.1"
                full.queued = entry
                outcomes.append(full)
            }
        }
        for outcome in outcomes {
            var writer = JSONWriter()
            outcome.writeJSON(to: &writer)
            #expect(writer.text == outcome.json.jsonText)
        }
    }
}
