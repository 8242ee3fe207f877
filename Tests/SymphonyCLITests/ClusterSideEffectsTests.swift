import Foundation
import Glibc
import SymphonyConcurrency
import SymphonyPostgres
import Testing

/// Side effects on a cluster: queued in `symphony_outbox` with the batch that made them, tried by
/// the node holding their lease, each try recorded and chained; a node that dies mid-try leaves
/// the side effect to another once its lease runs out.
@Suite(
    .enabled(
        if: ProcessInfo.processInfo.environment["SYMPHONY_TEST_POSTGRES"] != nil,
        "SYMPHONY_TEST_POSTGRES is not set: run `make test`, which starts a throwaway PostgreSQL cluster"),
    .timeLimit(.minutes(10)))
struct ClusterSideEffectsTests {
    static let policy = """
        roles:
          runner: ["rules:load", "events:publish:*", "actions:exec", "actions:file:*", "history:read", "audit:verify"]
        principals:
          user:ops: [runner]
        """

    /// A directory with the rules `rules` writes for it, the policy and a key.
    func setUp(_ rules: (_ directory: String) -> String) throws -> String {
        let directory = try freshDirectory()
        try rules(directory).write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        try Self.policy.write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        return directory
    }

    func node(_ name: String, url: String, directory: String, events: String) -> [String] {
        [
            "run", directory + "/rules.yaml", "--events", events, "--store", url, "--node", name, "--key-file", directory + "/key",
            "--policy", directory + "/policy.yaml", "--as", "user:ops",
        ]
    }

    func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test("two nodes: every file append runs once, for whichever node handled its event; an exec that keeps failing is tried 3 times, then dead; every try is in history and on a chain")
    func appendsAndRetries() throws {
        let (url, drop) = try ClusterNodesTests.database()
        defer { drop() }
        let directory = try setUp { directory in
            """
            rules:
              - name: note
                on: tick
                actions: [{file: {path: '\(directory)/notes', line: 'tick {{ id }}'}}]
              - name: flaky
                on: tick
                when: {field: payload.n, equals: 0}
                retry: {attempts: 3, backoff: 50ms}
                actions: [{exec: [/bin/sh, -c, 'exit 3']}]
            """
        }
        for (index, name) in ["a", "b"].enumerated() {
            let events = (0..<100).map { #"{"type":"tick","id":"\#(name)\#($0)","payload":{"n":\#(index * 100 + $0)}}"# }.joined(separator: "\n") + "\n"
            try events.write(toFile: directory + "/\(name).jsonl", atomically: true, encoding: .utf8)
        }
        // Both nodes at once, each reading its own file; each exits once the cluster has nothing left.
        let results = Locked<[String: CommandResult]>([:])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let name = ["a", "b"][index]
            let result = try? CommandRunner.run(node(name, url: url, directory: directory, events: directory + "/\(name).jsonl"))
            results.withLock { $0[name] = result }
        }
        for name in ["a", "b"] {
            let result = results.withLock { $0[name] }
            #expect(result?.status == 0, "\(result?.stderr ?? "did not run")")
        }

        let notes = lines(directory + "/notes")
        #expect(notes.count == 200 && Set(notes) == Set((0..<100).flatMap { ["tick a\($0)", "tick b\($0)"] }), "\(notes.count) lines")
        let observer = try PostgresConnection(url: url)
        #expect(try observer.execute("SELECT count(*) FROM symphony_executions WHERE rule = 'note' AND outcome = 'ok'").int(0, 0) == 200)
        // The exec failed three times, then gave up: a dead letter kept in the outbox with why.
        let tries = try observer.execute("SELECT outcome, message FROM symphony_executions WHERE rule = 'flaky' ORDER BY started_ns").values
        #expect(tries.map { $0[0] } == ["failed", "failed", "failed"], "\(tries)")
        #expect(tries.last?[1]?.hasPrefix("exit 3 (try 3 of 3, action flaky/a0/0)") == true, "\(tries)")
        #expect(try observer.execute("SELECT key, attempts, state, last_error FROM symphony_outbox").values == [["flaky/a0/0", "3", "2", "gave up after 3 tries: exit 3"]])
        let history = try CommandRunner.run(["history", "--store", url, "--rule", "flaky", "--format", "csv"])
        #expect(history.stdout.split(separator: "\n").count == 4, "\(history.stdout)")
        let dead = try CommandRunner.run(["history", "--store", url, "--status", "dead", "--format", "csv"])
        #expect(dead.status == 0, "\(dead.stderr)")
        let deadRows = dead.stdout.split(separator: "\n")
        #expect(deadRows.first == "queued,action_key,action,tries,error", "\(dead.stdout)")
        #expect(deadRows.count == 2 && deadRows[1].hasSuffix(",flaky/a0/0,exec,3,gave up after 3 tries: exit 3"), "\(dead.stdout)")
        let queued = try CommandRunner.run(["history", "--store", url, "--status", "queued", "--format", "csv"])
        #expect(queued.stdout.split(separator: "\n").count == 1, "nothing left to try: \(queued.stdout)")
        let verify = try CommandRunner.run(["audit", "verify", "--store", url, "--key-file", directory + "/key"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("chains"), "\(verify.stdout)")
    }

    @Test("retry --store lists a cluster's dead letters and runs them again here: one that now works is done, recorded, chained and audited")
    func retryDeadLetters() throws {
        let (url, drop) = try ClusterNodesTests.database()
        defer { drop() }
        let directory = try setUp { directory in
            """
            rules:
              - name: note
                on: tick
                retry: {attempts: 1}
                actions: [{file: {path: '\(directory)/later/notes', line: 'tick {{ id }}'}}]
            """
        }
        try (#"{"type":"tick","id":"t1"}"# + "\n").write(toFile: directory + "/in.jsonl", atomically: true, encoding: .utf8)
        // The directory is missing: the append fails, and with one try allowed it is a dead letter at once.
        let run = try CommandRunner.run(node("a", url: url, directory: directory, events: directory + "/in.jsonl"))
        #expect(run.status == 0, "\(run.stderr)")
        let store = ["--store", url, "--key-file", directory + "/key", "--policy", directory + "/policy.yaml", "--as", "user:ops"]
        let listed = try CommandRunner.run(["retry", "--list"] + store)
        #expect(listed.status == 0 && listed.stdout.hasPrefix("note/t1/0  file  "), "\(listed.stdout) \(listed.stderr)")
        try FileManager.default.createDirectory(atPath: directory + "/later", withIntermediateDirectories: false)
        // The policy is checked again: one that no longer grants file appends refuses it, and it stays a dead letter.
        let refusing = "roles:\n  runner: [\"history:read\", \"audit:read\"]\nprincipals:\n  user:ops: [runner]\n"
        try refusing.write(toFile: directory + "/refusing.yaml", atomically: true, encoding: .utf8)
        let refused = try CommandRunner.run(
            ["retry", "--store", url, "--key-file", directory + "/key", "--policy", directory + "/refusing.yaml", "--as", "user:ops"])
        #expect(refused.status == 77, "\(refused.stderr)")
        #expect(refused.stderr.contains("note/t1/0: ") && refused.stderr.contains("it stays a dead letter"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/later/notes"))
        #expect(try CommandRunner.run(["retry", "--list"] + store).stdout.hasPrefix("note/t1/0  file  "))
        let denials = try CommandRunner.run(["audit", "list", "--store", url, "--operation", "access.denied"])
        #expect(denials.stdout.contains("note/t1/0"), "\(denials.stdout)")
        let retried = try CommandRunner.run(["retry"] + store)
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(retried.stdout.hasPrefix("note  file  ok  appended "), "\(retried.stdout)")
        #expect(retried.stderr.contains("1 retried: 1 succeeded, 0 dead letters again"), "\(retried.stderr)")
        #expect(lines(directory + "/later/notes") == ["tick t1"])
        let observer = try PostgresConnection(url: url)
        #expect(try observer.execute("SELECT count(*) FROM symphony_outbox").int(0, 0) == 0)
        let tries = try observer.execute("SELECT node LIKE 'retry-%', outcome FROM symphony_executions WHERE rule = 'note' ORDER BY seq").values
        #expect(tries == [["f", "failed"], ["t", "ok"]], "\(tries)")
        let audit = try CommandRunner.run(["audit", "list", "--store", url, "--operation", "actions.retry"])
        #expect(audit.stdout.contains("1 dead side effects queued again: note/t1/0"), "\(audit.stdout)")
        #expect(try CommandRunner.run(["retry", "--list"] + store).stdout == "(no dead letters)\n")
        let verify = try CommandRunner.run(["audit", "verify", "--store", url, "--key-file", directory + "/key"])
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    @Test("a node killed -9 while a side effect runs: once its lease runs out, another node runs it again, and it is recorded once")
    func killedMidTry() throws {
        let (url, drop) = try ClusterNodesTests.database()
        defer { drop() }
        let directory = try setUp { directory in
            """
            rules:
              - name: slow
                on: tick
                actions: [{exec: {command: [/bin/sh, -c, 'echo "$SYMPHONY_ACTION_KEY" >> \(directory)/started; sleep 4'], timeout: 5s}}]
            """
        }
        try (#"{"type":"tick","id":"t1"}"# + "\n").write(toFile: directory + "/in.jsonl", atomically: true, encoding: .utf8)
        let doomed = Process()
        doomed.executableURL = CommandRunner.binary
        doomed.arguments = node("doomed", url: url, directory: directory, events: directory + "/in.jsonl") + ["--follow"]
        doomed.environment = testEnvironment()
        doomed.standardOutput = FileHandle.nullDevice
        doomed.standardError = FileHandle.nullDevice
        try doomed.run()
        defer { if doomed.isRunning { kill(doomed.processIdentifier, SIGKILL) } }
        let deadline = Date(timeIntervalSinceNow: 120)
        while lines(directory + "/started").isEmpty && Date() < deadline { usleep(20_000) }
        #expect(lines(directory + "/started") == ["slow/t1/0"], "the try started on the doomed node")
        kill(doomed.processIdentifier, SIGKILL)
        doomed.waitUntilExit()

        // The survivor has no input of its own: it waits while the entry is leased to the dead node
        // (the try's 5 s timeout and 30 s more, from when the try started), then claims it, runs it,
        // and exits once the cluster is drained.
        try "".write(toFile: directory + "/none.jsonl", atomically: true, encoding: .utf8)
        let started = Date()
        let survivor = try CommandRunner.run(node("survivor", url: url, directory: directory, events: directory + "/none.jsonl"))
        #expect(survivor.status == 0, "\(survivor.stderr)")
        #expect(Date().timeIntervalSince(started) > 20, "the lease was waited for, not taken over at once")
        #expect(lines(directory + "/started") == ["slow/t1/0", "slow/t1/0"], "run again, under the same action key")
        let observer = try PostgresConnection(url: url)
        #expect(try observer.execute("SELECT node, outcome FROM symphony_executions WHERE rule = 'slow'").values == [["survivor", "ok"]])
        #expect(try observer.execute("SELECT count(*) FROM symphony_outbox").int(0, 0) == 0)
        let verify = try CommandRunner.run(["audit", "verify", "--store", url, "--key-file", directory + "/key"])
        #expect(verify.status == 0, "\(verify.stderr)")
    }
}
