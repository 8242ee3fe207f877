import Foundation
import SymphonyAccess
import SymphonyDelivery
import SymphonyEngine
import SymphonyEvents
import SymphonyJSON
import SymphonyPipeline
import SymphonyRecords
import SymphonyRules
import SymphonyTestHTTPServer
import Testing

/// Side effects for real, end to end: webhooks to a scripted HTTP server on 127.0.0.1 (a real
/// socket), programs as real child processes, appends to real files. Retries wait on a manual
/// clock, so no test depends on how fast the machine is.
@Suite(.timeLimit(.minutes(12))) struct RealSideEffectTests {
    static let everything = AccessGuard(policy: AccessPolicy(roles: ["all": [.all]], principals: ["user:test": ["all"]]))

    struct Run {
        let pipeline: RunPipeline
        let clock: ManualClock
        let history: InMemoryHistory
    }

    func start(_ text: String, environment: [String: String] = [:]) throws -> Run {
        let (ruleSet, diagnostics) = RuleSetLoader.load(documents: [(file: "rules.yaml", text: text)])
        var configuration = RunConfiguration(ruleSet: try #require(ruleSet, "\(diagnostics.sorted)"), access: Self.everything, principal: "user:test")
        let history = InMemoryHistory()
        let clock = ManualClock()
        configuration.history = history
        configuration.clock = clock
        configuration.workerCount = 1
        configuration.jitter = { 1 }
        configuration.sideEffectRunner = StandardSideEffectRunner { environment[$0] }
        return Run(pipeline: try RunPipeline(configuration: configuration, output: CollectingOutput(), stop: try StopRequest()), clock: clock, history: history)
    }

    func webhook(_ server: ScriptedHTTPServer, retry: String = "{attempts: 3, backoff: 1s, max_backoff: 10s, within: 1m}", extra: String = "") -> String {
        """
        rules:
          - name: hook
            on: alert
            retry: \(retry)
            actions:
              - http: {url: "\(server.url("/hook/{{ payload.id }}"))", json: {text: "{{ payload.text }}"}\(extra)}
        """
    }

    func alert(_ id: Int = 1, text: String = "disk \"full\"") -> Event { Event(type: "alert", payload: ["id": .int(Int64(id)), "text": .string(text)]) }

    func tries(_ history: InMemoryHistory, _ kind: ActionKind) -> [ExecutionRecord] { history.executions.filter { $0.kind == kind } }

    @Test("500, 500, then 200: three requests with the same Idempotency-Key and body; failed, failed, ok")
    func serverErrorsThenSuccess() throws {
        let server = try ScriptedHTTPServer(responses: [.status(500), .status(500), .status(200, body: "thanks")])
        defer { server.stop() }
        let run = try start(webhook(server))
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert(5))]))
        run.pipeline.waitUntilSideEffectsIdle()
        run.clock.advance(by: .seconds(1))
        run.pipeline.waitUntilSideEffectsIdle()
        run.clock.advance(by: .seconds(2))
        run.pipeline.waitUntilSideEffectsIdle()
        let summary = run.pipeline.finish()
        let requests = server.requests
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.method == "POST" && $0.path == "/hook/5" })
        #expect(Set(requests.compactMap { $0.header("Idempotency-Key") }).count == 1)
        #expect(requests.first?.header("Idempotency-Key")?.hasPrefix("hook/") == true)
        #expect(try JSONParser.parse(requests[0].body)["text"] == .string("disk \"full\""))
        #expect(tries(run.history, .http).map(\.outcome) == [.failed, .failed, .ok])
        #expect(tries(run.history, .http).last?.message?.hasPrefix("HTTP 200; response: thanks") == true)
        #expect(summary.sideEffects.retried == 2)
    }

    @Test("429 with Retry-After: 7 is retried only after 7 s on the clock")
    func retryAfter() throws {
        let server = try ScriptedHTTPServer(responses: [.status(429, headers: [("Retry-After", "7")])])
        defer { server.stop() }
        let run = try start(webhook(server))
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert())]))
        run.pipeline.waitUntilSideEffectsIdle()
        run.clock.advance(by: .milliseconds(6_900))
        run.pipeline.waitUntilSideEffectsIdle()
        #expect(server.requests.count == 1)
        run.clock.advance(by: .milliseconds(100))
        run.pipeline.waitUntilSideEffectsIdle()
        #expect(server.requests.count == 2)
        _ = run.pipeline.finish()
        #expect(tries(run.history, .http).map(\.outcome) == [.failed, .ok])
    }

    @Test("404 fails at once: one request, a dead letter")
    func clientErrorIsNotRetried() throws {
        let server = try ScriptedHTTPServer(responses: [.status(404)])
        defer { server.stop() }
        let run = try start(webhook(server))
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert())]))
        run.pipeline.waitUntilSideEffectsIdle()
        let summary = run.pipeline.finish()
        #expect(server.requests.count == 1)
        #expect(summary.sideEffects.deadLettered == 1)
        #expect(run.history.deadActions.first?.reason.contains("HTTP 404") == true)
    }

    @Test("a server that hangs past the timeout is a failed try, retried; after the last try a dead letter")
    func hangsPastTimeout() throws {
        let server = try ScriptedHTTPServer(responses: [.hang(.seconds(30)), .hang(.seconds(30))])
        defer { server.stop() }
        let run = try start(webhook(server, retry: "{attempts: 2, backoff: 1s}", extra: ", timeout: 300ms"))
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert())]))
        run.pipeline.waitUntilSideEffectsIdle()
        run.clock.advance(by: .seconds(1))
        run.pipeline.waitUntilSideEffectsIdle()
        let summary = run.pipeline.finish()
        let records = tries(run.history, .http)
        #expect(records.count == 2)
        #expect(records.allSatisfy { $0.outcome == .failed && $0.error?.lowercased().contains("time") == true }, "\(records.map(\.error))")
        #expect(summary.sideEffects.deadLettered == 1)
    }

    @Test("connection refused is retried, then gives up")
    func connectionRefused() throws {
        let server = try ScriptedHTTPServer()
        let rules = webhook(server, retry: "{attempts: 2, backoff: 1s}")
        server.stop()
        let run = try start(rules)
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert())]))
        run.pipeline.waitUntilSideEffectsIdle()
        run.clock.advance(by: .seconds(1))
        run.pipeline.waitUntilSideEffectsIdle()
        let summary = run.pipeline.finish()
        #expect(tries(run.history, .http).count == 2)
        #expect(summary.sideEffects.deadLettered == 1)
        #expect(run.history.deadActions.first?.reason.hasPrefix("gave up after 2 tries") == true)
    }

    @Test("a header read from the environment reaches the server and never the history")
    func secretHeader() throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let run = try start(webhook(server, extra: #", headers: {Authorization: "Bearer ${HOOK_TOKEN}"}"#), environment: ["HOOK_TOKEN": "s3cr3t-value"])
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert())]))
        run.pipeline.waitUntilSideEffectsIdle()
        _ = run.pipeline.finish()
        #expect(server.requests.first?.header("Authorization") == "Bearer s3cr3t-value")
        #expect(!run.history.executions.contains { ($0.message ?? "").contains("s3cr3t") || ($0.error ?? "").contains("s3cr3t") })
    }

    static let hostileArguments = ["it's \"quoted\"", "two words", "line\nbreak", "a;b && rm -rf /", "$(id)", ""]

    @Test("exec: arguments reach the program byte for byte (no shell); the key is in its environment; exit status decides")
    func execArguments() throws {
        let directory = NSTemporaryDirectory() + "symphony-exec-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let out = directory + "/out"
        let text = """
            rules:
              - name: run
                on: alert
                retry: {attempts: 2, backoff: 1s}
                actions:
                  - exec:
                      command: [/bin/sh, -c, 'printf "[%s]" "$@" >> "$0.args"; echo "$SYMPHONY_ACTION_KEY" >> "$0.keys"; exit "$(cat "$0.status" 2>/dev/null || echo 0)"', "\(out)", "{{ payload.a }}", "{{ payload.b }}", "{{ payload.c }}", "{{ payload.d }}", "{{ payload.e }}", "{{ payload.f }}"]
                      timeout: 10s
            """
        let payload = JSONValue.object(Dictionary(uniqueKeysWithValues: zip(["a", "b", "c", "d", "e", "f"], Self.hostileArguments.map(JSONValue.string))))
        try "3".write(toFile: out + ".status", atomically: true, encoding: .utf8)  // the first try exits 3: retried
        let run = try start(text)
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(Event(type: "alert", payload: payload))]))
        run.pipeline.waitUntilSideEffectsIdle()
        try FileManager.default.removeItem(atPath: out + ".status")
        run.clock.advance(by: .seconds(1))
        run.pipeline.waitUntilSideEffectsIdle()
        _ = run.pipeline.finish()
        let arguments = try String(contentsOfFile: out + ".args", encoding: .utf8)
        let once = Self.hostileArguments.map { "[\($0)]" }.joined()
        #expect(arguments == once + once)
        let keys = try String(contentsOfFile: out + ".keys", encoding: .utf8).split(separator: "\n")
        #expect(keys.count == 2 && keys[0] == keys[1] && keys[0].hasPrefix("run/"))
        #expect(tries(run.history, .exec).map(\.outcome) == [.failed, .ok])
        #expect(tries(run.history, .exec).first?.message?.hasPrefix("exit 3") == true)
    }

    @Test("exec: a program past its timeout is stopped; huge output is kept only up to the limit and marked; success: lists the good statuses")
    func execTimeoutAndOutput() throws {
        let text = """
            rules:
              - name: slow
                on: slow
                retry: false
                actions:
                  - exec: {command: [/bin/sleep, "30"], timeout: 200ms}
              - name: loud
                on: loud
                retry: false
                actions:
                  - exec: {command: [/bin/sh, -c, "head -c 2000000 /dev/zero | tr '\\\\0' a; exit 4"], output_limit: 100, success: [0, 4]}
              - name: missing
                on: missing
                actions:
                  - exec: [/nonexistent/program]
            """
        let run = try start(text)
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(Event(type: "slow")), .success(Event(type: "loud")), .success(Event(type: "missing"))]))
        run.pipeline.waitUntilSideEffectsIdle()
        let summary = run.pipeline.finish()
        let records = tries(run.history, .exec)
        let slow = try #require(records.first { $0.rule == "slow" })
        #expect(slow.outcome == .failed)
        #expect(slow.message?.hasPrefix("timed out") == true)
        let loud = try #require(records.first { $0.rule == "loud" })
        #expect(loud.outcome == .ok)
        #expect(loud.message?.hasPrefix("exit 4; stdout: " + String(repeating: "a", count: 100) + " …[truncated]") == true)
        let missing = try #require(records.first { $0.rule == "missing" })
        #expect(missing.outcome == .failed)
        #expect(records.filter { $0.rule == "missing" }.count == 1, "a program that cannot start is not retried")
        #expect(summary.sideEffects.deadLettered == 2)
    }

    @Test("file: lines are appended whole, the file is created 0600, newlines in values cannot split a line")
    func fileAppends() throws {
        let path = NSTemporaryDirectory() + "symphony-append-" + UUID().uuidString + ".log"
        let text = """
            rules:
              - name: log
                on: alert
                actions:
                  - file: {path: "\(path)", line: "{{ payload.id }} {{ payload.text }}"}
            """
        let run = try start(text)
        _ = try run.pipeline.feed(ArrayEventSource(events: (1...100).map { .success(alert($0, text: "x\ny")) }))
        run.pipeline.waitUntilSideEffectsIdle()
        _ = run.pipeline.finish()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 101 && lines.last == "")
        #expect(Set(lines.dropLast()) == Set((1...100).map { "\($0) x\\ny" }))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }
}
