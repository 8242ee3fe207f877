import SymphonyJSON
import SymphonyEngine
import SymphonyEvents
import SymphonyRules
import Testing

@Suite struct RuleEngineTests {
    func engine(_ text: String, hopLimit: Int = RuleEngine.defaultHopLimit) throws -> (RuleEngine, RecordingEffects) {
        let effects = RecordingEffects()
        let engine = RuleEngine(ruleSet: try validRules(text), effects: effects, clock: ManualClock(), hopLimit: hopLimit)
        effects.engine = engine
        return (engine, effects)
    }

    func fires(_ condition: String, on payload: JSONValue) throws -> Bool {
        let (engine, _) = try engine("rules:\n  - name: r\n    on: t\n    when: \(condition)\n    actions: [stop]\n")
        return !engine.process(Event(type: "t", payload: payload)).isEmpty
    }

    @Test("every field operator", arguments: [
        ("{field: payload.n, equals: 5}", ["n": 5.0], true),
        ("{field: payload.s, equals: 'é'}", ["s": "e\u{301}"], false),
        ("{field: payload.s, equals: 'é'}", ["s": "é"], true),
        ("{field: payload.s, contains: 'e'}", ["s": "e\u{301}"], true),
        ("{field: payload.s, contains: ''}", ["s": "anything"], true),
        ("{field: payload.s, contains: ''}", ["s": ""], true),
        ("{field: payload.l, equals: [[5]]}", ["l": [[5.0]]], true),
        ("{field: payload.o, equals: {k: 'é'}}", ["o": ["k": "e\u{301}"]], false),
        ("{field: payload.n, equals: 5}", ["n": 6], false),
        ("{field: payload.s, equals: 'x'}", ["s": "x"], true),
        ("{field: payload.s, not_equals: 'x'}", ["s": "y"], true),
        ("{field: payload.s, not_equals: 'x'}", [:], true),
        ("{field: payload.s, in: [a, b]}", ["s": "b"], true),
        ("{field: payload.s, in: [a, b]}", ["s": "c"], false),
        ("{field: payload.s, exists: true}", ["s": nil], true),
        ("{field: payload.s, exists: false}", [:], true),
        ("{field: payload.n, gt: 5}", ["n": 5], false),
        ("{field: payload.n, gte: 5}", ["n": 5], true),
        ("{field: payload.n, lt: 5}", ["n": 4.5], true),
        ("{field: payload.n, lte: 5}", ["n": "5"], false),
        ("{field: payload.s, contains: fund}", ["s": "refund"], true),
        ("{field: payload.tags, contains: vip}", ["tags": ["new", "vip"]], true),
        ("{field: payload.s, matches: '^re'}", ["s": "refund"], true),
        ("{field: payload.s, matches: '^RE'}", ["s": "refund"], false),
        ("{field: payload.user.name, equals: ada}", ["user": ["name": "ada"]], true),
        ("{all: [{field: payload.a, exists: true}, {field: payload.b, exists: true}]}", ["a": 1], false),
        ("{any: [{field: payload.a, exists: true}, {field: payload.b, exists: true}]}", ["b": 1], true),
        ("{not: {field: payload.a, exists: true}}", ["a": 1], false),
        ("[{field: payload.a, equals: 1}, {field: payload.b, equals: 2}]", ["a": 1, "b": 2], true),
    ] as [(String, JSONValue, Bool)])
    func operators(condition: String, payload: JSONValue, expected: Bool) throws {
        #expect(try fires(condition, on: payload) == expected)
    }

    @Test("higher salience runs first, ties run in file order, and stop ends evaluation")
    func salienceAndStop() throws {
        let (engine, effects) = try engine("""
            rules:
              - {name: low, on: t, priority: -1, actions: [{audit: low}]}
              - {name: first-tie, on: t, priority: 5, actions: [{audit: first-tie}]}
              - {name: high, on: "**", priority: 9, actions: [{audit: high}]}
              - {name: second-tie, on: t, priority: 5, actions: [{audit: second-tie}, stop]}
              - {name: after-stop, on: t, priority: 5, actions: [{audit: after-stop}]}
            """)
        let outcomes = engine.process(Event(type: "t"))
        #expect(effects.audits == ["high", "first-tie", "second-tie"])
        #expect(outcomes.map(\.action) == [.audit, .audit, .audit, .stop])
        #expect(engine.statistics.rulesFired == 3)
    }

    @Test("templates render event fields, captures and intent slots; a lone placeholder keeps its JSON type")
    func templates() throws {
        let (engine, effects) = try engine("""
            intents:
              - name: refund
                patterns: ['order (?<order>\\d+)']
            rules:
              - name: r
                on: ticket.*
                when:
                  all:
                    - {field: payload.from, matches: '(?<user>\\w+)@(?<domain>[\\w.]+)'}
                    - {intent: refund}
                actions:
                  - publish:
                      type: "billing.{{ captures.domain }}"
                      priority: 1
                      payload:
                        order: "{{ intent.slots.order }}"
                        count: "{{ payload.count }}"
                        text: "{{ captures.user }} ({{ type }}, prio {{ priority }}) score {{ intent.score }}"
                        nested: { missing: "[{{ payload.nothing }}]", list: ["{{ id }}", 3] }
            """)
        engine.process(Event(type: "ticket.created", payload: ["from": "ada@example", "text": "refund order 77", "count": 2], id: "e-9"))
        let derived = try #require(effects.published.first)
        #expect(derived.type == "billing.example")
        #expect(derived.priority == 1)
        #expect(derived.payload["order"] == "77")
        #expect(derived.payload["count"] == 2)
        #expect(derived.payload["text"] == "ada (ticket.created, prio 5) score 0.6")
        #expect(derived.payload["nested"] == ["missing": "[]", "list": ["e-9", 3]])
        #expect(derived.causation == Causation(parentID: "e-9", rule: "r", hop: 1))
        #expect(derived.source == "rule:r")
    }

    @Test("a chain longer than the hop limit stops with an error record instead of looping forever")
    func hopLimit() throws {
        let (engine, effects) = try engine("""
            rules:
              - name: again
                on: loop.*
                actions:
                  - publish: {type: "loop.{{ payload.n }}", payload: {n: "{{ payload.n }}"}}
            """, hopLimit: 4)
        engine.process(Event(type: "loop.x", payload: ["n": "x"]))
        #expect(effects.published.count == 4)
        #expect(effects.published.map { $0.causation?.hop } == [1, 2, 3, 4])
        let failures = engine.statistics.failures
        #expect(failures == 1)
        // The failed action says why: an event already at the limit derives nothing more.
        let atLimit = Event(type: "loop.x", payload: ["n": "x"], id: "e-4", causation: Causation(parentID: "e-3", rule: "again", hop: 4))
        let outcomes = engine.process(atLimit)
        #expect(outcomes.map(\.status) == [.failed])
        #expect(outcomes.first?.error == "hop limit 4 reached: event e-4 is already 4 derivations from its input event; the chain stops here")
    }

    @Test("a derived payload nesting deeper than a queued event may is a failed action, in runs and dry runs alike")
    func derivedPayloadTooDeep() throws {
        let rules = """
            rules:
              - name: wrap
                on: t
                actions:
                  - publish: {type: t.b, payload: {a: {b: {c: {d: "{{ payload }}"}}}}}
            """
        let (engine, effects) = try engine(rules)
        var nested: JSONValue = .int(1)
        for _ in 0..<253 { nested = .array([nested]) }
        let event = Event(type: "t", payload: ["x": nested])
        let outcomes = engine.process(event)
        #expect(outcomes.map(\.status) == [.failed])
        #expect(outcomes.first?.error == "the derived event's payload nests deeper than 256 levels")
        #expect(effects.published.isEmpty)
        let steps = DryRun(ruleSet: try validRules(rules)).trace(event)
        #expect(steps.count == 1)
        #expect(steps.first?.rules.first?.actions.first?.error == "the derived event's payload nests deeper than 256 levels")
        // Shallower payloads still pass, up to exactly the limit (the value `1` at nesting 256).
        #expect(engine.process(Event(type: "t", payload: ["x": [1]])).map(\.status) == [.ok])
        func wrapped(_ arrays: Int) -> Event {
            var value: JSONValue = .int(1)
            for _ in 0..<arrays { value = .array([value]) }
            return Event(type: "t", payload: ["x": value])
        }
        #expect(engine.process(wrapped(251)).map(\.status) == [.ok])
        #expect(engine.process(wrapped(252)).map(\.status) == [.failed])
    }

    @Test("a derived type that renders invalid fails that action only")
    func invalidDerivedType() throws {
        let (engine, effects) = try engine("""
            rules:
              - name: r
                on: t
                actions:
                  - publish: {type: "x.{{ payload.missing }}"}
                  - audit: "still runs"
            """)
        let outcomes = engine.process(Event(type: "t"))
        #expect(outcomes.map(\.status) == [.failed, .ok])
        #expect(outcomes[0].error == "the derived event's type rendered to 'x.': invalid event type 'x.': it has an empty segment.")
        #expect(effects.audits == ["still runs"])
    }

    @Test("delay schedules at now + after, or at a rendered RFC 3339 time")
    func delays() throws {
        let (engine, effects) = try engine("""
            rules:
              - name: r
                on: t
                actions:
                  - delay: {after: 1h30m, type: later}
                  - delay: {at: "{{ payload.due }}", type: at.time}
            """)
        engine.process(Event(type: "t", payload: ["due": "2026-12-01T09:00:00Z"]))
        let scheduled = effects.scheduled
        #expect(scheduled.map(\.0.type) == ["later", "at.time"])
        #expect(scheduled[0].1 == ManualClock().now().advanced(by: .seconds(5400)))
        #expect(scheduled[1].1 == Timestamp(secondsSinceEpoch: 1_796_115_600))
    }

    @Test("an event is evaluated only against rules whose 'on' can match its type")
    func ruleIndex() throws {
        let ruleSet = try validRules("""
            rules:
              - {name: exact, on: ticket.created, actions: [stop]}
              - {name: one, on: "ticket.*", actions: [stop]}
              - {name: many, on: "ssh.**", actions: [stop]}
              - {name: both, on: [deploy, "ssh.*.failed"], priority: 3, actions: [stop]}
            """)
        #expect(ruleSet.rules(for: "ticket.created").map(\.name) == ["exact", "one"])
        #expect(ruleSet.rules(for: "ssh.login.failed").map(\.name) == ["both", "many"])
        #expect(ruleSet.rules(for: "deploy").map(\.name) == ["both"])
        #expect(ruleSet.rules(for: "other").isEmpty)
    }
}

@Suite struct DryRunTests {
    @Test("a dry run follows published and delayed events on a virtual clock and reports why rules did not match")
    func followsChains() throws {
        let ruleSet = try validRules("""
            rules:
              - name: big
                on: order.placed
                when: {field: payload.total, gt: 100}
                actions:
                  - publish: {type: order.review, payload: {total: "{{ payload.total }}"}}
                  - delay: {after: 24h, type: order.reminder}
              - name: review
                on: order.review
                actions: [{emit: {type: mail.reviewer}}]
            """)
        let start = Timestamp(secondsSinceEpoch: 1_700_000_000)
        let steps = DryRun(ruleSet: ruleSet).trace(Event(type: "order.placed", payload: ["total": 250], time: start))
        #expect(steps.map(\.event.type) == ["order.placed", "order.review", "order.reminder"])
        #expect(steps.map(\.at) == [start, start, start + .seconds(86_400)])
        #expect(steps[1].rules.first?.actions.first?.derived?.type == "mail.reviewer")
        let small = DryRun(ruleSet: ruleSet).trace(Event(type: "order.placed", payload: ["total": 5], time: start))
        #expect(small.count == 1)
        #expect(small[0].rules.first?.failure == "payload.total is 5, not > 100")
    }
}

@Suite struct DurationAndTimeParsingTests {
    @Test("durations", arguments: [
        ("500ms", Duration.milliseconds(500)), ("30s", .seconds(30)), ("5m", .seconds(300)), ("24h", .seconds(86_400)),
        ("2d", .seconds(172_800)), ("1h30m", .seconds(5_400)), ("36500d", .seconds(36_500 * 86_400)),
    ])
    func durations(text: String, expected: Duration) {
        #expect(DurationParser.parse(text) == expected)
    }

    @Test("bad durations, and durations past 100 years (which would overflow)", arguments: [
        "", "5", "m", "5 minutes", "1x", "99999999999999999999s", "36501d", "36500d1ms", "9223372036854775807d", "2562047788015216h",
        "106751991167301d", "36500d36500d",
    ])
    func badDurations(text: String) {
        #expect(DurationParser.parse(text) == nil)
    }

    @Test("a duration's nanoseconds saturate instead of trapping")
    func saturatingNanoseconds() {
        #expect(Duration.seconds(Int64.max).nanoseconds == .max)
        #expect((Duration.seconds(Int64.max) * 10).nanoseconds == .max)  // seconds past Int64: components alone would trap
        #expect((Duration.zero - .seconds(Int64.max) * 10).nanoseconds == .min)
        #expect(Duration.milliseconds(1_500).nanoseconds == 1_500_000_000)
    }

    @Test("RFC 3339 times")
    func times() {
        #expect(TimestampParser.parse("2026-12-01T09:00:00Z") == Timestamp(secondsSinceEpoch: 1_796_115_600))
        #expect(TimestampParser.parse("2026-12-01T10:00:00.5+01:00") == Timestamp(nanosecondsSinceEpoch: 1_796_115_600_500_000_000))
        #expect(TimestampParser.parse("1970-01-01T00:00:00Z") == Timestamp(nanosecondsSinceEpoch: 0))
        #expect(TimestampParser.parse("2026-13-01T00:00:00Z") == nil)
        #expect(TimestampParser.parse("tomorrow") == nil)
        // Outside what nanoseconds in an Int64 can hold (1677-09-21 … 2262-04-11): not a timestamp, not a crash.
        #expect(TimestampParser.parse("2300-01-01T00:00:00Z") == nil)
        #expect(TimestampParser.parse("1600-01-01T00:00:00Z") == nil)
        #expect(TimestampParser.parse("9999-12-31T23:59:59Z") == nil)
        #expect(TimestampParser.parse("2262-04-11T23:47:16Z") == Timestamp(nanosecondsSinceEpoch: 9_223_372_036_000_000_000))
        // Days that do not exist, and offsets beyond 23:59.
        #expect(TimestampParser.parse("2026-02-30T00:00:00Z") == nil)
        #expect(TimestampParser.parse("2023-02-29T00:00:00Z") == nil)
        #expect(TimestampParser.parse("2024-02-29T00:00:00Z") != nil)
        #expect(TimestampParser.parse("2026-04-31T00:00:00Z") == nil)
        #expect(TimestampParser.parse("2026-11-29T05:00:01+99:99") == nil)
        #expect(TimestampParser.parse("2026-11-29T05:00:01+24:00") == nil)
        #expect(TimestampParser.parse("2026-11-29T05:00:01-23:59") != nil)
        #expect(TimestampParser.parse("2026-12-01T09:00:00") == nil)
    }
}

import SymphonyAccess

@Suite struct RuleEngineAccessTests {
    @Test("actions run as run_as, else the owner; a denied publish is an outcome 'denied' and does not run")
    func denials() throws {
        let ruleSet = try validRules("""
            owner: team:billing
            rules:
              - name: owned
                on: t
                actions: [{publish: {type: billing.charge}}, {publish: {type: alerts.page}}]
              - name: delegated
                on: t
                run_as: bot:pager
                actions: [{publish: {type: alerts.page}}, {delay: {after: 1m, type: billing.later}}]
              - name: charged
                on: billing.charge
                actions: [stop]
            """)
        let policy = AccessPolicy(
            roles: ["billing": [.publish(try .init("billing.*"))], "pager": [.publish(try .init("alerts.*"))]],
            principals: ["team:billing": ["billing"], "bot:pager": ["pager"]])
        let effects = RecordingEffects()
        let engine = RuleEngine(ruleSet: ruleSet, effects: effects, clock: ManualClock(), access: AccessGuard(policy: policy))
        let outcomes = engine.process(Event(type: "t"))
        #expect(outcomes.map(\.status) == [.ok, .denied, .ok, .denied])
        #expect(outcomes.map(\.principal) == ["team:billing", "team:billing", "bot:pager", "bot:pager"])
        #expect(outcomes[1].error == "access denied: 'team:billing' lacks the permission 'events:publish:alerts.page'")
        #expect(effects.published.map(\.type) == ["billing.charge", "alerts.page"])
        #expect(effects.scheduled.isEmpty)
        #expect(engine.statistics.denials == 2)

        // A derived event arriving later (e.g. a stored delay) is checked again as its maker's principal.
        let late = Event(type: "alerts.page", causation: Causation(parentID: "p", rule: "owned", hop: 1))
        let refused = engine.process(late)
        #expect(refused.map(\.status) == [.denied])
        #expect(refused.first?.principal == "team:billing")
        let allowed = Event(type: "billing.charge", causation: Causation(parentID: "p", rule: "owned", hop: 1))
        #expect(engine.process(allowed).map(\.status) == [.ok])  // passes the re-check, and rule 'charged' runs
    }
}

@Suite struct DryRunLimitTests {
    @Test("a trace cut at the step limit says so; one that ends does not")
    func truncation() throws {
        let publishes = Array(repeating: "{publish: {type: f.y}}", count: 20).joined(separator: ", ")
        let fanOut = try validRules("rules:\n  - {name: many, on: f.x, actions: [\(publishes)]}\n")
        let cut = DryRun(ruleSet: fanOut, stepLimit: 10).traceReport(Event(type: "f.x"))
        #expect(cut.steps.count == 10)
        #expect(cut.truncated)
        let ends = try validRules("rules:\n  - {name: once, on: f.x, actions: [{publish: {type: f.y}}]}\n")
        let whole = DryRun(ruleSet: ends, stepLimit: 10).traceReport(Event(type: "f.x"))
        #expect(whole.steps.count == 2)
        #expect(!whole.truncated)
        // Exactly at the limit with nothing left is not cut.
        #expect(!DryRun(ruleSet: ends, stepLimit: 2).traceReport(Event(type: "f.x")).truncated)
    }
}

@Suite(.timeLimit(.minutes(12))) struct DerivedEventBudgetTests {
    static let fanOut = """
        rules:
          - name: fan
            on: "fan.**"
            actions:
              - publish: {type: "{{ type }}"}
              - publish: {type: "{{ type }}"}
              - publish: {type: "{{ type }}"}
              - publish: {type: "{{ type }}"}
        """

    @Test("every event derived from one input event, at any depth, draws on its budget; past it the action fails and says so")
    func budgetStopsFanOut() throws {
        let effects = RecordingEffects()
        let engine = RuleEngine(ruleSet: try validRules(Self.fanOut), effects: effects, clock: ManualClock(), derivedEventBudget: 10)
        effects.engine = engine  // published events are processed at once, depth first
        engine.process(Event(type: "fan.out", id: "in-1"))
        // 10 derived events, then every later publish fails: 11 events processed × 4 actions.
        #expect(effects.published.count == 10)
        #expect(engine.statistics.actions["publish"] == 10)
        #expect(engine.statistics.failures == 34)
        #expect(engine.derivedEventBudget == 10)
        // Nothing derived is waiting, so nothing is held for the input event any more.
        #expect(engine.derivedEventsAwaitingProcessing == 0)

        // Another input event has a budget of its own.
        let outcomes = engine.process(Event(type: "fan.out", id: "in-2"))
        #expect(effects.published.count == 20)
        #expect(outcomes.map(\.status) == [.ok, .failed, .failed, .failed])
        #expect(outcomes[1].error == "derived-event budget of 10 for input event in-2 exhausted")
        #expect(engine.statistics.failures == 68)
    }

    @Test("delays draw on the budget too, and a delayed event still carries it when it fires")
    func delaysCount() throws {
        let effects = RecordingEffects()
        let engine = RuleEngine(
            ruleSet: try validRules("""
                rules:
                  - name: later
                    on: "d.**"
                    actions:
                      - delay: {after: 1m, type: "{{ type }}"}
                      - delay: {after: 1m, type: "{{ type }}"}
                """), effects: effects, clock: ManualClock(), derivedEventBudget: 3)
        #expect(engine.process(Event(type: "d.x", id: "in-1")).map(\.status) == [.ok, .ok])
        #expect(engine.derivedEventsAwaitingProcessing == 2)  // scheduled, not yet processed
        let firstDelayed = effects.scheduled[0].0
        let outcomes = engine.process(firstDelayed)
        #expect(outcomes.map(\.status) == [.ok, .failed])
        #expect(outcomes[1].error == "derived-event budget of 3 for input event in-1 exhausted")
        #expect(engine.derivedEventsAwaitingProcessing == 2)  // one taken, one entered
        // Processing the rest releases every entry; the budget is used up for all of them.
        for (event, _) in effects.scheduled.dropFirst() {
            #expect(engine.process(event).map(\.status) == [.failed, .failed])
        }
        #expect(engine.derivedEventsAwaitingProcessing == 0)
        // A derived event the engine never entered (fired after a restart) starts a budget of its own.
        let restarted = Event(type: "d.x", id: "late-1", causation: Causation(parentID: "gone", rule: "later", hop: 1))
        #expect(engine.process(restarted).map(\.status) == [.ok, .ok])
    }

    @Test("a refused publish gives its unit back: only events that went out count")
    func refusedPublishRefunds() throws {
        struct Refusing: ActionEffects {
            struct Full: Error {}
            func publish(_ event: Event) throws -> SealedEvent? { throw Full() }
            func schedule(_ event: Event, at due: Timestamp) throws -> SealedEvent? { nil }
            func audit(rule: String, event: Event, message: String) throws {}
            func emit(_ event: Event) throws {}
        }
        let engine = RuleEngine(
            ruleSet: try validRules("rules:\n  - {name: r, on: t, actions: [{publish: {type: t.a}}, {publish: {type: t.b}}, {delay: {after: 1s, type: t.c}}]}\n"),
            effects: Refusing(), clock: ManualClock(), derivedEventBudget: 1)
        let outcomes = engine.process(Event(type: "t", id: "in-1"))
        #expect(outcomes.map(\.status) == [.failed, .failed, .ok])  // the delay still finds the unit unused
        #expect(engine.derivedEventsAwaitingProcessing == 1)
    }

    @Test("workers processing one input event's derived events at once share its budget exactly")
    func concurrentWorkers() throws {
        var configuration = EventSystemConfiguration()
        configuration.workerCount = 4
        configuration.clock = ManualClock()
        let system = try EventSystem(configuration: configuration)
        struct Effects: ActionEffects {
            let system: EventSystem
            func publish(_ event: Event) throws -> SealedEvent? { try system.publish(event, fromHandler: true) }
            func schedule(_ event: Event, at due: Timestamp) throws -> SealedEvent? { nil }
            func audit(rule: String, event: Event, message: String) throws {}
            func emit(_ event: Event) throws {}
        }
        let engine = RuleEngine(ruleSet: try validRules(Self.fanOut), effects: Effects(system: system), derivedEventBudget: 1_000)
        try system.subscribe("**") { engine.process($0) }
        try system.start()
        try system.publish(Event(type: "fan.out", id: "in-1"))
        system.dispatcher.waitUntilIdle()
        system.stop()
        #expect(engine.statistics.actions["publish"] == 1_000)
        #expect(engine.statistics.failures == 4 * 1_001 - 1_000)
        #expect(system.counters.delivered == 1_001)
        #expect(engine.derivedEventsAwaitingProcessing == 0)
    }

    @Test("a dry run applies the same budget")
    func dryRun() throws {
        let report = DryRun(ruleSet: try validRules(Self.fanOut), derivedEventBudget: 5).traceReport(Event(type: "fan.out", id: "in-1"))
        #expect(!report.truncated)
        #expect(report.steps.count == 6)  // the input event and 5 derived ones
        let actions = report.steps.flatMap { $0.rules.flatMap(\.actions) }
        #expect(actions.filter { $0.error == nil }.count == 5)
        #expect(actions.filter { $0.error == "derived-event budget of 5 for input event in-1 exhausted" }.count == 19)
    }
}
