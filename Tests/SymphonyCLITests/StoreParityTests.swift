import Foundation
import SymphonyPostgres
import Testing

/// The same rules on the same lines, run by one node on a SQLite history and by a cluster node
/// on PostgreSQL: `symphony history` lists the same executions from both stores, with the same
/// filters (`--rule`, `--key`, `--status`, `--event`, `--type`) and the same columns, the same
/// side-effect tries, the same `--stats` counts, the same `--trace` (payloads aside), and the
/// same pending delays.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SYMPHONY_TEST_POSTGRES"] != nil, "SYMPHONY_TEST_POSTGRES is not set: run `make test`, which starts a throwaway PostgreSQL cluster"))
struct StoreParityTests {
    static let rules = """
        rules:
          - name: burst
            on: login.failed
            count: {key: "{{ payload.ip }}", at_least: 3, within: 1h}
            actions: [{publish: {type: ip.banned, payload: {ip: "{{ window.key }}"}}}]
          - name: alert
            on: ip.banned
            throttle: {key: "{{ payload.ip }}", per: 1h}
            actions: [{audit: "banned {{ payload.ip }}"}]
          - name: lockout
            on: login.failed
            actions: [{delay: {after: 1h, key: "unlock-{{ payload.ip }}", type: ip.unlock, payload: {ip: "{{ payload.ip }}"}}}]
          - name: welcome
            on: login.ok
            after: {on: login.failed, key: "{{ payload.ip }}", within: 1h}
            actions: [{cancel: "unlock-{{ payload.ip }}"}, {emit: {type: welcome.back, payload: {ip: "{{ payload.ip }}"}}}]
          - name: note
            on: ip.banned
            actions: [{file: {path: NOTES, line: "ban {{ payload.ip }}"}}]
        """

    /// `history` rows as CSV without the columns that differ by nature (start time, duration),
    /// generated ids replaced by `<id>`, sorted.
    static func rows(_ output: String) -> [String] {
        output.split(separator: "\n").dropFirst().map { line in
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 7 else { return String(line) }
            fields.remove(at: 6)  // duration_us
            fields.remove(at: 0)  // started
            return fields.joined(separator: ",").replacing(/\b[0-9a-hjkmnp-tv-z]{9}-[0-9a-hjkmnp-tv-z]+\b/, with: "<id>")
        }.sorted()
    }

    @Test("history lists the same executions, keys and messages from a SQLite history and from a cluster, with every filter both take; pending delays likewise")
    func sameHistory() throws {
        let (url, drop) = try ClusterNodesTests.database()
        defer { drop() }
        let directory = try freshDirectory()
        try Self.rules.replacingOccurrences(of: "NOTES", with: directory + "/notes").write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        var lines: [String] = []
        for n in 0..<40 {
            let ip = "10.0.0.\(n % 4)"
            let type = n % 5 == 4 ? "login.ok" : "login.failed"
            lines.append(#"{"type":"\#(type)","id":"e\#(n)","time":"2026-12-04T10:\#(n < 10 ? "0" : "")\#(n):00Z","payload":{"ip":"\#(ip)"}}"#)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/in.jsonl", atomically: true, encoding: .utf8)
        let common = ["--events", directory + "/in.jsonl", "--key-file", directory + "/key", "--workers", "1"]
        let local = try CommandRunner.run(["run", directory + "/rules.yaml", "--db", directory + "/h.db"] + common)
        #expect(local.status == 0, "\(local.stderr)")
        let cluster = try CommandRunner.run(["run", directory + "/rules.yaml", "--store", url, "--node", "n"] + common)
        #expect(cluster.status == 0, "\(cluster.stderr)")
        for filter in [
            [], ["--rule", "burst"], ["--rule", "note"], ["--key", "10.0.0.1"], ["--key", "unlock-10.0.0.2"], ["--event", "e4"], ["--status", "skipped"],
            ["--type", "login.*"],
        ] {
            let query = ["history", "--format", "csv", "--limit", "1000"] + filter
            let fromSQLite = try CommandRunner.run(query + ["--db", directory + "/h.db", "--key-file", directory + "/key"])
            let fromCluster = try CommandRunner.run(query + ["--store", url])
            #expect(fromSQLite.status == 0 && fromCluster.status == 0, "\(filter): \(fromSQLite.stderr) \(fromCluster.stderr)")
            #expect(!Self.rows(fromSQLite.stdout).isEmpty, "\(filter)")
            #expect(Self.rows(fromSQLite.stdout) == Self.rows(fromCluster.stdout), "\(filter)")
        }
        // Both ran the side effect once per ban, into one file: each line twice.
        let notes = ((try? String(contentsOfFile: directory + "/notes", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        let bans = try CommandRunner.run(["history", "--rule", "burst", "--format", "csv", "--store", url]).stdout.split(separator: "\n").count - 1
        #expect(bans > 0 && notes.count == 2 * bans && Set(notes).allSatisfy { line in notes.count { $0 == line } % 2 == 0 }, "\(bans) bans: \(notes)")
        // --stats: the same counts per rule, action and outcome, and the same rules that never fired (durations aside).
        for filter in [[], ["--rule", "burst"], ["--type", "login.*"], ["--status", "ok"]] {
            let query = ["history", "--stats", "--format", "csv", "--rules", directory + "/rules.yaml"] + filter
            func counts(_ result: CommandResult) -> [String] {
                result.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(5).joined(separator: ",") }
            }
            let fromSQLite = try CommandRunner.run(query + ["--db", directory + "/h.db", "--key-file", directory + "/key"])
            let fromCluster = try CommandRunner.run(query + ["--store", url])
            #expect(fromSQLite.status == 0 && fromCluster.status == 0, "\(filter): \(fromSQLite.stderr) \(fromCluster.stderr)")
            #expect(counts(fromSQLite).count > 1, "\(filter): \(fromSQLite.stdout)")
            #expect(counts(fromSQLite) == counts(fromCluster), "\(filter)")
        }
        // --trace: from a ban, up to the failed login that completed its window, and down through what both caused.
        let banned = try PostgresConnection(url: url).execute(
            "SELECT event_id, derived_event_id FROM symphony_executions WHERE rule = 'burst' ORDER BY event_id LIMIT 1").values[0]
        let (root, ban) = (try #require(banned[0]), try #require(banned[1]))
        // (Derived events have ids of their own in each run: the cluster's trace starts from its ban, the local one from the same login.)
        func trace(_ store: [String], from event: String) throws -> [String] {
            let result = try CommandRunner.run(["history", "--trace", event] + store)
            #expect(result.status == 0, "\(result.stderr)")
            // Durations, times, priorities and payloads aside (a cluster keeps neither of the last two).
            return result.stdout.split(separator: "\n").map { line in
                [" \\(\\d+ µs\\)", ", priority \\d", " received [^ ,)]+", " payload .*$", " due \\S+", "[0-9a-hjkmnp-tv-z]{9}-[0-9a-hjkmnp-tv-z]+\\b"].reduce(String(line)) {
                    $0.replacingOccurrences(of: $1, with: $1.hasPrefix("[") ? "<id>" : "", options: .regularExpression)
                }
            }
        }
        let localTrace = try trace(["--db", directory + "/h.db", "--key-file", directory + "/key"], from: root)
        let clusterTrace = try trace(["--store", url], from: ban)
        #expect(clusterTrace.first == "event \(root) (login.failed)", "\(clusterTrace)")
        #expect(clusterTrace.contains("  burst → publish: ok"), "\(clusterTrace)")
        // Every line of the cluster's trace is in the local one (which also follows the delayed and emitted events, whose payloads it keeps).
        #expect(!clusterTrace.isEmpty && clusterTrace.allSatisfy { line in line.contains("(not followed") || localTrace.contains(line) }, "\(clusterTrace)\n\(localTrace)")
        #expect(clusterTrace.contains("    event <id> (ip.banned), from \(root) by rule 'burst' (hop 1)"), "\(clusterTrace)")
        // The parent a trace climbs is covered by the chain: changed behind the nodes' backs, it is caught.
        #expect(try CommandRunner.run(["audit", "verify", "--store", url, "--key-file", directory + "/key"]).status == 0)
        try PostgresConnection(url: url).execute("UPDATE symphony_handled SET parent_id = 'e39' WHERE event_id = $1", [.text(ban)])
        let moved = try CommandRunner.run(["audit", "verify", "--store", url, "--key-file", directory + "/key"])
        #expect(moved.status == 2 && moved.stderr.contains("symphony_handled rows were changed"), "\(moved.stderr)")
        try PostgresConnection(url: url).execute("UPDATE symphony_handled SET parent_id = $2 WHERE event_id = $1", [.text(ban), .text(root)])

        // Pending delays: the same keys made by the same rules (due an hour after each run handled them).
        func pending(_ store: [String]) throws -> [String] {
            let result = try CommandRunner.run(["history", "--status", "pending", "--rule", "lockout", "--format", "csv"] + store)
            return result.stdout.split(separator: "\n").dropFirst().map { line in
                String(line.drop { $0 != "," }).replacing(/\b[0-9a-hjkmnp-tv-z]{9}-[0-9a-hjkmnp-tv-z]+\b/, with: "<id>")
            }.sorted()
        }
        let fromSQLite = try pending(["--db", directory + "/h.db", "--key-file", directory + "/key"])
        let fromCluster = try pending(["--store", url])
        #expect(fromSQLite.count == 3 && fromSQLite == fromCluster, "\(fromSQLite) \(fromCluster)")
    }
}
