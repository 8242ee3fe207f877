import Foundation
import Glibc
import SymphonyRecords
import SymphonyActions
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyStore
import Testing

/// A `symphony serve` process on an ephemeral loopback port: started, waited for until it says
/// where it listens, talked to over real HTTP, stopped with a signal.
final class ServingCommand: @unchecked Sendable {
    // @unchecked Sendable: `errors` is only touched while holding `condition`.
    let process = Process()
    private let errorPipe = Pipe()
    private let outputPipe = Pipe()
    private let condition = NSCondition()
    private var errors = Data()
    /// True once standard error reached its end (the process closed it: it is exiting).
    private var errorsEnded = false
    private let exited = DispatchSemaphore(value: 0)
    private(set) var port = 0

    init(_ arguments: [String], directory: String) throws {
        process.executableURL = CommandRunner.binary
        process.arguments = ["serve", "--listen", "127.0.0.1:0"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = testEnvironment()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        process.terminationHandler = { [exited] _ in exited.signal() }
        outputPipe.fileHandleForReading.readabilityHandler = { handle in _ = handle.availableData }
        errorPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            guard let self else { return }
            let data = handle.availableData
            condition.lock()
            errors.append(data)
            if data.isEmpty { errorsEnded = true }
            condition.broadcast()
            condition.unlock()
            if data.isEmpty { handle.readabilityHandler = nil }
        }
        try process.run()
        let prefix = "symphony: listening on 127.0.0.1:"
        let deadline = Date(timeIntervalSinceNow: 120)
        condition.lock()
        defer { condition.unlock() }
        while true {
            let text = String(decoding: errors, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }), let port = Int(line.dropFirst(prefix.count)) {
                self.port = port
                break
            }
            // A server that failed to start closes its standard error: stop waiting then, not at the deadline.
            if errorsEnded || !process.isRunning || !condition.wait(until: deadline) { break }
        }
    }

    var stderr: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: errors, as: UTF8.self)
    }

    /// Sends `signal` and waits (bounded) for the exit; the exit status, or nil if it did not exit.
    func stop(with signal: Int32 = SIGTERM) -> Int32? {
        kill(process.processIdentifier, signal)
        guard exited.wait(timeout: .now() + 120) == .success else {
            process.terminate()
            return nil
        }
        // Let the reader take what is left.
        Thread.sleep(forTimeInterval: 0.05)
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// One request over a real HTTP client (libcurl, as `http` actions use); the status, the body
    /// and the response. Blocking: call it from a thread, not from many tasks at once.
    func request(
        _ method: String, _ path: String, body: Data? = nil, token: String? = nil, headers extra: [HTTPHeader] = []
    ) throws -> (status: Int, body: Data, response: HTTPResponseSummary) {
        var headers: [HTTPHeader] = extra
        if let token { headers.append(HTTPHeader(name: "Authorization", value: "Bearer \(token)")) }
        let spec = HTTPRequestSpec(
            method: method, url: "http://127.0.0.1:\(port)\(path)", headers: headers, body: body.map { Array($0) } ?? [], timeout: .seconds(60),
            responseLimit: 1 << 22)
        let response = try HTTPTransport().send(spec)
        return (response.status, Data(response.body), response)
    }

    /// The `symphony_http_requests_in_flight` gauge of a scrape (read with `token`, if any).
    func requestsInFlight(token: String? = nil) throws -> Double? {
        let scrape = try PrometheusText(String(decoding: request("GET", "/metrics", token: token).body, as: UTF8.self))
        return scrape.samples.first { $0.name == "symphony_http_requests_in_flight" }?.value
    }

    /// Waits until the server's metrics (read with `metricsToken`) say `count` requests hold a
    /// `--max-in-flight` slot; false if that never happens (the limit only bounds a failing test).
    func waitForRequestsInFlight(_ count: Int, metricsToken: String? = nil) throws -> Bool {
        let deadline = Date(timeIntervalSinceNow: 120)
        while Date() < deadline {
            if try requestsInFlight(token: metricsToken) == Double(count) { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    /// A request that holds one `--max-in-flight` slot (`POST /v1/events` with the bearer
    /// `token`, its body not yet sent), returned once the metrics show it in flight.
    func holdSlot(token: String? = nil, metricsToken: String? = nil) throws -> HeldUpload {
        let held = try HeldUpload(port: port, token: token)
        try #require(try waitForRequestsInFlight(1, metricsToken: metricsToken), "the held request never took the slot")
        return held
    }
}

@Suite(.timeLimit(.minutes(12))) struct ServeCommandTests {
    static let rules = """
        intents:
          - name: refund_request
            patterns:
              - regex: 'refund\\w*\\b.*?order\\s*(?<order>\\d+)'
                weight: 0.6
            keywords: [refund]
        rules:
          - {name: answer, on: tick, actions: [{emit: {type: tock}}]}
        """

    static let policy = """
        roles:
          ingest: ["rules:load", "events:publish:tick"]
          reader: ["intents:analyze", "metrics:read"]
        principals:
          service:ingest: [ingest]
          service:reader: [reader]
        """

    /// A directory with rules, a policy, a key and a tokens file for two principals.
    func setUp() throws -> (directory: String, arguments: [String]) {
        let directory = try freshDirectory()
        try Data(Self.rules.utf8).write(to: URL(fileURLWithPath: directory + "/rules.yaml"))
        try Data(Self.policy.utf8).write(to: URL(fileURLWithPath: directory + "/policy.yaml"))
        let tokens = """
            # principal sha256(token)
            service:ingest \(sha256Hex("ingest-token"))
            service:reader \(sha256Hex("reader-token"))
            """
        try Data(tokens.utf8).write(to: URL(fileURLWithPath: directory + "/tokens"))
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        return (
            directory,
            [
                "--rules", directory + "/rules.yaml", "--policy", directory + "/policy.yaml", "--tokens", directory + "/tokens",
                "--db", directory + "/h.db", "--key-file", directory + "/key", "--as", "service:ingest",
            ]
        )
    }

    func sha256Hex(_ text: String) -> String {
        SHA256.hash(Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func json(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("POST /v1/events: good lines accepted, malformed ones rejected with their line; 413 over --max-body; auth 401/403; probes")
    func eventsAuthAndLimits() throws {
        let (directory, arguments) = try setUp()
        let server = try ServingCommand(arguments + ["--max-body", "4096"], directory: directory)
        try #require(server.port > 0, "\(server.stderr)")

        let body = Data(
            """
            {"type":"tick","id":"a-1"}
            not json
            {"type":"tick","id":"a-2","payload":{"n":2}}
            {"payload":{}}

            """.utf8)
        let ingest = try server.request("POST", "/v1/events", body: body, token: "ingest-token")
        #expect(ingest.status == 200)
        let answer = try json(ingest.body)
        #expect(answer["accepted"] as? Int == 2)
        #expect(answer["rejected"] as? Int == 2)
        let errors = try #require(answer["errors"] as? [[String: Any]])
        #expect(errors.map { $0["line"] as? Int } == [2, 4])
        #expect((errors[1]["reason"] as? String) == "missing required field 'type'")

        // One JSON event (no newline) is one line.
        let single = try server.request("POST", "/v1/events", body: Data(#"{"type":"tick","id":"a-3"}"#.utf8), token: "ingest-token")
        #expect(single.status == 200)
        #expect(try json(single.body)["accepted"] as? Int == 1)

        // Authentication and access.
        #expect(try server.request("POST", "/v1/events", body: body).status == 401)
        #expect(try server.request("POST", "/v1/events", body: body, token: "wrong").status == 401)
        let refused = try server.request("POST", "/v1/events", body: Data(#"{"type":"tick"}"#.utf8), token: "reader-token")
        #expect(refused.status == 403)
        #expect(try json(refused.body)["denied"] as? Int == 1)
        let otherType = try server.request("POST", "/v1/events", body: Data(#"{"type":"tock"}"#.utf8), token: "ingest-token")
        #expect(otherType.status == 403)
        #expect(try server.request("GET", "/metrics", token: "ingest-token").status == 403)
        #expect(try server.request("POST", "/v1/intents", body: Data(#"{"text":"x"}"#.utf8), token: "ingest-token").status == 403)

        // Over the body limit.
        let large = Data(String(repeating: #"{"type":"tick"}"# + "\n", count: 400).utf8)
        #expect(try server.request("POST", "/v1/events", body: large, token: "ingest-token").status == 413)

        // Probes need no token.
        #expect(try server.request("GET", "/healthz").status == 200)
        #expect(try server.request("GET", "/readyz").status == 200)

        #expect(server.stop(with: SIGINT) == 130)
        #expect(!server.stderr.contains("ingest-token"))
        #expect(server.stderr.contains("symphony: 7 events read, 2 rejected, 2 denied, 3 processed"), "\(server.stderr)")
        // The denials are audited.
        let audit = try CommandRunner.run(["audit", "list", "--db", directory + "/h.db", "--key-file", directory + "/key"])
        #expect(audit.stdout.contains("access.denied"), "\(audit.stdout)")
    }

    @Test("POST /v1/intents ranks intents with scores, slots and evidence; GET /metrics parses and its counters move after ingest")
    func intentsAndMetrics() throws {
        let (directory, arguments) = try setUp()
        let server = try ServingCommand(arguments, directory: directory)
        try #require(server.port > 0, "\(server.stderr)")
        let intents = try server.request("POST", "/v1/intents", body: Data(#"{"text":"please refund order 1234"}"#.utf8), token: "reader-token")
        #expect(intents.status == 200)
        let answer = try json(intents.body)
        let first = try #require((answer["intents"] as? [[String: Any]])?.first)
        #expect(first["name"] as? String == "refund_request")
        #expect(first["score"] as? Double == 0.9)
        #expect((first["slots"] as? [String: String]) == ["order": "1234"])
        #expect((first["evidence"] as? [[String: Any]])?.count == 2)
        #expect(try server.request("POST", "/v1/intents", body: Data("{".utf8), token: "reader-token").status == 400)

        /// Each sample by its name and labels, the labels sorted (`name{a="1",b="2"}`), and the metric types.
        func metrics() throws -> (values: [String: Double], types: [String: String]) {
            let scrape = try server.request("GET", "/metrics", token: "reader-token")
            #expect(scrape.status == 200)
            var values: [String: Double] = [:]
            var types: [String: String] = [:]
            for line in String(decoding: scrape.body, as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: " ")
                if line.hasPrefix("# TYPE "), parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
                guard !line.hasPrefix("#"), parts.count == 2, let value = Double(parts[1]) else { continue }
                var key = String(parts[0])
                if let open = key.firstIndex(of: "{") {
                    let labels = key[key.index(after: open)..<key.index(before: key.endIndex)].split(separator: ",").sorted()
                    key = key[..<open] + "{" + labels.joined(separator: ",") + "}"
                }
                values[key] = value
            }
            return (values, types)
        }
        let before = try metrics().values
        #expect(before["symphony_events_read_total"] == 0)
        let posted = try server.request(
            "POST", "/v1/events", body: Data((1...5).map { #"{"type":"tick","id":"m-\#($0)"}"# }.joined(separator: "\n").utf8), token: "ingest-token")
        #expect(posted.status == 200)
        // The events are handled after the answer: wait (a bounded number of scrapes) until they are.
        var (after, types) = try metrics()
        for _ in 0..<200 where after["symphony_events_processed_total"] != 5 || after["symphony_history_batch_rows_count"] == nil {
            Thread.sleep(forTimeInterval: 0.05)
            (after, types) = try metrics()
        }
        #expect(after["symphony_events_read_total"] == 5)
        #expect(after["symphony_events_processed_total"] == 5)
        #expect(after["symphony_http_events_accepted_total"] == 5)
        #expect(after[#"symphony_actions_total{kind="emit",status="ok"}"#] == 5)
        #expect(after[#"symphony_actions_total{kind="emit",status="failed"}"#] == 0)
        #expect(after[#"symphony_action_duration_seconds_count{kind="emit"}"#] == 5)
        #expect(types["symphony_action_duration_seconds"] == "histogram")
        #expect((after["symphony_history_batch_rows_count"] ?? 0) >= 1)
        #expect((after["symphony_history_commit_seconds_count"] ?? 0) >= 1)
        #expect(types["symphony_history_commit_seconds"] == "histogram")
        for priority in 0...9 { #expect(after[#"symphony_queue_depth{priority="\#(priority)"}"#] == 0) }
        #expect(after["symphony_scheduler_pending"] == 0)
        #expect(after["symphony_scheduler_late_total"] == 0)
        #expect(after[#"symphony_http_requests_total{method="POST",route="/v1/events",status="200"}"#] == 1)
        #expect(after[#"symphony_http_request_duration_seconds_count{method="POST",route="/v1/intents"}"#] == 2)
        #expect(server.stop() == 143)
    }

    @Test("SIGTERM with submissions in flight: every event a 200 answer counted as accepted is in the history")
    func gracefulShutdown() throws {
        let (directory, arguments) = try setUp()
        let server = try ServingCommand(arguments, directory: directory)
        try #require(server.port > 0, "\(server.stderr)")
        let total = Locked(0)
        let clients = DispatchGroup()
        for client in 0..<8 {
            DispatchQueue.global().async(group: clients) {
                for batch in 0..<400 {
                    let lines = (0..<50).map { #"{"type":"tick","id":"c\#(client)-\#(batch)-\#($0)"}"# }.joined(separator: "\n")
                    guard let answer = try? server.request("POST", "/v1/events", body: Data(lines.utf8), token: "ingest-token"),
                        answer.status == 200, let object = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any]
                    else { break }
                    total.withLock { $0 += object["accepted"] as? Int ?? 0 }
                }
            }
        }
        // Signal once submissions are known to be flowing (the limit only bounds a failing test).
        let deadline = Date(timeIntervalSinceNow: 120)
        while Date() < deadline && total.withLock({ $0 }) == 0 { Thread.sleep(forTimeInterval: 0.005) }
        kill(server.process.processIdentifier, SIGTERM)
        #expect(clients.wait(timeout: .now() + 300) == .success)
        let accepted = total.withLock { $0 }
        #expect(server.stop() == 143)
        #expect(accepted > 0)
        let reader = try HistoryReader(path: directory + "/h.db", sealer: nil)
        var query = HistoryQuery()
        query.rule = "answer"
        query.limit = 1_000_000
        let handled = Set(try reader.executions(query).map(\.eventID))
        #expect(handled.count >= accepted, "\(server.stderr)")
    }
}

/// Back-pressure: a request holding the only slot (its body not yet sent) makes the next ones 503.
@Suite(.timeLimit(.minutes(12))) struct ServeBackPressureTests {
    @Test("with --max-in-flight 1 taken by a slow upload, a request gets 503 with Retry-After; once it ends, 200 again")
    func overload() throws {
        let directory = try freshDirectory()
        try Data("rules:\n  - {name: answer, on: tick, actions: [{emit: {type: tock}}]}\n".utf8).write(to: URL(fileURLWithPath: directory + "/rules.yaml"))
        let server = try ServingCommand(["--rules", directory + "/rules.yaml", "--no-history", "--max-in-flight", "1"], directory: directory)
        try #require(server.port > 0, "\(server.stderr)")
        // A request that sent its head and part of its body holds the slot (the metrics say so;
        // they take no slot), so the next request is refused.
        let held = try server.holdSlot()
        let answer = try server.request("POST", "/v1/events", body: Data(#"{"type":"tick"}"#.utf8))
        #expect(answer.status == 503)
        #expect(answer.response.header("Retry-After") == "1")
        // The held request ends (its connection closes): the slot is free again.
        held.release()
        var accepted = false
        for _ in 0..<2_000 {
            if try server.request("POST", "/v1/events", body: Data(#"{"type":"tick"}"#.utf8)).status == 200 {
                accepted = true
                break
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(accepted)
        #expect(server.stop() == 143)
    }
}

/// `POST /v1/webhooks/{source}`: HMAC-signed senders, type mapping by header.
@Suite(.timeLimit(.minutes(12))) struct ServeWebhookTests {
    @Test("a GitHub-style webhook with a good signature becomes an event typed by its header; a bad or missing signature is 401")
    func signedWebhook() throws {
        let directory = try freshDirectory()
        try Data("rules:\n  - {name: pushed, on: github.push, actions: [{emit: {type: seen}}]}\n".utf8).write(to: URL(fileURLWithPath: directory + "/rules.yaml"))
        try Data("s3cret\n".utf8).write(to: URL(fileURLWithPath: directory + "/github.secret"))
        try Data(
            """
            sources:
              github:
                secret_file: github.secret
                type_header: X-GitHub-Event
                type_prefix: github.
            """.utf8
        ).write(to: URL(fileURLWithPath: directory + "/webhooks.yaml"))
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        let server = try ServingCommand(
            ["--rules", directory + "/rules.yaml", "--webhooks", directory + "/webhooks.yaml", "--db", directory + "/h.db", "--key-file", directory + "/key"],
            directory: directory)
        try #require(server.port > 0, "\(server.stderr)")
        let body = Data(#"{"ref":"refs/heads/main","repository":{"full_name":"acme/app"}}"#.utf8)
        let signature = "sha256=" + HMACSHA256.mac(Array(body), key: Array("s3cret".utf8)).map { String(format: "%02x", $0) }.joined()
        let good = try server.request(
            "POST", "/v1/webhooks/github", body: body,
            headers: [HTTPHeader(name: "X-GitHub-Event", value: "push"), HTTPHeader(name: "X-Hub-Signature-256", value: signature)])
        #expect(good.status == 200, "\(String(decoding: good.body, as: UTF8.self))")
        let bad = try server.request(
            "POST", "/v1/webhooks/github", body: body,
            headers: [HTTPHeader(name: "X-GitHub-Event", value: "push"), HTTPHeader(name: "X-Hub-Signature-256", value: "sha256=" + String(repeating: "0", count: 64))])
        #expect(bad.status == 401)
        let missing = try server.request("POST", "/v1/webhooks/github", body: body, headers: [HTTPHeader(name: "X-GitHub-Event", value: "push")])
        #expect(missing.status == 401)
        let noType = try server.request("POST", "/v1/webhooks/github", body: body, headers: [HTTPHeader(name: "X-Hub-Signature-256", value: signature)])
        #expect(noType.status == 400)
        #expect(try server.request("POST", "/v1/webhooks/gitlab", body: body).status == 404)
        #expect(server.stop() == 143)
        #expect(server.stderr.contains("symphony: 2 events read, 1 rejected, 1 processed, 1 rules fired"), "\(server.stderr)")
        // The event is in the history, published as the source's principal.
        let reader = try HistoryReader(path: directory + "/h.db", sealer: nil)
        var query = HistoryQuery()
        query.rule = "pushed"
        #expect(try reader.executions(query).count == 1)
    }
}

/// `symphony serve`: `POST /v1/reload` swaps the rule set or refuses a broken one, and `--follow`
/// feeds a growing file into the same pipeline as the HTTP events.
@Suite(.timeLimit(.minutes(12))) struct ServeReloadAndFollowTests {
    func rules(_ version: String) -> String {
        """
        rules:
          - {name: answer, on: tick, actions: [{audit: "\(version) {{ payload.n }}"}]}
        """
    }

    /// The audit messages recorded so far, in order.
    func audits(_ directory: String) throws -> [String] {
        let history = try CommandRunner.run(["history", "--db", directory + "/h.db", "--key-file", directory + "/key", "--format", "json", "--limit", "100"])
        return history.stdoutLines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["message"] as? String
        }.reversed()
    }

    @Test("POST /v1/reload: 200 and the new rules run; a broken rule set is 422 with its errors and the old rules stay; --follow lines run too")
    func reloadAndFollow() throws {
        let directory = try freshDirectory()
        let rulesPath = directory + "/rules.yaml"
        let log = directory + "/in.jsonl"
        try rules("v1").write(toFile: rulesPath, atomically: true, encoding: .utf8)
        try #"{"type":"tick","payload":{"n":0}}"#.appending("\n").write(toFile: log, atomically: true, encoding: .utf8)
        try """
            roles:
              ops: ["rules:load", "events:publish:tick"]
              sender: ["events:publish:tick"]
            principals:
              user:ops: [ops]
              user:sender: [sender]
            """.write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        let server = try ServingCommand(
            [
                "--rules", rulesPath, "--policy", directory + "/policy.yaml", "--as", "user:ops", "--db", directory + "/h.db",
                "--key-file", directory + "/key", "--follow", log,
            ], directory: directory)
        try #require(server.port > 0, "\(server.stderr)")
        func waitForAudit(_ message: String) throws -> Bool {
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                if try audits(directory).contains(message) { return true }
                usleep(50_000)
            }
            return false
        }
        #expect(try waitForAudit("v1 0"), "the followed file's line ran")
        #expect(try server.request("POST", "/v1/events", body: Data(#"{"type":"tick","payload":{"n":1}}"#.utf8)).status == 200)
        try rules("v2").write(toFile: rulesPath, atomically: true, encoding: .utf8)
        let reloaded = try server.request("POST", "/v1/reload")
        #expect(reloaded.status == 200)
        #expect(String(decoding: reloaded.body, as: UTF8.self).contains(#""reloaded":true"#))
        #expect(try server.request("POST", "/v1/events", body: Data(#"{"type":"tick","payload":{"n":2}}"#.utf8)).status == 200)
        try "rules: [{name: broken}]".write(toFile: rulesPath, atomically: true, encoding: .utf8)
        let refused = try server.request("POST", "/v1/reload")
        #expect(refused.status == 422)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("rules.yaml"))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((#"{"type":"tick","payload":{"n":3}}"# + "\n").utf8))
        try handle.close()
        #expect(try waitForAudit("v2 3"), "the old (v2) rules stay after a refused reload, and the followed file goes on")
        #expect(server.stop(with: SIGTERM) == 143)
        #expect(try audits(directory) == ["v1 0", "v1 1", "v2 2", "v2 3"])
    }

    @Test("--follow with --json TYPE or --type-from FIELD reads application logs without 'type'; without --follow they are usage errors")
    func followPlainJSON() throws {
        let directory = try freshDirectory()
        let rulesPath = directory + "/rules.yaml"
        try """
            rules:
              - {name: app, on: app.log, actions: [{audit: "app {{ payload.msg }}"}]}
              - {name: deploy, on: deploy, actions: [{audit: "deploy {{ payload.msg }}"}]}
            """.write(toFile: rulesPath, atomically: true, encoding: .utf8)
        let log = directory + "/app.jsonl"
        let kinds = directory + "/kinds.jsonl"
        try (#"{"level":"info","msg":"started"}"# + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        try (#"{"kind":"deploy","msg":"v2"}"# + "\n").write(toFile: kinds, atomically: true, encoding: .utf8)
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        for (options, expected) in [(["--follow", log, "--json", "app.log"], "app started"), (["--follow", kinds, "--type-from", "kind"], "deploy v2")] {
            let server = try ServingCommand(["--rules", rulesPath, "--db", directory + "/h.db", "--key-file", directory + "/key"] + options, directory: directory)
            try #require(server.port > 0, "\(server.stderr)")
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline, try !audits(directory).contains(expected) { usleep(50_000) }
            #expect(try audits(directory).contains(expected), "\(server.stderr)")
            #expect(server.stop(with: SIGTERM) == 143)
        }
        let unused = try CommandRunner.run(["serve", rulesPath, "--json", "app.log", "--no-history"])
        #expect(unused.status == 64)
        #expect(unused.stderr.contains("--json says how to read --follow files: name one with --follow FILE."), "\(unused.stderr)")
    }
}
