import SymphonyEngine
import SymphonyEvents
import SymphonyJSON
import SymphonyRules
import Testing

/// `count:` and `throttle:` gates, on event time (no test waits in real time).
@Suite struct RuleGatesTests {
    static let base = Timestamp(secondsSinceEpoch: 1_764_000_000)

    func makeEngine(_ text: String) throws -> (RuleEngine, RecordingEffects) {
        let effects = RecordingEffects()
        let engine = RuleEngine(ruleSet: try validRules(text), effects: effects, clock: ManualClock())
        effects.engine = engine
        return (engine, effects)
    }

    func failure(_ id: String, ip: String, at seconds: Int64, nanoseconds: Int64 = 0) -> Event {
        Event(
            type: "ssh.failure", payload: ["ip": .string(ip)], id: id,
            time: Timestamp(nanosecondsSinceEpoch: Self.base.nanosecondsSinceEpoch + seconds * 1_000_000_000 + nanoseconds))
    }

    static let countRules = """
        rules:
          - name: ban
            on: ssh.failure
            count: {key: "{{ payload.ip }}", at_least: 3, within: 10m, keep_ids: true}
            actions:
              - emit: {type: ssh.ban, payload: {ip: "{{ window.key }}", n: "{{ window.count }}", first: "{{ window.first }}", last: "{{ window.last }}", ids: "{{ window.ids }}"}}
        """

    @Test("exactly at_least events exactly 'within' apart fire; one nanosecond more does not")
    func windowEdges() throws {
        let (engine, effects) = try makeEngine(Self.countRules)
        engine.process(failure("a1", ip: "1", at: 0))
        engine.process(failure("a2", ip: "1", at: 300))
        engine.process(failure("a3", ip: "1", at: 600))
        #expect(effects.emitted.count == 1)
        let ban = try #require(effects.emitted.first)
        #expect(ban.payload["n"] == .int(3))
        #expect(ban.payload["ip"] == "1")
        #expect(ban.payload["ids"] == ["a1", "a2", "a3"])
        #expect(ban.payload["first"] == .string(Self.base.description))
        #expect(ban.payload["last"] == .string(Self.base.advanced(by: .seconds(600)).description))

        let (late, lateEffects) = try makeEngine(Self.countRules)
        late.process(failure("b1", ip: "1", at: 0))
        late.process(failure("b2", ip: "1", at: 300))
        late.process(failure("b3", ip: "1", at: 600, nanoseconds: 1))
        #expect(lateEffects.emitted.isEmpty)
        #expect(late.gates.statistics.counting == 3)
    }

    @Test("keys count apart, a firing empties its key's window, and counting starts again")
    func keysAndReset() throws {
        let (engine, effects) = try makeEngine(Self.countRules)
        for (index, ip) in ["1", "2", "1", "2", "1"].enumerated() {
            engine.process(failure("e\(index)", ip: ip, at: Int64(index)))
        }
        #expect(effects.emitted.map { $0.payload["ip"] } == ["1"])
        engine.process(failure("e5", ip: "1", at: 5))
        engine.process(failure("e6", ip: "1", at: 6))
        #expect(effects.emitted.count == 1, "the window of key 1 restarted after its firing")
        engine.process(failure("e7", ip: "1", at: 7))
        engine.process(failure("e8", ip: "2", at: 8))
        #expect(effects.emitted.map { $0.payload["ip"] } == ["1", "1", "2"])
        #expect(effects.emitted[1].payload["ids"] == ["e5", "e6", "e7"])
    }

    @Test("out-of-order events inside the window count; one older than the window is late")
    func outOfOrder() throws {
        let (engine, effects) = try makeEngine(Self.countRules)
        engine.process(failure("c1", ip: "1", at: 1_000))
        engine.process(failure("c2", ip: "1", at: 100))  // 900 s before the newest: late
        #expect(engine.gates.statistics.late == 1)
        engine.process(failure("c3", ip: "1", at: 700))  // 300 s before: counts
        engine.process(failure("c4", ip: "1", at: 1_200))
        #expect(effects.emitted.count == 1)
        #expect(effects.emitted.first?.payload["ids"] == ["c3", "c1", "c4"], "ids in event-time order")
        #expect(effects.emitted.first?.payload["first"] == .string(Self.base.advanced(by: .seconds(700)).description))
    }

    @Test("past max_keys, windows that can no longer fire go first, then the least recently seen keys (counted)")
    func eviction() throws {
        let (engine, _) = try makeEngine("""
            rules:
              - name: ban
                on: ssh.failure
                count: {key: "{{ payload.ip }}", at_least: 2, within: 1m, max_keys: 10}
                actions: [stop]
            """)
        for index in 0..<10 { engine.process(failure("old\(index)", ip: "old\(index)", at: 0)) }
        engine.process(failure("new", ip: "new", at: 3_600))  // the ten old windows expired: dropped, not evicted
        #expect(engine.gates.keyCount(of: "ban") == 1)
        #expect(engine.gates.statistics.evictedKeys == 0)
        for index in 0..<20 { engine.process(failure("k\(index)", ip: "k\(index)", at: 3_600)) }
        #expect(engine.gates.keyCount(of: "ban") <= 10)
        #expect(engine.gates.statistics.evictedKeys >= 11)
        // The most recently seen key survived and still completes its window.
        let fired = engine.process(failure("k19-again", ip: "k19", at: 3_601))
        #expect(fired.count == 1)
    }

    static let throttleRules = """
        rules:
          - name: page
            on: http.error
            throttle: {key: "{{ payload.path }}", per: 1h}
            actions:
              - emit: {type: page, payload: {path: "{{ throttle.key }}", held: "{{ throttle.suppressed }}"}}
        """

    func error(_ path: String, at seconds: Int64) -> Event {
        Event(type: "http.error", payload: ["path": .string(path)], time: Self.base.advanced(by: .seconds(seconds)))
    }

    @Test("a throttle fires once per key per period and reports what it suppressed on the next firing")
    func throttle() throws {
        let (engine, effects) = try makeEngine(Self.throttleRules)
        engine.process(error("/a", at: 0))
        engine.process(error("/a", at: 1_800))
        engine.process(error("/b", at: 1_801))
        engine.process(error("/a", at: 3_599))
        engine.process(error("/a", at: 3_600))  // exactly one period after the firing: fires
        engine.process(error("/a", at: 3_000))  // out of order, within the period of the new firing
        #expect(effects.emitted.map { $0.payload["path"] } == ["/a", "/b", "/a"])
        #expect(effects.emitted.map { $0.payload["held"] } == [0, 0, 2])
        #expect(engine.gates.statistics.suppressed == 3)
        #expect(engine.statistics.rulesFired == 3, "suppressed events are not firings")
        // Each suppressed event leaves a `skipped` outcome of the rule's first action, with the reason and the key.
        let suppressed = engine.process(error("/a", at: 3_700))
        #expect(suppressed.map(\.status) == [.skipped])
        #expect(suppressed.first?.action == .emit)
        #expect(suppressed.first?.key == "/a")
        #expect(suppressed.first?.message?.hasPrefix("throttle: fired for key /a at ") == true)
        #expect(engine.statistics.failures == 0)
    }

    @Test("count then throttle: the throttle sees only the count's firings and may use window fields in its key")
    func countThenThrottle() throws {
        let (engine, effects) = try makeEngine("""
            rules:
              - name: ban
                on: ssh.failure
                count: {key: "{{ payload.ip }}", at_least: 2, within: 1h}
                throttle: {key: "{{ window.key }}", per: 1d}
                actions: [{emit: {type: ban, payload: {ip: "{{ throttle.key }}"}}}]
            """)
        for second in Int64(0)..<6 { engine.process(failure("x\(second)", ip: "9", at: second)) }
        #expect(effects.emitted.count == 1)
        #expect(engine.gates.statistics.counting == 3)
        #expect(engine.gates.statistics.suppressed == 2)
    }

    @Test("the dry run explains a window that has not fired yet and a suppressed event")
    func dryRunExplains() throws {
        let dryRun = DryRun(ruleSet: try validRules(Self.countRules))
        let first = dryRun.trace(failure("d1", ip: "203.0.113.9", at: 0))
        #expect(first.first?.rules.first?.failure == "count: 1 of 3 events for key 203.0.113.9 within 10m; needs 2 more")
        _ = dryRun.trace(failure("d2", ip: "203.0.113.9", at: 1))
        let third = dryRun.trace(failure("d3", ip: "203.0.113.9", at: 2))
        #expect(third.first?.rules.first?.matched == true)
        #expect(third.count == 1, "emit derives nothing to trace")

        let throttled = DryRun(ruleSet: try validRules(Self.throttleRules))
        _ = throttled.trace(error("/a", at: 0))
        let held = throttled.trace(error("/a", at: 60))
        let reason = try #require(held.first?.rules.first?.failure)
        #expect(reason.hasPrefix("throttle: fired for key /a at "))
        #expect(reason.hasSuffix("at most once per 1h (1 suppressed since)"))
    }

    @Test("rule files with wrong gates get located errors", arguments: [
        ("count: {key: '{{ payload.ip }}', within: 10m}", "rules.yaml:4:12: error: missing required key 'at_least' in 'count'"),
        ("count: {key: '{{ payload.ip }}', at_least: 0, within: 10m}", "'at_least' must be a whole number from 1 to 1000000, not 0"),
        ("count: {key: '{{ payload.ip }}', at_least: 2.5, within: 10m}", "'at_least' must be a whole number from 1 to 1000000, not 2.5"),
        ("count: {key: '{{ payload.ip }}', at_least: 2, within: 10 minutes}", "10 minutes"),
        ("count: {key: '{{ payload.ip }}', at_least: 2, within: 0s}", "'within' must be longer than zero"),
        ("count: {key: '{{ capture.ip }}', at_least: 2, within: 1m}", "did you mean 'captures'"),
        ("count: {key: '{{ payload.ip }}', at_least: 2, within: 1m, keep_id: true}", "unknown key 'keep_id' in 'count'; did you mean 'keep_ids'?"),
        ("throttle: {key: '{{ payload.ip }}'}", "missing required key 'per' in 'throttle'"),
        ("throttle: {key: '{{ window.key }}', per: 1m}", "template references 'window.key', but the rule has no 'count' gate"),
    ])
    func diagnostics(gate: String, expected: String) throws {
        let (ruleSet, lines) = try loadRules(["rules.yaml": "rules:\n  - name: r\n    on: t\n    \(gate)\n    actions: [stop]\n"])
        #expect(ruleSet == nil)
        #expect(lines.contains { $0.contains(expected) }, "\(lines)")
    }

    @Test("actions may name only the gate fields their rule has")
    func gateFieldsInActions() throws {
        let (_, lines) = try loadRules(["rules.yaml": """
            rules:
              - name: r
                on: t
                throttle: {key: x, per: 1m}
                actions: [{audit: "{{ window.count }} {{ throttle.nope }}"}]
            """])
        #expect(lines.contains { $0.contains("template references 'window.count', but the rule has no 'count' gate") }, "\(lines)")
        #expect(lines.contains { $0.contains("template references 'throttle.nope', which is nothing: use throttle.key, throttle.suppressed") }, "\(lines)")
    }

    static let sequenceRules = """
        rules:
          - name: login-after-failure
            on: ssh.accepted
            after: {on: ssh.failure, key: "{{ payload.ip }}", within: 5m}
            actions:
              - emit: {type: suspicious.login, payload: {ip: "{{ after.key }}", failure: "{{ after.id }}", at: "{{ after.time }}"}}
        """

    func accepted(_ id: String, ip: String, at seconds: Int64) -> Event {
        Event(type: "ssh.accepted", payload: ["ip": .string(ip)], id: id, time: Self.base.advanced(by: .seconds(seconds)))
    }

    @Test("after: fires when an earlier event of the key came within the window, and each earlier event pairs once")
    func sequences() throws {
        let (engine, effects) = try makeEngine(Self.sequenceRules)
        engine.process(accepted("s0", ip: "1", at: 0))  // nothing before it
        engine.process(failure("f1", ip: "1", at: 10))
        engine.process(failure("f2", ip: "2", at: 20))
        engine.process(accepted("s1", ip: "1", at: 310))  // exactly 5 minutes after f1: pairs
        engine.process(accepted("s2", ip: "1", at: 320))  // f1 is used up
        engine.process(accepted("s3", ip: "2", at: 321))  // 301 s after f2: too late
        engine.process(failure("f3", ip: "3", at: 400))
        engine.process(accepted("s4", ip: "3", at: 399))  // before f3 in event time: no pair
        #expect(effects.emitted.map { $0.payload["failure"] } == ["f1"])
        #expect(effects.emitted.first?.payload["at"] == .string(Self.base.advanced(by: .seconds(10)).description))
        #expect(engine.gates.statistics.unpaired == 4)
    }

    @Test("an event of a type that is both the earlier and the later one never pairs with itself")
    func sequenceOfOneType() throws {
        let (engine, effects) = try makeEngine("""
            rules:
              - name: twice
                on: ssh.failure
                after: {on: ssh.failure, key: "{{ payload.ip }}", within: 1m}
                actions: [{emit: {type: twice, payload: {first: "{{ after.id }}", second: "{{ id }}"}}}]
            """)
        engine.process(failure("a", ip: "1", at: 0))
        engine.process(failure("b", ip: "1", at: 1))
        engine.process(failure("c", ip: "1", at: 2))
        #expect(effects.emitted.map { $0.payload["first"] } == ["a", "b"])
        #expect(effects.emitted.map { $0.payload["second"] } == ["b", "c"])
    }

    @Test("the dry run explains an unpaired event")
    func dryRunUnpaired() throws {
        let dryRun = DryRun(ruleSet: try validRules(Self.sequenceRules))
        let steps = dryRun.trace(accepted("s", ip: "203.0.113.9", at: 0))
        #expect(steps.first?.rules.first?.failure == "after: no ssh.failure event for key 203.0.113.9 within 5m before")
    }

    @Test("an after: key may name only event fields: it is rendered on both events")
    func sequenceKeyScope() throws {
        let (_, lines) = try loadRules(["rules.yaml": """
            rules:
              - name: r
                on: t
                when: {field: payload.m, matches: '(?<ip>\\S+)'}
                after: {on: u, key: "{{ captures.ip }}", within: 1m}
                actions: [stop]
            """])
        #expect(lines.contains { $0.contains("'after' renders its 'key' on another event too, where only event fields exist") && $0.contains("not 'captures.ip'") }, "\(lines)")
    }

    @Test("gate fields are checked where they are used", arguments: [
        ("count: {key: '{{ window.key }}', at_least: 2, within: 1m}", "[{stop: true}]",
         "template references 'window.key', which exists only after the 'count' gate: in the gates after it and in the actions"),
        ("count: {key: '{{ payload.ip }}', at_least: 2, within: 1m}", "[{audit: '{{ window.ids }}'}]",
         "template references 'window.ids', but the 'count' gate does not keep them: add 'keep_ids: true'"),
        ("after: {on: u, key: '{{ id }}', within: 1m}", "[{cancel: {key: x, rule: remind-mee}}]",
         "'cancel' names rule 'remind-mee', which is not in the rule set; did you mean 'remind-me'?"),
    ])
    func gateFieldChecks(gate: String, actions: String, expected: String) throws {
        let (ruleSet, lines) = try loadRules(["rules.yaml": """
            rules:
              - name: r
                on: t
                \(gate)
                actions: \(actions)
              - {name: remind-me, on: t, actions: [stop]}
            """])
        #expect(ruleSet == nil)
        #expect(lines.contains { $0.contains(expected) }, "\(lines)")
    }

    @Test("an event far out of order fires a throttle but never moves the key's last firing back")
    func throttleOutOfOrder() throws {
        let (engine, effects) = try makeEngine(Self.throttleRules)
        engine.process(error("/a", at: 7_200))  // 12:00 fires
        engine.process(error("/a", at: 0))  // 10:00, two hours before: fires
        engine.process(error("/a", at: 7_500))  // 12:05: within the hour of 12:00
        #expect(effects.emitted.count == 2)
        #expect(engine.gates.statistics.suppressed == 1)
    }

    @Test("an unless: that reuses a delay key naming the rule is refused: the cancelling event has no rule")
    func unlessKeyWithRule() throws {
        let (ruleSet, lines) = try loadRules(["rules.yaml": """
            rules:
              - name: b
                on: x.y
                actions: [{delay: {after: 1h, key: "j-{{ rule }}", unless: {on: x.done}, type: x.later}}]
            """])
        #expect(ruleSet == nil)
        #expect(lines.contains { $0.contains("'unless' renders the delay's key on the cancelling event, where 'rule' does not exist") }, "\(lines)")
    }

    @Test("a gate that fails to load gets one error, not one more per use of its fields")
    func oneErrorPerBrokenGate() throws {
        let (_, lines) = try loadRules(["rules.yaml": """
            rules:
              - name: r
                on: t
                count: {key: "{{ payload.ip }}", at_least: 3, within: 10 min}
                throttle: {key: "{{ window.key }}", per: 1h}
                actions: [{audit: "{{ window.count }}"}]
            """])
        #expect(lines.filter { $0.contains("error:") }.count == 1, "\(lines)")
    }
}
