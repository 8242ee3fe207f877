import Foundation
@testable import SymphonyStore
import Testing

/// `symphony history prune` and `run --retain`: old links go with their rows, the rest still verifies.
@Suite(.timeLimit(.minutes(12))) struct HistoryPruneCommandTests {
    static let rules = """
        rules:
          - name: later
            on: ping
            actions:
              - delay: {after: 1h, type: pong.later}
          - name: greet
            on: hello
            actions:
              - emit: {type: hi}
              - audit: "greeted {{ id }}"
        """

    /// A database and key with two runs: `a-…` events, then (after the returned cut) `b-…` events.
    struct TwoRuns {
        let directory: String
        let db: String
        let key: String
        let rules: String
        let cut: String
        var common: [String] { ["--db", db, "--key-file", key] }
    }

    static func twoRuns() throws -> TwoRuns {
        let directory = try freshDirectory()
        let (db, key) = (directory + "/h.db", directory + "/key")
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8))
        let first = #"{"type":"hello","id":"a-1"}"# + "\n" + #"{"type":"ping","id":"a-2"}"# + "\n" + #"{"type":"hello","id":"a-3"}"# + "\n"
        #expect(try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", key], stdin: first).status == 0)
        usleep(50_000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let cut = formatter.string(from: Date())
        usleep(50_000)
        let second = #"{"type":"hello","id":"b-1"}"# + "\n"
        #expect(try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", key], stdin: second).status == 0)
        return TwoRuns(directory: directory, db: db, key: key, rules: rules, cut: cut)
    }

    static func count(_ sql: String, in db: String) throws -> Int64 {
        try SQLiteDatabase(path: db, readOnly: true, create: false).prepare(sql).rows { $0.int(0) }.first ?? -1
    }

    @Test("prune removes what was committed before the cut, keeps pending delays and unfinished side effects, and audit verify reports the pruned links")
    func prunesAndStillVerifies() throws {
        let runs = try Self.twoRuns()
        // Side effects are not chained: one finished, one queued, one dead, all queued an hour ago.
        let hourAgo = Int64(Date().timeIntervalSince1970 - 3_600) * 1_000_000_000
        let database = try SQLiteDatabase(path: runs.db)
        for (key, state) in [("r/a-1/0", 1), ("r/a-1/1", 0), ("r/a-1/2", 2)] {
            try database.prepare(
                "INSERT INTO outbox (action_key, event_id, event_type, rule, kind, request, state, queued_ns, next_ns, queue_seq) VALUES (?, 'a-1', 'hello', 'r', 7, x'00', ?, ?, ?, ?)"
            ).run([.text(key), .int(Int64(state)), .int(hourAgo), .int(hourAgo), .int(Int64(state + 1))])
        }
        let lastPrunable = try Self.count("SELECT max(seq) FROM chain WHERE time_ns < \(try Self.nanoseconds(runs.cut))", in: runs.db)
        let eventsBefore = try Self.count("SELECT count(*) FROM events", in: runs.db)

        let dry = try CommandRunner.run(["history", "prune", "--before", runs.cut, "--dry-run", "--db", runs.db])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.hasPrefix("would prune links 1…\(lastPrunable) committed before "), "\(dry.stdout)")
        #expect(dry.stdout.contains("1 finished side effects; 1 pending delayed events carried forward"), "\(dry.stdout)")
        #expect(try Self.count("SELECT count(*) FROM events", in: runs.db) == eventsBefore)

        let pruned = try CommandRunner.run(["history", "prune", "--before", runs.cut, "--as", "user:ops"] + runs.common)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.hasPrefix("pruned links 1…\(lastPrunable) committed before "), "\(pruned.stdout)")
        #expect(pruned.stdoutLines.contains("the chain now starts after link \(lastPrunable); 'symphony audit verify' checks it from there"))

        let verify = try CommandRunner.run(["audit", "verify"] + runs.common)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdoutLines.first?.hasPrefix("history intact: ") == true)
        #expect(verify.stdoutLines.last?.hasPrefix("links 1…\(lastPrunable) were pruned at ") == true, "\(verify.stdout)")
        #expect(verify.stdout.contains(" by user:ops (everything committed before "))
        #expect(verify.stdout.contains("the chain is verified from link \(lastPrunable + 1), which follows the signed start"))

        // Run A's events and executions are gone, run B's are there; the delay run A scheduled is still pending.
        #expect(try Self.count("SELECT count(*) FROM events WHERE id LIKE 'a-%'", in: runs.db) == 0)
        #expect(try Self.count("SELECT count(*) FROM executions WHERE event_id LIKE 'a-%'", in: runs.db) == 0)
        #expect(try Self.count("SELECT count(*) FROM events WHERE id = 'b-1'", in: runs.db) == 1)
        #expect(try Self.count("SELECT min(seq) FROM chain", in: runs.db) == lastPrunable + 1)
        let pending = try CommandRunner.run(["history", "--status", "pending", "--format", "json"] + runs.common)
        #expect(jsonLines(pending.stdout).map { $0["type"] as? String } == ["pong.later"])
        // Only the finished side effect went.
        let outbox = try SQLiteDatabase(path: runs.db, readOnly: true, create: false).prepare("SELECT action_key FROM outbox ORDER BY queue_seq").rows {
            $0.text(0) ?? ""
        }
        #expect(outbox == ["r/a-1/1", "r/a-1/2"])
        // The prune is in the audit trail, which the chain covers.
        let records = try CommandRunner.run(["audit", "list", "--operation", "history.prune", "--format", "json"] + runs.common)
        let record = jsonLines(records.stdout).first
        #expect(record?["principal"] as? String == "user:ops")
        let details = (record?["details"] as? String) ?? ""
        #expect(details.hasPrefix("links 1…\(lastPrunable) committed before "))
        // A later run goes on from there (numbering included), and the history still verifies.
        let executionsMax = try Self.count("SELECT max(seq) FROM executions", in: runs.db)
        #expect(try CommandRunner.run(["run", "--rules", runs.rules] + runs.common, stdin: #"{"type":"hello","id":"c-1"}"# + "\n").status == 0)
        #expect(try Self.count("SELECT min(seq) FROM executions WHERE event_id = 'c-1'", in: runs.db) == executionsMax + 1)
        #expect(try CommandRunner.run(["audit", "verify"] + runs.common).status == 0)
        // Nothing is left to prune before the same cut.
        let again = try CommandRunner.run(["history", "prune", "--before", runs.cut] + runs.common)
        #expect(again.stdoutLines.first?.hasPrefix("nothing to prune before ") == true, "\(again.stdout)")
    }

    @Test("after a prune, tampering is still detected: an edited row, a link cut from the new front, a forged or removed start, a fake prune")
    func tamperingAfterPrune() throws {
        let runs = try Self.twoRuns()
        let prune = try CommandRunner.run(["history", "prune", "--before", runs.cut] + runs.common)
        #expect(prune.status == 0, "\(prune.stderr)")
        let start = try Self.count("SELECT max(link) FROM chain_start", in: runs.db)
        let cases: [(sql: String, message: String)] = [
            ("UPDATE executions SET message = 'nothing to see' WHERE event_id = 'b-1' AND kind = 3", "rows of link"),
            (
                "DROP TRIGGER chain_no_delete; DELETE FROM chain WHERE seq = \(start + 1)",
                "link \(start + 1) is missing (the chain starts after link \(start), where a prune left it, but its first link is \(start + 2))"
            ),
            ("DROP TRIGGER chain_start_no_update; UPDATE chain_start SET link = link + 1", "does not verify under key"),
            ("DROP TRIGGER chain_start_no_update; UPDATE chain_start SET principal = 'user:nobody'", "does not verify under key"),
            ("DROP TRIGGER chain_start_no_delete; DELETE FROM chain_start", "no signed start says they were pruned"),
        ]
        for (sql, message) in cases {
            let copy = runs.directory + "/tampered-\(UUID().uuidString).db"
            try FileManager.default.copyItem(atPath: runs.db, toPath: copy)
            try SQLiteDatabase(path: copy).execute(sql)
            let verify = try CommandRunner.run(["audit", "verify", "--db", copy, "--key-file", runs.key])
            #expect(verify.status == 2, "\(sql)")
            #expect(verify.stderr.contains(message), "\(sql): \(verify.stderr)")
        }
        // Someone without the key cuts the front of an unpruned history and writes a start: its MAC gives it away.
        let fresh = try Self.twoRuns()
        let database = try SQLiteDatabase(path: fresh.db)
        let hash = try database.prepare("SELECT hash FROM chain WHERE seq = 2").rows { $0.blob(0) ?? [] }[0]
        try database.prepare(
            """
            INSERT INTO chain_start (link, hash, database_id, cut_ns, pruned_ns, principal, key_id, mac, executions_seq, dead_letters_seq, changes_seq, audit_seq)
            SELECT 2, ?, 'x', 0, 0, 'user:mallory', key_id, zeroblob(32), 0, 0, 0, 0 FROM chain_head
            """
        ).run([.blob(hash)])
        try database.execute("DELETE FROM chain WHERE seq <= 2; DELETE FROM audit WHERE link <= 2")
        let verify = try CommandRunner.run(["audit", "verify"] + fresh.common)
        #expect(verify.status == 2)
        #expect(verify.stderr.contains("the chain's start (after link 2) does not verify under key"), "\(verify.stderr)")
        // And no run extends it.
        let run = try CommandRunner.run(["run", "--rules", fresh.rules] + fresh.common, stdin: "")
        #expect(run.status == 1)
        #expect(run.stderr.contains("The history chain is broken at link 3: the chain's start (after link 2) does not verify"), "\(run.stderr)")
    }

    @Test("a checkpoint written before a prune still verifies after it, and the next run replaces it")
    func checkpointAcrossPrune() throws {
        let runs = try Self.twoRuns()
        let checkpoint = runs.directory + "/cp"
        #expect(try CommandRunner.run(["run", "--rules", runs.rules, "--checkpoint", checkpoint] + runs.common, stdin: "").status == 0)
        let prune = try CommandRunner.run(["history", "prune", "--before", "0s"] + runs.common)
        #expect(prune.status == 0, "\(prune.stderr)")
        let verify = try CommandRunner.run(["audit", "verify", "--checkpoint", checkpoint] + runs.common)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdoutLines.first?.hasSuffix("found") == true)
        let next = try CommandRunner.run(["run", "--rules", runs.rules, "--checkpoint", checkpoint] + runs.common, stdin: "")
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try CommandRunner.run(["audit", "verify", "--checkpoint", checkpoint] + runs.common).status == 0)
    }

    @Test("run --retain prunes what is older than the retention, as it runs, and records it")
    func retainWhileRunning() throws {
        let runs = try Self.twoRuns()
        usleep(1_100_000)
        let run = try CommandRunner.run(["run", "--rules", runs.rules, "--retain", "1s"] + runs.common, stdin: #"{"type":"hello","id":"c-1"}"# + "\n")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.count("SELECT count(*) FROM events WHERE id LIKE 'a-%' OR id LIKE 'b-%'", in: runs.db) == 0)
        #expect(try Self.count("SELECT count(*) FROM scheduled WHERE state = 'pending'", in: runs.db) == 1)
        let records = try CommandRunner.run(["audit", "list", "--operation", "history.prune", "--format", "json"] + runs.common)
        let details = (jsonLines(records.stdout).first?["details"] as? String) ?? ""
        #expect(details.hasSuffix("; retention 1s"), "\(records.stdout)")
        let verify = try CommandRunner.run(["audit", "verify"] + runs.common)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains(" were pruned at "))
    }

    @Test("prune --vacuum rebuilds the file, which still verifies")
    func vacuum() throws {
        let runs = try Self.twoRuns()
        let prune = try CommandRunner.run(["history", "prune", "--before", "0s", "--vacuum"] + runs.common)
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(prune.stdoutLines.last?.hasPrefix("vacuumed: ") == true, "\(prune.stdout)")
        #expect(try Self.count("PRAGMA auto_vacuum", in: runs.db) == 2)
        #expect(try CommandRunner.run(["audit", "verify"] + runs.common).status == 0)
    }

    @Test("bad input to prune and --retain is a usage error, a missing database or key exits 1, a policy without history:prune 77")
    func badInput() throws {
        let runs = try Self.twoRuns()
        let usage: [([String], String)] = [
            (["history", "prune"], "Missing expected argument '--before <WHEN>'"),
            (["history", "prune", "--before", "yesterday"], "--before takes a duration (30m, 24h, 7d) or an RFC 3339 time, not 'yesterday'."),
            (["history", "prune", "--before", "2200-01-01T00:00:00Z"], "--before must not be in the future"),
            (["history", "prune", "--before", "1d", "--dry-run", "--vacuum"], "--dry-run and --vacuum contradict each other"),
            (["run", "--rules", runs.rules, "--retain", "0s"], "--retain takes a positive duration (30d, 12h, 90m), not '0s'."),
            (["run", "--rules", runs.rules, "--retain", "forever"], "--retain takes a positive duration"),
            (["run", "--rules", runs.rules, "--retain", "1d", "--no-history"], "--retain '1d' needs a history"),
        ]
        for (arguments, message) in usage {
            let result = try CommandRunner.run(arguments, stdin: "")
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let noDatabase = try CommandRunner.run(["history", "prune", "--before", "1d", "--db", runs.directory + "/none.db"])
        #expect(noDatabase.status == 1)
        #expect(noDatabase.stderrLines == ["symphony: no history database at '\(runs.directory)/none.db'; 'symphony run' creates it (or pass --db)."])
        let noKey = try CommandRunner.run(["history", "prune", "--before", "1d", "--db", runs.db])
        #expect(noKey.status == 1)
        #expect(noKey.stderr.contains("history prune needs the key file"))
        let policy = try temporaryFile(named: "policy.yaml", contents: Data("roles:\n  reader: [\"history:read\"]\nprincipals:\n  user:ops: [reader]\n".utf8))
        let denied = try CommandRunner.run(["history", "prune", "--before", "1d", "--policy", policy, "--as", "user:ops"] + runs.common)
        #expect(denied.status == 77)
        #expect(denied.stderrLines == ["symphony: access denied: 'user:ops' lacks the permission 'history:prune'"])
        #expect(try CommandRunner.run(["history", "prune", "--help"]).stdout.contains("--before <WHEN>"))
        #expect(try CommandRunner.run(["run", "--help"]).stdout.contains("--retain <DURATION>"))
        #expect(try CommandRunner.run(["serve", "--help"]).stdout.contains("--retain <DURATION>"))
        let serve = try CommandRunner.run(["serve", "--rules", runs.rules, "--retain", "0s"])
        #expect(serve.status == 64)
        #expect(serve.stderr.contains("--retain takes a positive duration"))
    }

    static func nanoseconds(_ rfc3339: String) throws -> Int64 {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = try #require(formatter.date(from: rfc3339))
        return Int64((date.timeIntervalSince1970 * 1_000).rounded()) * 1_000_000
    }
}
