import Foundation
import Glibc
import SymphonyPostgres
import Testing

/// `symphony serve --store`: the HTTP service as a node of a cluster. A submission is answered
/// once its events are committed to the shared queue, and any node handles them.
@Suite(
    .enabled(
        if: ProcessInfo.processInfo.environment["SYMPHONY_TEST_POSTGRES"] != nil,
        "SYMPHONY_TEST_POSTGRES is not set: run `make test`, which starts a throwaway PostgreSQL cluster"),
    .timeLimit(.minutes(10)))
struct ClusterServeTests {
    /// A window over five ticks of one key, and an audit of every tick that names the rules' version.
    static func rules(_ version: String, extra: String = "") -> String {
        """
        rules:
          - name: burst
            on: tick
            count: {key: "{{ payload.k }}", at_least: 5, within: 1h}
            actions: [{audit: "burst {{ window.key }}"}]
          - name: seen
            on: tick
            actions: [{audit: "\(version) {{ payload.n }}"}]
        \(extra)
        """
    }

    static let policy = """
        roles:
          ops: ["rules:load", "events:publish:tick", "metrics:read", "actions:file:*"]
        principals:
          user:ops: [ops]
        """

    /// A directory with the rules (`version`), the policy and a key.
    func setUp(_ version: String = "v1") throws -> String {
        let directory = try freshDirectory()
        try Self.rules(version).write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        try Self.policy.write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        return directory
    }

    /// `serve --store url` as node `name`, acting as `user:ops`.
    func serve(_ name: String, url: String, directory: String) throws -> ServingCommand {
        let server = try ServingCommand(
            [
                "--rules", directory + "/rules.yaml", "--store", url, "--node", name, "--key-file", directory + "/key",
                "--policy", directory + "/policy.yaml", "--as", "user:ops",
            ], directory: directory)
        try #require(server.port > 0, "\(server.stderr)")
        return server
    }

    static func ticks(_ numbers: Range<Int>, key: (Int) -> String) -> Data {
        Data(numbers.map { #"{"type":"tick","id":"t\#($0)","payload":{"k":"\#(key($0))","n":\#($0)}}"# }.joined(separator: "\n").utf8)
    }

    /// Polls until `condition` holds (bounded: the bound only ends a failing test).
    func eventually(_ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date(timeIntervalSinceNow: 120)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return false
    }

    /// The audit messages of rule `rule`, sorted.
    func messages(_ rule: String, _ connection: PostgresConnection) throws -> [String] {
        try connection.execute("SELECT message FROM symphony_executions WHERE rule = $1 AND outcome = 'ok' ORDER BY message", [.text(rule)]).values
            .map { $0[0] ?? "" }
    }

    @Test("two serve --store nodes: a key's ticks split between them fire its window once; a node killed -9 right after answering 200 loses none of the events it took")
    func twoNodesAndKill() throws {
        let (url, drop) = try ClusterNodesTests.database()
        defer { drop() }
        let directory = try setUp()
        let first = try serve("web1", url: url, directory: directory)
        let second = try serve("web2", url: url, directory: directory)
        let observer = try PostgresConnection(url: url)

        let a = try first.request("POST", "/v1/events", body: Self.ticks(0..<3) { _ in "x" })
        #expect(a.status == 200 && String(decoding: a.body, as: UTF8.self).contains(#""accepted":3"#), "\(String(decoding: a.body, as: UTF8.self))")
        let b = try second.request("POST", "/v1/events", body: Self.ticks(3..<5) { _ in "x" })
        #expect(b.status == 200, "\(String(decoding: b.body, as: UTF8.self))")
        // Fifty more on the first node, which is killed as soon as it has answered.
        let c = try first.request("POST", "/v1/events", body: Self.ticks(5..<55) { "k\($0)" })
        #expect(c.status == 200 && String(decoding: c.body, as: UTF8.self).contains(#""accepted":50"#))
        // Answered: so every one of the fifty is in the database already, queued or handled.
        let stored = try observer.execute(
            """
            SELECT count(DISTINCT id) FROM (SELECT event_id AS id FROM symphony_queue UNION ALL SELECT event_id FROM symphony_handled) s
            WHERE id = ANY($1::text[])
            """, [.textArray((5..<55).map { "t\($0)" })])
        #expect(try stored.int(0, 0) == 50)
        #expect(first.stop(with: SIGKILL) == SIGKILL)

        // The second node handles whatever the first left in the queue.
        #expect(try eventually { try ClusterNodesTests.handled(observer)["tick"] == 55 }, "\(String(describing: try? ClusterNodesTests.handled(observer)))")
        #expect(try messages("seen", observer) == (0..<55).map { "v1 \($0)" }.sorted())
        #expect(try messages("burst", observer) == ["burst x"], "the key's five ticks, taken by two nodes, fire its window once")
        #expect(second.stop(with: SIGTERM) == 143)
        #expect(second.stderr.contains("symphony: node web2: 2 events read, 0 rejected, 0 denied, "), "\(second.stderr)")
        let verify = try CommandRunner.run(["audit", "verify", "--store", url, "--key-file", directory + "/key"])
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    @Test("serve --store: rejected and denied lines are answered per line and counted; POST /v1/reload swaps the rules, refuses a broken rule set, brings side effects; metrics and readiness")
    func submissionsReloadAndMetrics() throws {
        let (url, drop) = try ClusterNodesTests.database()
        defer { drop() }
        let directory = try setUp()
        let server = try serve("web", url: url, directory: directory)
        let observer = try PostgresConnection(url: url)

        let mixed = Data(
            [
                #"{"type":"tick","id":"t1","payload":{"k":"a","n":1}}"#, "not json", #"{"type":"tock","id":"x1"}"#,
                #"{"type":"tick","id":"t2","source":"someone-else","payload":{"n":2}}"#,
            ].joined(separator: "\n").utf8)
        let answer = try server.request("POST", "/v1/events", body: mixed)
        let body = try #require(try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])
        #expect(answer.status == 200)
        #expect(body["accepted"] as? Int == 1 && body["rejected"] as? Int == 2 && body["denied"] as? Int == 1, "\(body)")
        let lines = (body["errors"] as? [[String: Any]])?.compactMap { $0["line"] as? Int }
        #expect(lines == [2, 3, 4], "\(body)")
        #expect(try eventually { try messages("seen", observer) == ["v1 1"] })

        try Self.rules("v2").write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        let reloaded = try server.request("POST", "/v1/reload")
        #expect(reloaded.status == 200, "\(String(decoding: reloaded.body, as: UTF8.self))")
        #expect(try server.request("POST", "/v1/events", body: Self.ticks(2..<3) { _ in "a" }).status == 200)
        #expect(try eventually { try messages("seen", observer) == ["v1 1", "v2 2"] })

        // A rule set with errors is refused (422), and v2 stays in force.
        try "rules: [{name: broken}]".write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        let refused = try server.request("POST", "/v1/reload")
        #expect(refused.status == 422)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("rules.yaml"), "\(String(decoding: refused.body, as: UTF8.self))")
        #expect(try server.request("POST", "/v1/events", body: Self.ticks(3..<4) { _ in "a" }).status == 200)
        #expect(try eventually { try messages("seen", observer) == ["v1 1", "v2 2", "v2 3"] })
        // A reload may bring side effects: the node's pools run them from the next batch on.
        try Self.rules("v3", extra: "  - {name: note, on: tick, actions: [{file: {path: '\(directory)/notes', line: 'n{{ payload.n }}'}}]}")
            .write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        #expect(try server.request("POST", "/v1/reload").status == 200)
        #expect(try server.request("POST", "/v1/events", body: Self.ticks(4..<5) { _ in "a" }).status == 200)
        #expect(try eventually { (try? String(contentsOfFile: directory + "/notes", encoding: .utf8)) == "n4\n" })

        // The cluster's audit trail: the rules loaded at the start and on each reload (one refused), and the denied event,
        // which is also a denied execution of '(input)'.
        // (A node writes audit records from a queue of its own: they may land a moment after the answer.)
        let rulesPath = directory + "/rules.yaml"
        let expected = [
            "rules.load \(rulesPath) ok", "access.denied tock denied", "rules.load \(rulesPath) ok", "rules.load \(rulesPath) failed", "rules.load \(rulesPath) ok",
        ]
        var records: [[String: Any]] = []
        var summary: [String] = []
        #expect(
            try eventually {
                let audit = try CommandRunner.run(["audit", "list", "--store", url, "--format", "json"])
                records = audit.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                summary = records.reversed().map { "\($0["operation"] ?? "") \($0["target"] ?? "") \($0["outcome"] ?? "")" }
                return summary == expected
            }, "\(summary)")
        #expect(records.allSatisfy { $0["principal"] as? String == "user:ops" })
        let deniedRows = try CommandRunner.run(["history", "--store", url, "--status", "denied", "--format", "csv"])
        // (Its type column is empty: a cluster knows the types of the events it handled, and this one was not.)
        #expect(deniedRows.stdout.contains(",x1,,(input),publish,denied,"), "\(deniedRows.stdout)")
        let onlyDenials = try CommandRunner.run(["audit", "list", "--store", url, "--operation", "access.denied", "--format", "json"])
        #expect(onlyDenials.stdout.split(separator: "\n").count == 1, "\(onlyDenials.stdout)")
        #expect(try CommandRunner.run(["audit", "verify", "--store", url, "--key-file", directory + "/key"]).status == 0)
        // An audit record changed behind the nodes' backs is caught.
        try observer.execute("UPDATE symphony_audit SET outcome = 'ok' WHERE operation = 'access.denied'")
        let broken = try CommandRunner.run(["audit", "verify", "--store", url, "--key-file", directory + "/key"])
        #expect(broken.status == 2 && broken.stderr.contains("in chain 'web/audit'") && broken.stderr.contains("symphony_audit rows were changed"), "\(broken.stderr)")

        let scrape = try PrometheusText(String(decoding: try server.request("GET", "/metrics").body, as: UTF8.self))
        func value(_ name: String) -> Double? { scrape.samples.first { $0.name == name && $0.labels.isEmpty }?.value }
        #expect(value("symphony_events_read_total") == 7)
        #expect(value("symphony_events_rejected_total") == 2)
        #expect(value("symphony_events_denied_total") == 1)
        #expect(value("symphony_events_processed_total") == 4)
        #expect(value("symphony_ready") == 1)
        #expect(try server.request("GET", "/readyz").status == 200)
        #expect(server.stop(with: SIGINT) == 130)
    }

    @Test("serve --store refuses what a node cannot take: --db, --no-history, --retain, a URL that is not PostgreSQL, --node alone, no key file")
    func refusedOptions() throws {
        let directory = try setUp()
        let rules = directory + "/rules.yaml"
        let url = "postgres://nobody@127.0.0.1:1/none"
        for (arguments, message) in [
            (["--store", url, "--db", directory + "/h.db"], "--db cannot be used with --store"),
            (["--store", url, "--no-history"], "--no-history cannot be used with --store"),
            (["--store", url, "--retain", "7d"], "--retain cannot be used with --store"),
            (["--store", "mysql://x/y"], "--store takes a PostgreSQL URL"),
            (["--node", "web"], "--node names a node of a cluster"),
        ] {
            let result = try CommandRunner.run(["serve", rules] + arguments)
            #expect(result.status == 64 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let noKey = try CommandRunner.run(["serve", rules, "--store", url, "--key-file", directory + "/missing"])
        #expect(noKey.status == 1 && noKey.stderr.contains("does not exist; create one with 'symphony keygen"), "\(noKey.stderr)")
    }
}
