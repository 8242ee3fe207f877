import SymphonyRules
import Testing

/// The exact message of each diagnostic kind, with its file:line:column.
@Suite struct RuleDiagnosticsTests {
    func diagnostics(_ text: String) throws -> [String] {
        try loadRules(["rules.yaml": text]).1
    }

    @Test("YAML syntax errors carry the position libyaml reports")
    func yamlSyntax() throws {
        #expect(try diagnostics("rules:\n  - name: [oops\n") == [
            "rules.yaml:3:1: error: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 11)\n"
                + "  2 |   - name: [oops\n"
                + "    |           ^\n"
                + "  hint: inside { … } or [ … ], a value holding , [ ] { } or # must be quoted, as in {field: 'payload.items[0].id'}"
        ])
    }

    @Test("unknown keys suggest the closest valid key; missing keys are named")
    func unknownAndMissingKeys() throws {
        #expect(try diagnostics("rules:\n  - name: r\n    on: a.b\n    actoins:\n      - stop\n") == [
            "rules.yaml:2:5: error: missing required key 'actions' in rule 'r'",
            "rules.yaml:4:5: error: unknown key 'actoins' in rule 'r'; did you mean 'actions'?",
        ])
        #expect(try diagnostics("rules:\n  - on: a.b\n    actions: [stop]\n") == ["rules.yaml:2:5: error: missing required key 'name' in a rule"])
    }

    @Test("wrong types are reported with what was found")
    func wrongTypes() throws {
        #expect(try diagnostics("rules:\n  - name: r\n    on: {x: 1}\n    priority: high\n    actions: stop\n") == [
            "rules.yaml:3:9: error: 'on' must be a list, not a mapping",
            "rules.yaml:4:15: error: 'priority' (salience) must be a whole number, not a string",
            "rules.yaml:5:14: error: 'actions' must be a list, not a string",
        ])
    }

    @Test("duplicate rule names point at the first definition")
    func duplicateNames() throws {
        #expect(try diagnostics("rules:\n  - {name: r, on: a, actions: [stop]}\n  - {name: r, on: b, actions: [stop]}\n") == [
            "rules.yaml:3:12: error: duplicate rule name 'r'; it is first defined at rules.yaml:2:12"
        ])
    }

    @Test("bad type patterns say why")
    func badPatterns() throws {
        #expect(try diagnostics("rules:\n  - {name: r, on: 'ticket.cre*', actions: [stop]}\n") == [
            "rules.yaml:2:20: error: invalid type pattern 'ticket.cre*': '*' and '**' must stand alone as a whole segment"
        ])
    }

    @Test("regex compile errors point at the offending character")
    func regexErrors() throws {
        #expect(try diagnostics("rules:\n  - name: r\n    on: a\n    when: {field: payload.m, matches: 'x(y'}\n    actions: [stop]\n") == [
            "rules.yaml:4:43: error: invalid regex: Missing closing parenthesis. (at offset 3)"
        ])
    }

    @Test("undefined intents suggest the closest defined intent")
    func undefinedIntent() throws {
        let text = """
            intents:
              - {name: refund_request, keywords: [refund]}
            rules:
              - name: r
                on: a
                when: {intent: refund_requst}
                actions: [stop]
            """
        #expect(try diagnostics(text) == ["rules.yaml:6:20: error: undefined intent 'refund_requst'; did you mean 'refund_request'?"])
    }

    @Test("bad durations explain the syntax")
    func badDuration() throws {
        #expect(try diagnostics("rules:\n  - name: r\n    on: a\n    actions:\n      - delay: {after: 5 minutes, type: b}\n") == [
            "rules.yaml:5:24: error: invalid duration '5 minutes': write a number and a unit (ms, s, m, h, d), e.g. 30s, 5m, 24h or 1h30m, of at most 36500d"
        ])
    }

    @Test("templates that reference nothing, a missing capture, or an intent without an intent condition")
    func templates() throws {
        let text = """
            rules:
              - name: r
                on: a
                when: {field: payload.m, matches: '(?<ip>\\S+)'}
                actions:
                  - publish: {type: b, payload: {x: "{{ paylod.user }}", y: "{{ captures.ipp }}", z: "{{ intent.slots.order }}"}}
            """
        #expect(try diagnostics(text) == [
            "rules.yaml:6:42: error: template references 'paylod.user', which is nothing; did you mean 'payload'?",
            "rules.yaml:6:66: error: template references 'captures.ipp', but the rule's regexes capture only 'ip'; did you mean 'ip'?",
            "rules.yaml:6:91: error: template references 'intent.slots.order', but the rule has no 'intent' condition",
        ])
    }

    @Test("unknown actions and field paths suggest the closest name")
    func unknownActionAndField() throws {
        #expect(try diagnostics("rules:\n  - name: r\n    on: a\n    when: {field: paylod.x, exists: true}\n    actions: [{publsh: {type: b}}]\n") == [
            "rules.yaml:4:19: error: field 'paylod.x' refers to nothing: paths start with 'id', 'type', 'priority', 'source', 'time', 'payload'; did you mean 'payload'?",
            "rules.yaml:5:16: error: unknown action 'publsh'; did you mean 'publish'?",
        ])
    }

    @Test("a known action written bare says what it needs instead of suggesting itself")
    func bareAction() throws {
        #expect(try diagnostics("rules:\n  - name: r\n    on: a\n    actions:\n      - audit\n      - delay\n") == [
            "rules.yaml:5:9: error: action 'audit' needs a value: write '- audit: MESSAGE'",
            "rules.yaml:6:9: error: action 'delay' needs a value: write '- delay: {after: 5m, type: TYPE}'",
        ])
    }

    @Test("YAML's .inf and .nan are refused as operands and payload values (JSON has no such numbers)")
    func nonFiniteNumbers() throws {
        #expect(try diagnostics("rules:\n  - name: r\n    on: a\n    when: {field: payload.x, equals: .inf}\n    actions: [{emit: {type: b, payload: {v: .nan}}}]\n") == [
            "rules.yaml:4:38: error: '.inf' is not a JSON number (JSON has no infinity or NaN); quote it if you mean the text",
            "rules.yaml:5:45: error: '.nan' is not a JSON number (JSON has no infinity or NaN); quote it if you mean the text",
        ])
        #expect(try diagnostics("rules:\n  - name: r\n    on: a\n    when: {field: payload.x, equals: '.inf'}\n    actions: [stop]\n") == [])
    }

    @Test("a capture used from inside 'not' and an empty list under 'not' get messages that say what is wrong; a list under 'not' means all")
    func notMessages() throws {
        #expect(
            try diagnostics(
                "rules:\n  - name: r\n    on: a\n    when: {not: {field: payload.s, matches: \"(?<word>secret)\"}}\n    actions: [{audit: \"{{ captures.word }}\"}]\n"
                    + "  - name: q\n    on: a\n    when: {not: []}\n    actions: [stop]\n") == [
                "rules.yaml:5:24: error: template references 'captures.word', but 'word' is captured only inside 'not', whose captures are discarded (that condition holds only when its regex does not match)",
                "rules.yaml:8:17: error: 'not' needs at least one condition",
            ])
        // A non-empty list under `not` means all of it (rules.md).
        #expect(try diagnostics("rules:\n  - name: r\n    on: a\n    when:\n      not:\n        - {field: payload.a, equals: 1}\n    actions: [stop]\n") == [])
    }

    @Test("'stop' with a value other than true is one error, not two")
    func stopWithValue() throws {
        #expect(try diagnostics("rules:\n  - name: r\n    on: a\n    actions: [{stop: 1}]\n") == ["rules.yaml:4:22: error: 'stop' takes no value (or 'true')"])
        #expect(try diagnostics("rules:\n  - name: r\n    on: a\n    actions: [{stop: true}]\n") == [])
    }

    @Test("every error in the set is reported in one pass")
    func allAtOnce() throws {
        let (ruleSet, lines) = try loadRules([
            "a.yaml": "rules:\n  - {name: one, on: 'x..y', actions: [stop]}\n",
            "b.yaml": "rules:\n  - {name: two, on: a, actions: [{delay: {after: soon, type: b}}]}\n",
        ])
        #expect(ruleSet == nil)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("a.yaml:2:22: error: invalid type pattern 'x..y'"))
        #expect(lines[1].hasPrefix("b.yaml:2:50: error: invalid duration 'soon'"))
    }

    @Test("re-publish cycles without a delay are errors that spell out the cycle")
    func cycles() throws {
        let text = """
            rules:
              - {name: ping, on: game.ping, actions: [{publish: {type: game.pong}}]}
              - {name: pong, on: game.pong, actions: [{publish: {type: game.ping}}]}
              - {name: slow, on: game.slow, actions: [{delay: {after: 1s, type: game.slow}}]}
            """
        #expect(try diagnostics(text) == [
            "rules.yaml:2:44: error: re-publish cycle without a delay: rule 'ping' publishes 'game.pong' → rule 'pong' publishes 'game.ping' → rule 'ping'; use 'delay' for one of these, or publish a type that does not trigger the loop"
        ])
    }

    @Test("rules shadowed by a higher-salience unconditional stop, and catastrophic regexes, are warnings")
    func warnings() throws {
        let text = """
            rules:
              - {name: drop-all, on: "ticket.**", priority: 10, actions: [stop]}
              - {name: never, on: ticket.created, actions: [{emit: {type: x}}]}
              - {name: risky, on: log, when: {field: payload.m, matches: '(a+)+$'}, actions: [stop]}
            """
        let (ruleSet, lines) = try loadRules(["rules.yaml": text])
        #expect(ruleSet != nil)
        #expect(lines == [
            "rules.yaml:3:12: warning: rule 'never' can never run: rule 'drop-all' runs before it on every event it matches, has no 'when', and stops",
            "rules.yaml:4:63: warning: regex '(a+)+$' backtracks catastrophically: on the 49-character text 'aaaaaaaaaaaaaaaaaaaaaaaaaaaa…aaaaaaa!' PCRE2 stops at the match limit, and such a match counts as no match; its repetition '(a+)+' can match the same text in many ways; make what repeats unambiguous (e.g. '(?:\\S+\\s)*' rather than '(\\w+\\s?)*', 'a+' rather than '(a|aa)+'), or make it possessive or atomic ('++', '*+', '(?>…)')",
        ])
    }

    @Test("an 'on' type no rule publishes, one typo from a type a rule does publish, is a warning naming it; types several rules are on are not")
    func misspeltOnType() throws {
        let text = """
            rules:
              - {name: escalate, on: ticket.created, actions: [{publish: {type: ticket.escalated}}]}
              - {name: page, on: ticket.escalate, actions: [{emit: {type: page}}]}
              - {name: triage, on: ticket.created, actions: [{delay: {after: 1m, type: ticket.stale}}]}
              - {name: stale, on: ticket.stale, actions: [{emit: {type: x}}]}
              - {name: templated, on: deploy.done, actions: [{publish: {type: "build.{{ payload.state }}"}}]}
              - {name: build, on: build.don, actions: [{emit: {type: x}}]}
              - {name: translate, on: invoice.open, actions: [{publish: {type: invoice.opened}}]}
              - {name: short, on: http.pu, actions: [{emit: {type: x}}]}
              - {name: getter, on: http.in, actions: [{publish: {type: http.get}}, {publish: {type: http.put}}]}
            """
        let (ruleSet, lines) = try loadRules(["rules.yaml": text])
        #expect(ruleSet != nil)
        // 'ticket.created' is on two rules (an outside type); 'build.don' is one edit from the
        // published 'build.done', but "build.{{ payload.state }}" can render it; 'invoice.open' is
        // two edits from 'invoice.opened', which its own rule publishes; 'http.pu' (short: one edit
        // allowed) is one from 'http.put'.
        #expect(lines == [
            "rules.yaml:3:12: warning: rule 'page' is on 'ticket.escalate', which no rule publishes; did you mean 'ticket.escalated' (published by rule 'escalate')?",
            "rules.yaml:9:12: warning: rule 'short' is on 'http.pu', which no rule publishes; did you mean 'http.put' (published by rule 'getter')?",
        ])
    }

    @Test("a publish or delay whose templated type can match its own rule's 'on' is a warning: it can re-trigger its own rule")
    func templatedSelfTrigger() throws {
        let text = """
            rules:
              - {name: fan, on: "fan.**", actions: [{publish: {type: "{{ type }}"}}, {publish: {type: "{{ type }}"}}]}
              - {name: retry, on: job.failed, actions: [{delay: {after: 1m, type: "job.{{ payload.state }}"}}]}
              - {name: glued, on: "a.*.z", actions: [{publish: {type: "a.x{{ payload.n }}.z"}}]}
              - {name: other-prefix, on: "a.*.z", actions: [{publish: {type: "b.{{ payload.n }}.z"}}]}
              - {name: elsewhere, on: "alert.**", actions: [{publish: {type: "page.{{ payload.kind }}"}}]}
              - {name: no-room, on: "ssh.*", actions: [{publish: {type: "ssh.x{{ payload.n }}.y"}}]}
              - {name: in-the-middle, on: "x.y", actions: [{emit: {type: "{{ type }}"}}, {publish: {type: "x{{ payload.n }}"}}]}
              - {name: literal, on: "log.*", actions: [{delay: {after: 1s, type: log.again}}]}
            """
        let (ruleSet, lines) = try loadRules(["rules.yaml": text])
        #expect(ruleSet != nil)  // warnings only
        func warning(_ position: String, _ rule: String, _ verb: String, _ type: String) -> String {
            "rules.yaml:\(position): warning: rule '\(rule)' \(verb) type '\(type)', a template that can render to a type its own 'on' matches, "
                + "so it can re-trigger its own rule; the cycle check cannot follow templated types, and at run time only the hop limit "
                + "and the derived-event budget end such a chain"
        }
        #expect(lines == [
            warning("2:42", "fan", "publishes", "{{ type }}"),
            warning("2:75", "fan", "publishes", "{{ type }}"),
            warning("3:46", "retry", "delays", "job.{{ payload.state }}"),
            warning("4:43", "glued", "publishes", "a.x{{ payload.n }}.z"),
            warning("8:79", "in-the-middle", "publishes", "x{{ payload.n }}"),
        ])
    }
}
