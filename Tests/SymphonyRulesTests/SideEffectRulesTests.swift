import SymphonyEngine
import SymphonyEvents
import SymphonyJSON
import SymphonyRecords
import SymphonyRules
import Testing

/// `exec:`, `http:` and `file:` actions as written: what loads, what is refused and why, and what
/// each renders to — arguments one template each, URLs percent-encoded, JSON bodies escaped.
@Suite struct SideEffectRulesTests {
    func rule(_ action: String, extra: String = "") -> String {
        """
        rules:
          - name: act
            on: alert
            \(extra)
            actions:
              - \(action)
        """
    }

    func request(_ action: String, event: Event) throws -> ActionRequest {
        let ruleSet = try validRules(rule(action))
        let rule = try #require(ruleSet.rule(named: "act"))
        return try RuleEngine.sideEffectRequest(rule.actions[0], context: TemplateContext(event: event, rule: "act", captures: [:], intent: nil))
    }

    let hostile = Event(type: "alert", payload: ["ip": "10.0.0.1; rm -rf / $(id)", "text": "say \"hi\"\nnow", "n": 3, "tags": ["a", "b"]])

    @Test("exec: each argument is one template; field values with quotes, spaces, ';' and '$(…)' stay one argument")
    func execArguments() throws {
        let rendered = try request(#"exec: {command: [/usr/sbin/ban, --ip, "{{ payload.ip }}", "n={{ payload.n }}"], env: [PATH], timeout: 5s, success: [0, 3]}"#, event: hostile)
        guard case .exec(let spec) = rendered else { Issue.record("not exec"); return }
        #expect(spec.command == ["/usr/sbin/ban", "--ip", "10.0.0.1; rm -rf / $(id)", "n=3"])
        #expect(spec.environment == ["PATH"])
        #expect(spec.timeout == .seconds(5))
        #expect(spec.successStatuses == [0, 3])
        #expect(rendered.shown.hasPrefix(#"exec ["/usr/sbin/ban", "--ip", "10.0.0.1; rm -rf / $(id)", "n=3"]"#))
    }

    @Test("http: placeholders in the URL are percent-encoded; a JSON body is built from the tree; text bodies of JSON type escape in context")
    func httpRendering() throws {
        let json = try request(#"http: {url: "https://hooks.example.com/a/{{ payload.ip }}", json: {text: "{{ payload.text }}", n: "{{ payload.n }}", all: "{{ payload | json }}"}}"#, event: hostile)
        guard case .http(let spec) = json else { Issue.record("not http"); return }
        #expect(spec.url == "https://hooks.example.com/a/10.0.0.1%3B%20rm%20-rf%20%2F%20%24%28id%29")
        #expect(spec.method == "POST")
        let body = try JSONParser.parse(Array(spec.body.utf8))
        #expect(body["text"] == .string("say \"hi\"\nnow"))
        #expect(body["n"] == .int(3))
        #expect(body["all"] == hostile.payload)

        let text = try request(
            #"http: {url: "https://hooks.example.com/x", body: '{"msg": "{{ payload.text }}", "n": {{ payload.n }}, "tags": {{ payload.tags }}}', content_type: application/json}"#,
            event: hostile)
        guard case .http(let textSpec) = text else { Issue.record("not http"); return }
        let parsed = try JSONParser.parse(Array(textSpec.body.utf8))
        #expect(parsed["msg"] == .string("say \"hi\"\nnow"))
        #expect(parsed["n"] == .int(3))
        #expect(parsed["tags"] == ["a", "b"])
        #expect(textSpec.headers.contains(HTTPSpec.Header(name: "Content-Type", value: "application/json")))
    }

    @Test("http: header values reading ${NAME} are kept unresolved and masked when shown")
    func secretHeaders() throws {
        let rendered = try request(#"http: {url: "https://hooks.example.com/x", headers: {Authorization: "Bearer ${HOOK_TOKEN}"}}"#, event: hostile)
        guard case .http(let spec) = rendered else { Issue.record("not http"); return }
        #expect(spec.headers.first == HTTPSpec.Header(name: "Authorization", value: "Bearer ${HOOK_TOKEN}"))
        #expect(rendered.shown.contains("[Authorization: ***]"))
        #expect(!rendered.maskedJSON.jsonText.contains("HOOK_TOKEN"))
    }

    @Test("file: one action appends one line: newlines in values are escaped; the default line is the event as JSON; mode is octal")
    func fileRendering() throws {
        let rendered = try request(#"file: {path: /var/log/sym/alerts.log, line: "{{ payload.text }}", mode: 0640}"#, event: hostile)
        guard case .file(let spec) = rendered else { Issue.record("not file"); return }
        #expect(spec.line == #"say "hi"\nnow"#)
        #expect(spec.mode == 0o640)
        guard case .file(let plain) = try request("file: {path: /tmp/x.log}", event: hostile) else { Issue.record("not file"); return }
        #expect(try JSONParser.parse(Array(plain.line.utf8))["type"] == "alert")
    }

    @Test("a rendered path with '..' fails the action instead of leaving the directory")
    func fileDotDot() throws {
        let ruleSet = try validRules(rule(#"file: {path: "/var/log/sym/{{ payload.name }}.log"}"#))
        let action = try #require(ruleSet.rule(named: "act")).actions[0]
        let event = Event(type: "alert", payload: ["name": "../../etc/passwd"])
        #expect(throws: ActionError.self) {
            try RuleEngine.sideEffectRequest(action, context: TemplateContext(event: event, rule: "act", captures: [:], intent: nil))
        }
    }

    @Test("mistakes are reported where they are written, with what to write instead", arguments: [
        ("exec: {command: \"/bin/ban {{ payload.ip }}\"}", "'command' is a list"),
        ("exec: {command: []}", "'command' needs at least the program"),
        ("exec: {command: [/bin/x], env: [\"A=b\"]}", "'env' lists names of environment variables"),
        ("http: {url: \"ftp://x/y\"}", "must start with http:// or https://"),
        ("http: {url: \"https://{{ payload.host }}/y\"}", "the host of 'url' must be written out"),
        ("http: {url: \"https://x/y\", method: BREW}", "'method' must be one of"),
        ("http: {url: \"https://x/y\", json: {a: 1}, body: b}", "not both"),
        ("file: {path: /a/../b}", "'path' may not contain '..'"),
        ("file: {path: /a/b, mode: 0999}", "'mode' is permission bits in octal"),
        ("exec: {command: [/bin/x, \"{{ payload | upper }}\"]}", "unknown filter 'upper'"),
        ("htp: {url: \"https://x\"}", "did you mean 'http'"),
    ])
    func mistakes(_ action: String, expected: String) throws {
        let (ruleSet, lines) = try loadRules(["rules.yaml": rule(action)])
        #expect(ruleSet == nil)
        #expect(lines.contains { $0.contains(expected) }, "\(lines)")
    }

    @Test("retry: and concurrency: load; a bad retry is refused; pools: and targets: set the rule set's limits")
    func settings() throws {
        let ruleSet = try validRules(
            """
            pools: {exec: 2, http: 16}
            targets:
              hooks.example.com: {per_second: 5, concurrency: 2}
            rules:
              - name: act
                on: alert
                retry: {attempts: 7, backoff: 2s, max_backoff: 30s, within: 5m}
                concurrency: 3
                actions:
                  - http: "https://hooks.example.com/x"
            """)
        let rule = try #require(ruleSet.rule(named: "act"))
        #expect(rule.retry == RetryPolicy(attempts: 7, backoff: .seconds(2), maximumBackoff: .seconds(30), within: .seconds(300)))
        #expect(rule.concurrency == 3)
        #expect(ruleSet.sideEffects.poolSizes[.exec] == 2)
        #expect(ruleSet.sideEffects.poolSizes[.file] == 2)
        #expect(ruleSet.sideEffects.limit(for: "hooks.example.com:443", kind: .http) == .init(perSecond: 5, concurrency: 2))
        #expect(RequiredPermissions.of(ruleSet) == ["actions:http:hooks.example.com"])
        let (bad, lines) = try loadRules(["rules.yaml": self.rule("http: https://x/y", extra: "retry: {backoff: 10s, max_backoff: 1s}")])
        #expect(bad == nil)
        #expect(lines.contains { $0.contains("'max_backoff' (1.0 seconds) is shorter than 'backoff'") || $0.contains("is shorter than 'backoff'") }, "\(lines)")
    }

    @Test("the backoff doubles from 'backoff', is capped at 'max_backoff', and jitter takes it down to half at most")
    func backoff() {
        let policy = RetryPolicy(attempts: 10, backoff: .seconds(1), maximumBackoff: .seconds(5), within: .seconds(600))
        #expect(policy.delay(afterAttempt: 1, jitter: 1) == .seconds(1))
        #expect(policy.delay(afterAttempt: 2, jitter: 1) == .seconds(2))
        #expect(policy.delay(afterAttempt: 3, jitter: 1) == .seconds(4))
        #expect(policy.delay(afterAttempt: 4, jitter: 1) == .seconds(5))
        #expect(policy.delay(afterAttempt: 1, jitter: 0) == .milliseconds(500))
    }

    @Test("a stored request reads back as written (the outbox's form)")
    func storedRoundTrip() throws {
        for request in [
            ActionRequest.exec(ExecSpec(command: ["/bin/x", "a b"], workingDirectory: "/tmp", environment: ["PATH"], standardInput: "in", timeout: .seconds(3), outputLimit: 10, successStatuses: [0, 2])),
            .http(HTTPSpec(method: "PUT", url: "https://h/x", headers: [.init(name: "A", value: "${T}")], body: "{}", timeout: .seconds(2))),
            .file(FileSpec(path: "/tmp/f", line: "l", mode: 0o644)),
        ] {
            let entry = OutboxEntry(eventID: "e", eventType: "t", rule: "r", actionIndex: 2, request: request, retry: .default, gateKey: nil, queued: .now())
            let parsed = try #require(OutboxEntry.parseStored(try JSONParser.parse(Array(entry.storedJSON.jsonText.utf8))))
            #expect(parsed.request == request)
            #expect(parsed.retry == .default)
            #expect(entry.key == "r/e/2")
        }
    }
}
