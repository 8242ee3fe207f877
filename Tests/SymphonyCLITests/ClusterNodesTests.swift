import Foundation
import SymphonyPostgres
import Testing

/// `symphony run --store postgres://…`: nodes in separate processes share one queue, one set of
/// delayed events and one record of handled events; a node killed with SIGKILL at any moment and
/// restarted loses nothing and repeats nothing.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SYMPHONY_TEST_POSTGRES"] != nil, "SYMPHONY_TEST_POSTGRES is not set: run `make test`, which starts a throwaway PostgreSQL cluster"))
struct ClusterNodesTests {
    static let rules = """
        rules:
          - name: fan-out
            on: job.created
            actions:
              - publish: {type: job.step, payload: {n: "{{ payload.n }}"}}
              - delay: {after: 1s, type: job.later, payload: {n: "{{ payload.n }}"}}
          - name: step
            on: job.step
            actions: [{audit: "step {{ payload.n }}"}]
          - name: later
            on: job.later
            actions: [{emit: {type: job.done, payload: {n: "{{ payload.n }}"}}}]
        """

    /// `rules` with memory: a window and a throttle per key, and keyed delays, every other one
    /// cancelled by the step its event publishes (in the same batch, so always before it is due).
    static let memoryRules = rules.replacingOccurrences(
        of: #"publish: {type: job.step, payload: {n: "{{ payload.n }}"}}"#, with: #"publish: {type: job.step, payload: {n: "{{ payload.n }}", ack: "{{ payload.ack }}"}}"#)
        + """

          - name: burst
            on: job.created
            count: {key: "{{ payload.k }}", at_least: 5, within: 1h}
            actions: [{audit: "burst {{ window.key }}"}]
          - name: first-of-key
            on: job.created
            throttle: {key: "{{ payload.k }}", per: 1h}
            actions: [{audit: "first {{ throttle.key }}"}]
          - name: remind
            on: job.created
            when: {field: payload.remind, exists: true}
            actions: [{delay: {after: 1s, key: "job-{{ payload.n }}", type: job.reminder, payload: {n: "{{ payload.n }}"}}}]
          - name: ack
            on: job.step
            when: {field: payload.ack, equals: "yes"}
            actions: [{cancel: "job-{{ payload.n }}"}]
          - name: note
            on: job.reminder
            actions: [{file: {path: NOTES, line: "reminded {{ payload.n }}"}}]
        """

    /// Input event `n`: its window and throttle key is `n % 101`; every 10th schedules a keyed
    /// reminder, and every 20th cancels it.
    static func memoryLine(_ n: Int) -> String {
        #"{"type":"job.created","id":"in-\#(n)","payload":{"n":\#(n),"k":\#(n % 101)"#
            + (n % 10 == 0 ? #","remind":true"# : "") + (n % 20 == 0 ? #","ack":"yes""# : "") + "}}"
    }

    /// A database of its own in the test cluster; its URL.
    static func database() throws -> (url: String, drop: () -> Void) {
        let cluster = try #require(ProcessInfo.processInfo.environment["SYMPHONY_TEST_POSTGRES"])
        let name = "symphony_cluster_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try PostgresConnection(url: cluster).execute("CREATE DATABASE \(name)")
        var components = try #require(URLComponents(string: cluster))
        components.path = "/" + name
        return (try #require(components.string), { _ = try? PostgresConnection(url: cluster).execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") })
    }

    /// Starts `symphony run` as node `name` on `events`, its output in files beside them.
    static func startNode(_ name: String, url: String, events: String, directory: String, follow: Bool = true) throws -> Process {
        let process = Process()
        process.executableURL = CommandRunner.binary
        process.arguments =
            ["run", directory + "/rules.yaml", "--events", events, "--store", url, "--node", name, "--key-file", directory + "/key", "--workers", "2"]
            + (follow ? ["--follow"] : [])
        process.environment = testEnvironment()
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        if !FileManager.default.fileExists(atPath: directory + "/\(name).out") {
            _ = FileManager.default.createFile(atPath: directory + "/\(name).out", contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/\(name).out"))
        try log.seekToEnd()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = log
        try process.run()
        return process
    }

    /// Counts of handled events per type.
    static func handled(_ connection: PostgresConnection) throws -> [String: Int] {
        let rows = try connection.execute("SELECT event_type, count(*) FROM symphony_handled GROUP BY event_type")
        var counts: [String: Int] = [:]
        for row in 0..<rows.count { counts[rows.text(row, 0) ?? ""] = Int(try rows.int(row, 1) ?? 0) }
        return counts
    }

    @Test(
        "3 nodes, 5 SIGKILLs at random moments: every input line read once, every event handled once, every delay fired once, every key counted as on one node",
        .timeLimit(.minutes(15)))
    func killedNodes() throws {
        let perNode = Int(ProcessInfo.processInfo.environment["SYMPHONY_CLUSTER_TEST_EVENTS"] ?? "") ?? 66_667
        let (url, drop) = try Self.database()
        defer { drop() }
        let directory = try freshDirectory()
        try Self.memoryRules.replacingOccurrences(of: "NOTES", with: directory + "/notes").write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        for node in 0..<3 {
            // Ids of their own: a line read twice would repeat one (and be reported), not pass unseen.
            let lines = (0..<perNode).map { Self.memoryLine(node * perNode + $0) }
            try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/in\(node).jsonl", atomically: true, encoding: .utf8)
        }
        var nodes = try (0..<3).map { try Self.startNode("n\($0)", url: url, events: directory + "/in\($0).jsonl", directory: directory) }
        // Kill and restart nodes at moments no one picked: a seeded generator, so a failure can be replayed.
        var generator = SplitMix64(seed: UInt64(ProcessInfo.processInfo.environment["SYMPHONY_CLUSTER_TEST_SEED"] ?? "") ?? 0x5EED)
        let observer = try PostgresConnection(url: url)
        var kills = 0
        while kills < 5 {
            usleep(UInt32(200_000 + generator.next() % 1_500_000))
            let victim = Int(generator.next() % 3)
            kill(nodes[victim].processIdentifier, SIGKILL)
            nodes[victim].waitUntilExit()
            #expect(nodes[victim].terminationReason == .uncaughtSignal)
            kills += 1
            nodes[victim] = try Self.startNode("n\(victim)", url: url, events: directory + "/in\(victim).jsonl", directory: directory)
        }
        // Then wait until all is handled: each input event, its step, its delayed follow-up, and the reminders not cancelled.
        let total = 3 * perNode
        let reminded = (0..<total).count { $0 % 10 == 0 }
        let acked = (0..<total).count { $0 % 20 == 0 }
        let deadline = Date().addingTimeInterval(600)
        // (And every side effect done: no entry left in the outbox.)
        while Date() < deadline, nodes.allSatisfy(\.isRunning),
            try Self.handled(observer).values.reduce(0, +) < 3 * total + reminded - acked
                || observer.execute("SELECT count(*) FROM symphony_outbox").int(0, 0) != 0
        {
            usleep(200_000)
        }
        let allRunning = nodes.allSatisfy { $0.isRunning }
        #expect(allRunning, "a node stopped by itself")
        for node in nodes { node.terminate() }
        for node in nodes {
            node.waitUntilExit()
            // 143 once its handlers are installed; a node restarted moments before may still die of the signal itself.
            #expect(node.terminationStatus == 143 || (node.terminationReason == .uncaughtSignal && node.terminationStatus == SIGTERM))
        }
        let logs = (0..<3).map { (try? String(contentsOfFile: directory + "/n\($0).out", encoding: .utf8)) ?? "" }.joined(separator: "\n")
        #expect(
            try Self.handled(observer) == ["job.created": total, "job.step": total, "job.later": total, "job.reminder": reminded - acked], "\(logs.suffix(2_000))")
        #expect(try observer.execute("SELECT count(*) FROM symphony_queue").int(0, 0) == 0)
        #expect(try observer.execute("SELECT count(*) FROM symphony_scheduled").int(0, 0) == 0)
        // One outcome per action of each handled event: none recorded twice. Each key's window fired
        // once per 5 of its events, its throttle once, and every acknowledged reminder was cancelled.
        let keys = 101
        let bursts = (0..<keys).reduce(0) { sum, key in sum + (0..<total).count { $0 % keys == key } / 5 }
        let executions = try observer.execute(
            "SELECT rule, action, outcome, count(*), count(DISTINCT event_id) FROM symphony_executions GROUP BY rule, action, outcome")
        let expected: [[String]] = [
            ["ack", "cancel", "ok", "\(acked)"], ["burst", "audit", "ok", "\(bursts)"], ["fan-out", "delay", "ok", "\(total)"], ["fan-out", "publish", "ok", "\(total)"],
            ["first-of-key", "audit", "ok", "\(keys)"], ["first-of-key", "audit", "skipped", "\(total - keys)"], ["later", "emit", "ok", "\(total)"],
            ["note", "file", "ok", "\(reminded - acked)"], ["remind", "delay", "ok", "\(reminded)"], ["step", "audit", "ok", "\(total)"],
        ].map { $0 + [$0[3]] }
        #expect(executions.values.map { $0.map { $0 ?? "" } }.sorted { $0.lexicographicallyPrecedes($1) } == expected)
        #expect(try observer.execute("SELECT count(*) FROM symphony_executions WHERE rule = 'ack' AND message LIKE 'key job-%: cancelled %'").int(0, 0) == Int64(acked))
        // Every reminder not cancelled appended its line, at least once (a try on a killed node runs again), and is recorded once.
        let notes = ((try? String(contentsOfFile: directory + "/notes", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        let expectedNotes = Set((0..<total).filter { $0 % 10 == 0 && $0 % 20 != 0 }.map { "reminded \($0)" })
        #expect(Set(notes) == expectedNotes && notes.count >= expectedNotes.count, "\(notes.count) lines, \(Set(notes).count) distinct, \(expectedNotes.count) expected")
        // Every input line, by its id, exactly once.
        let inputs = try observer.execute("SELECT count(*) FROM symphony_handled WHERE event_type = 'job.created' AND event_id LIKE 'in-%'")
        #expect(try inputs.int(0, 0) == Int64(total))
        // The work was shared.
        #expect(try observer.execute("SELECT count(DISTINCT node) FROM symphony_handled").int(0, 0) == 3)
        // Audit messages are stored with their executions, and every row is on a chain that verifies.
        #expect(try observer.execute("SELECT count(*) FROM symphony_executions WHERE action = 'audit' AND message LIKE 'step %'").int(0, 0) == Int64(total))
        let verify = try CommandRunner.run(["audit", "verify", "--store", url, "--key-file", directory + "/key"])
        #expect(verify.status == 0, "\(verify.stderr)")
        // (And an audit record of the rules each of the 8 starts loaded.)
        let rows = (3 * total + reminded - acked) + (5 * total + bursts + reminded + acked) + (reminded - acked) + 8
        #expect(verify.stdout.contains("links covering \(rows) rows"), "\(verify.stdout)")
        let history = try CommandRunner.run(["history", "--store", url, "--rule", "step", "--limit", "1", "--format", "json"])
        #expect(history.status == 0, "\(history.stderr)")
        #expect(history.stdout.contains(#""message":"step "#) && history.stdout.contains(#""type":"job.step""#), "\(history.stdout)")
        // A row changed behind the nodes' backs is caught, with its chain and link named.
        try observer.execute("UPDATE symphony_executions SET outcome = 'failed' WHERE seq = (SELECT min(seq) FROM symphony_executions WHERE action = 'emit')")
        let broken = try CommandRunner.run(["audit", "verify", "--store", url, "--key-file", directory + "/key"])
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("cluster records broken in chain 'n"), "\(broken.stderr)")
        #expect(broken.stderr.contains("its symphony_executions rows were changed, added or removed"), "\(broken.stderr)")
        // One node, on one machine, on the same lines: the same firings of every window and throttle
        // (the window's as audits, the throttle's as emits, so that the summary counts them).
        let gates = """
            rules:
              - name: burst
                on: job.created
                count: {key: "{{ payload.k }}", at_least: 5, within: 1h}
                actions: [{audit: "burst {{ window.key }}"}]
              - name: first-of-key
                on: job.created
                throttle: {key: "{{ payload.k }}", per: 1h}
                actions: [{emit: {type: key.seen, payload: {k: "{{ throttle.key }}"}}}]
            """
        try gates.write(toFile: directory + "/gates.yaml", atomically: true, encoding: .utf8)
        /// As the summary writes counts: 1,728.
        func grouped(_ number: Int) -> String {
            let digits = Array(String(number))
            return String(digits.enumerated().flatMap { index, digit in index > 0 && (digits.count - index) % 3 == 0 ? [",", digit] : [digit] })
        }
        let single = try CommandRunner.run(
            ["run", directory + "/gates.yaml", "--no-history", "--format", "summary"] + (0..<3).flatMap { ["--events", directory + "/in\($0).jsonl"] })
        #expect(single.status == 0, "\(single.stderr.suffix(1_000))")
        #expect(single.stderr.contains("audit \(grouped(bursts)), emit \(grouped(keys)), "), "\(single.stderr.suffix(1_000))")
    }

    @Test("a node checks side effects against the policy as one machine does, and refuses a store that is not PostgreSQL and options that need a local history")
    func refusals() throws {
        let directory = try freshDirectory()
        try "rules: [{name: ban, on: x, actions: [{exec: [/bin/true]}]}]".write(
            toFile: directory + "/gated.yaml", atomically: true, encoding: .utf8)
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        let (url, drop) = try Self.database()
        defer { drop() }
        let (used, dropUsed) = try Self.database()
        defer { dropUsed() }
        let gated = try CommandRunner.run(
            ["run", directory + "/gated.yaml", "--store", used, "--key-file", directory + "/key", "--events", "-"], stdin: #"{"type":"x","id":"x1"}"# + "\n")
        #expect(gated.status == 0, "\(gated.stderr)")
        // Without a policy that grants actions:exec, the exec is denied — recorded, never queued.
        let denied = try PostgresConnection(url: used).execute("SELECT rule, action, outcome FROM symphony_executions").values
        #expect(denied == [["ban", "exec", "denied"]])
        #expect(try PostgresConnection(url: used).execute("SELECT count(*) FROM symphony_outbox").int(0, 0) == 0)
        let sqlite = try CommandRunner.run(["run", directory + "/gated.yaml", "--store", "/tmp/h.db"])
        #expect(sqlite.status == 64)
        #expect(sqlite.stderr.contains("--store takes a PostgreSQL URL"))
        let local = try CommandRunner.run(["run", directory + "/gated.yaml", "--store", "postgres://u:secret@h/d", "--no-history"])
        #expect(local.status == 64)
        #expect(local.stderr.contains("--no-history cannot be used with --store"))
        #expect(!local.stderr.contains("secret"))
        let node = try CommandRunner.run(["run", directory + "/gated.yaml", "--node", "a"])
        #expect(node.status == 64)
        // Reading a cluster's records: what it cannot answer yet is refused, and so is a database no node ran against.
        for (arguments, message) in [
            (["history", "--db", "h.db"], "--store and --db name two different stores"), (["history", "--key-file", "k"], "--key-file cannot be used with --store"),
        ] {
            let refused = try CommandRunner.run(arguments + ["--store", url])
            #expect(refused.status == 64, "\(arguments)")
            #expect(refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
        }
        // $SYMPHONY_STORE is named as such, and --db reads a SQLite history instead; a value that is not a URL is not echoed.
        let fromEnvironment = try CommandRunner.run(["history", "--key-file", "k"], environment: ["SYMPHONY_STORE": url])
        #expect(fromEnvironment.status == 64)
        #expect(fromEnvironment.stderr.contains("--key-file cannot be used with $SYMPHONY_STORE (set --db to read a SQLite history instead)"), "\(fromEnvironment.stderr)")
        let notURL = try CommandRunner.run(["audit", "verify"], environment: ["SYMPHONY_STORE": "host=h password=s3cret"])
        #expect(notURL.status == 64)
        #expect(notURL.stderr.contains("$SYMPHONY_STORE takes a PostgreSQL URL") && !notURL.stderr.contains("s3cret"), "\(notURL.stderr)")
        let empty = try CommandRunner.run(["history", "--store", url])
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("no node has run against it"), "\(empty.stderr)")
        let unverifiable = try CommandRunner.run(["audit", "verify", "--store", "postgres://u:secret@127.0.0.1:1/d", "--key-file", directory + "/key"])
        #expect(unverifiable.status == 1)
        #expect(unverifiable.stderr.contains("symphony: --store:") && !unverifiable.stderr.contains("secret"), "\(unverifiable.stderr)")
    }
}

/// Cluster nodes on inputs that need care: repeated ids, other keys, a last line still being written.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SYMPHONY_TEST_POSTGRES"] != nil, "SYMPHONY_TEST_POSTGRES is not set: run `make test`, which starts a throwaway PostgreSQL cluster"))
struct ClusterNodeInputTests {
    @Test("a repeated id is recorded as failed and not handled again; a node with another key is refused; a last line without newline waits for the next run")
    func inputs() throws {
        let (url, drop) = try ClusterNodesTests.database()
        defer { drop() }
        let directory = try freshDirectory()
        try ClusterNodesTests.rules.write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/other"]).status == 0)
        let events = directory + "/in.jsonl"
        try (#"{"type":"job.created","id":"a","payload":{"n":1}}"# + "\n" + #"{"type":"job.created","id":"a","payload":{"n":2}}"# + "\n"
            + #"{"type":"job.created","id":"b","payload":{"n":3}}"#).write(toFile: events, atomically: true, encoding: .utf8)
        func run(_ key: String) throws -> CommandResult {
            try CommandRunner.run(["run", directory + "/rules.yaml", "--events", events, "--store", url, "--node", "a", "--key-file", directory + "/" + key])
        }
        let first = try run("key")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("the last line has no newline yet (49 bytes); it is left for the next run"), "\(first.stderr)")
        #expect(first.stderr.contains("1 events repeated an id already handled (not handled again)"), "\(first.stderr)")
        let observer = try PostgresConnection(url: url)
        #expect(try observer.execute("SELECT count(*) FROM symphony_handled WHERE event_type = 'job.created'").int(0, 0) == 1)
        // The line is completed: the next run reads it, and only it.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: events))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n".utf8))
        try handle.close()
        let second = try run("key")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("node a: 1 events read"), "\(second.stderr)")
        #expect(try observer.execute("SELECT event_id FROM symphony_handled WHERE event_type = 'job.created' ORDER BY event_id").values == [["a"], ["b"]])
        let wrongKey = try run("other")
        #expect(wrongKey.status == 74)
        #expect(wrongKey.stderr.contains("give every node the same --key-file"), "\(wrongKey.stderr)")
    }
}
