import Foundation
import SymphonyEngine
import SymphonyEvents
import SymphonyJSON
import SymphonyPipeline
import SymphonyRecords
import SymphonyRules
import Testing

/// The run pipeline (queue, sealing, workers, history) against a reference: the dry run, which
/// evaluates the same rules on each event directly, with no queue, envelope or store. On a seeded,
/// mixed workload both must produce the same actions, derived events and audit messages, and the
/// history must hold a row for each. The pipeline's workers read each payload in place from the
/// opened envelope's bytes, the dry run from the event's tree: nested objects, arrays read from
/// both ends and non-ASCII keys and text check that both read the same values.
@Suite(.timeLimit(.minutes(12))) struct DifferentialTests {
    static let rules = """
        intents:
          - name: refund
            patterns: ['(?:refund|money back)\\b.*?(?:order|#)\\s*#?(?<order>\\d{3,})']
            keywords: [refund, {keyword: money back, weight: 0.5}, reimburse]
          - name: outage
            keywords: [down, outage, {keyword: not working, weight: 0.6}, broken]
        rules:
          - name: probes
            on: web.request
            priority: 10
            when: {field: payload.path, in: ["/health", "/ready"]}
            actions: [stop]
          - name: server-error
            on: web.request
            when: {field: payload.status, gte: 500}
            actions:
              - publish: {type: web.error, priority: 2, payload: {path: "{{ payload.path }}", status: "{{ payload.status }}"}}
          - name: slow
            on: web.request
            when: [{field: payload.ms, gt: 900}, {not: {field: payload.method, equals: GET}}]
            actions: [{audit: "slow {{ payload.method }} {{ payload.path }} {{ payload.ms }}ms"}]
          - name: failed-login
            on: auth.line
            when: {field: payload.line, matches: 'Failed password for (?:invalid user )?(?<user>\\S+) from (?<ip>[\\d.]+)'}
            actions:
              - publish: {type: auth.failure, payload: {user: "{{ captures.user }}", ip: "{{ captures.ip }}"}}
          - name: root
            on: auth.failure
            when: {field: payload.user, equals: root}
            actions: [{emit: {type: alert.root, payload: {ip: "{{ payload.ip }}"}}}, {delay: {after: 0s, type: alert.followup, payload: {ip: "{{ payload.ip }}"}}}]
          - name: followup
            on: alert.followup
            actions: [{audit: "followed up {{ payload.ip }}"}]
          - name: refund
            on: ticket.*
            when: {intent: refund}
            actions:
              - publish: {type: billing.refund, payload: {order: "{{ intent.slots.order }}", score: "{{ intent.score }}"}}
          - name: outage
            on: ticket.*
            when: {any: [{intent: outage}, {field: payload.text, contains: "ERROR"}]}
            actions: [{emit: {type: ops.page, payload: {text: "{{ payload.text }}"}}}]
          - name: every-error
            on: "**.error"
            actions: [{audit: "error {{ type }}"}]
          - name: gold-order
            on: order.placed
            when:
              - {field: payload.customer.tier, in: [gold, platinum]}
              - {field: "payload.items[-1].sku", exists: true}
              - {field: "payload.items[0].qty", gte: 2}
            actions:
              - publish: {type: order.vip, payload: {first: "{{ payload.items[0].sku }}", last: "{{ payload.items[-1].sku }}", who: "{{ payload.customer }}"}}
          - name: named-customer
            on: order.placed
            when: {field: payload.customer.nom, matches: '^(?<initial>\\p{L})'}
            actions: [{audit: "customer {{ payload.customer.nom }} initial {{ captures.initial }} note {{ payload.note | json }}"}]
          - name: vip-note
            on: order.vip
            when: {not: {field: payload.first, equals: ""}}
            actions: [{audit: "vip {{ payload.first }}..{{ payload.last }} {{ payload | json }}"}]
        """

    /// A seeded mix of HTTP requests, sshd lines and tickets.
    static func workload(count: Int) -> [Event] {
        var generator = SplitMix64(seed: 42)
        func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &generator)] }
        let texts = [
            "I want a refund for order #12345 please", "the site is down again", "money back on order 777 now",
            "everything is fine, thanks", "ERROR 42 when I log in", "it is not working, reimburse me", "where is my parcel",
        ]
        return (0..<count).map { index in
            switch Int.random(in: 0..<11, using: &generator) {
            case 0..<5:
                return Event(
                    type: "web.request",
                    payload: [
                        "path": .string(pick(["/", "/api/pay", "/health", "/login", "/ready"])), "status": .int(pick([200, 200, 404, 500, 503])),
                        "ms": .int(Int64.random(in: 1...1_500, using: &generator)), "method": .string(pick(["GET", "POST", "PUT"])),
                    ], priority: Int.random(in: 0...9, using: &generator), id: "in-\(index)")
            case 5..<8:
                let user = pick(["root", "admin", "invalid user oracle", "alice"])
                return Event(
                    type: "auth.line", payload: ["line": .string("sshd[1]: Failed password for \(user) from 10.0.0.\(index % 7) port 22")],
                    id: "in-\(index)")
            case 8:
                // Nested objects, arrays read from both ends, numbers of both kinds and non-ASCII keys and text.
                let items: [JSONValue] = (0..<Int.random(in: 0...3, using: &generator)).map { item in
                    ["sku": .string(pick(["A-1", "B-22", "Ω-3", "a much longer stock keeping unit"])), "qty": .int(Int64(item + 1) * pick([1, 2])),
                     "price": .double(pick([9.5, 12.0, 0.25]))]
                }
                return Event(
                    type: "order.placed",
                    payload: [
                        "customer": ["tier": .string(pick(["gold", "silver", "platinum"])), "nom": .string(pick(["Élodie", "zoë", "王芳", "9lives"]))],
                        "items": .array(items), "note": pick([nil, "fragile", ["gift": true, "wrap": "red"]]),
                    ], id: "in-\(index)")
            default:
                return Event(type: pick(["ticket.created", "ticket.updated"]), payload: ["text": .string(pick(texts))], id: "in-\(index)")
            }
        }
    }

    /// An action as both paths describe it: rule, kind, derived event (type, priority, payload, rule and hop of its causation) and message.
    static func describe(rule: String, kind: ActionKind, derived: Event?, message: String?) -> String {
        let event = derived.map { "\($0.type) p\($0.priority) \($0.payload.jsonText) \($0.causation?.rule ?? "-")/\($0.causation?.hop ?? 0)" } ?? "-"
        return "\(rule) \(kind.name) \(event) \(message ?? "-")"
    }

    @Test(
        "a run with encryption and history produces exactly the actions the dry run derives, and records one row per action",
        arguments: [false, true])
    func runMatchesDryRun(fromLines: Bool) throws {
        let (loaded, diagnostics) = RuleSetLoader.load(documents: [(file: "rules.yaml", text: Self.rules)])
        let ruleSet = try #require(loaded, "\(diagnostics.sorted)")
        let events = Self.workload(count: 3_000)

        let (recorder, recorded) = try Backend.sqlite.make()
        var configuration = RunConfiguration(ruleSet: ruleSet, principal: "user:test")
        configuration.history = recorder
        configuration.workerCount = 2
        let output = CollectingOutput()
        let pipeline = try RunPipeline(configuration: configuration, output: output, stop: try StopRequest())
        if fromLines {
            // As JSON lines from a file: the payloads are parsed straight into their encoded form.
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("differential-\(UUID().uuidString).jsonl").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try events.map { EventJSON.object($0).jsonText + "\n" }.joined().write(toFile: path, atomically: true, encoding: .utf8)
            _ = try pipeline.feed(LineEventSource(paths: [path], rawLinesType: nil, report: { _ in }))
        } else {
            _ = try pipeline.feed(ArrayEventSource(events: events.map { .success($0) }))
        }
        let summary = pipeline.finish()
        #expect(summary.errors == 0)
        #expect(summary.read == events.count && summary.rejected == 0)
        let ran = output.outcomes.map { Self.describe(rule: $0.rule, kind: $0.action, derived: $0.derivedEvent, message: $0.message) }.sorted()

        let dryRun = DryRun(ruleSet: ruleSet)
        var expected: [String] = []
        for event in events {
            for step in dryRun.trace(event) {
                for rule in step.rules where rule.matched {
                    for action in rule.actions {
                        expected.append(Self.describe(rule: rule.rule, kind: action.kind, derived: action.derived, message: action.message))
                    }
                }
            }
        }
        #expect(ran.count > 3_000)
        #expect(ran == expected.sorted())
        let history = try recorded()
        #expect(history.executions.count == ran.count)
        #expect(history.eventTypes.values.reduce(0, +) == events.count + output.outcomes.filter { $0.derivedEvent != nil }.count)
    }
}
