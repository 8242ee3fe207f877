import Foundation
import SymphonyPostgres
import SymphonyRecords
import Testing

/// Rules with memory on a cluster: every node counts, throttles, pairs and cancels a key in one
/// shared place, so a key's events split between two nodes decide as they would on one.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SYMPHONY_TEST_POSTGRES"] != nil, "SYMPHONY_TEST_POSTGRES is not set: run `make test`, which starts a throwaway PostgreSQL cluster"))
struct ClusterMemoryTests {
    static let rules = """
        rules:
          - name: burst
            on: login.failed
            count: {key: "{{ payload.ip }}", at_least: 5, within: 1h}
            actions: [{audit: "burst {{ window.key }} {{ window.count }}"}]
          - name: first
            on: login.failed
            throttle: {key: "{{ payload.ip }}", per: 1h}
            actions: [{audit: "first {{ throttle.key }}"}]
          - name: pair
            on: login.ok
            after: {on: login.failed, key: "{{ payload.ip }}", within: 1h}
            actions: [{audit: "ok after {{ after.id }}"}]
          - name: lockout
            on: login.failed
            actions: [{delay: {after: 1h, key: "unlock-{{ payload.ip }}", type: account.unlock, payload: {ip: "{{ payload.ip }}"}}}]
          - name: unlock-early
            on: login.ok
            actions: [{cancel: "unlock-{{ payload.ip }}"}]
        """

    static func line(_ type: String, _ id: String, second: Int, ip: String) -> String {
        #"{"type":"\#(type)","id":"\#(id)","time":"2026-12-04T10:00:0\#(second)Z","payload":{"ip":"\#(ip)"}}"#
    }

    @Test("a key's events split between two nodes: its window fires once at the fifth, its throttle holds, an ok pairs with a failure the other node saw and cancels its keyed delay")
    func splitKeys() throws {
        let (url, drop) = try ClusterNodesTests.database()
        defer { drop() }
        let directory = try freshDirectory()
        try Self.rules.write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        func node(_ name: String, _ lines: [String]) throws -> CommandResult {
            try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/\(name).jsonl", atomically: true, encoding: .utf8)
            return try CommandRunner.run([
                "run", directory + "/rules.yaml", "--events", directory + "/\(name).jsonl", "--store", url, "--node", name, "--key-file", directory + "/key",
            ])
        }
        let first = try node(
            "a", [Self.line("login.failed", "f1", second: 1, ip: "1"), Self.line("login.failed", "f2", second: 2, ip: "1"),
                  Self.line("login.failed", "f3", second: 3, ip: "1"), Self.line("login.failed", "g1", second: 3, ip: "2")])
        #expect(first.status == 0, "\(first.stderr)")
        let observer = try PostgresConnection(url: url)
        func outcomes(_ rule: String) throws -> [[String?]] {
            try observer.execute("SELECT node, event_id, outcome, message FROM symphony_executions WHERE rule = $1 ORDER BY event_id, seq", [.text(rule)]).values
        }
        #expect(try outcomes("burst").isEmpty)
        // (Listed by event id: keys 1 and 2 are in different lanes of the queue, handled in either order.)
        #expect(try outcomes("first").map { [$0[0], $0[1], $0[2]] } == [["a", "f1", "ok"], ["a", "f2", "skipped"], ["a", "f3", "skipped"], ["a", "g1", "ok"]])
        #expect(try observer.execute("SELECT key FROM symphony_scheduled ORDER BY key").values == [["unlock-1"], ["unlock-2"]])
        #expect(try observer.execute("SELECT rule, gate, key FROM symphony_gates ORDER BY rule, gate, key").values == [
            ["burst", "count", "1"], ["burst", "count", "2"], ["first", "throttle", "1"], ["first", "throttle", "2"], ["pair", "after", "1"], ["pair", "after", "2"],
        ])

        let second = try node(
            "b", [Self.line("login.failed", "f4", second: 4, ip: "1"), Self.line("login.failed", "f5", second: 5, ip: "1"),
                  Self.line("login.ok", "ok1", second: 6, ip: "1")])
        #expect(second.status == 0, "\(second.stderr)")
        // The fifth failure of key 1 fires the window, on the node that saw only two of them.
        #expect(try outcomes("burst") == [["b", "f5", "ok", "burst 1 5"]])
        // Key 1 fired its throttle on node a: node b holds its failures back.
        let throttled = try outcomes("first").map { [$0[0], $0[1], $0[2]] }
        #expect(throttled == [["a", "f1", "ok"], ["a", "f2", "skipped"], ["a", "f3", "skipped"], ["b", "f4", "skipped"], ["b", "f5", "skipped"], ["a", "g1", "ok"]])
        // The ok pairs with the earliest failure node a remembered, and cancels the lockout node a scheduled.
        #expect(try outcomes("pair") == [["b", "ok1", "ok", "ok after f1"]])
        let cancels = try outcomes("unlock-early")
        #expect(cancels.count == 1 && cancels[0][3]?.hasPrefix("key unlock-1: cancelled ") == true, "\(cancels)")
        #expect(try observer.execute("SELECT key FROM symphony_scheduled ORDER BY key").values == [["unlock-2"]])
        // Key 1's window emptied when it fired; its pairing used up f1 and keeps f2…f5 waiting.
        #expect(try observer.execute("SELECT key FROM symphony_gates WHERE rule = 'burst' ORDER BY key").values == [["2"]])
        let waiting = try observer.execute("SELECT state FROM symphony_gates WHERE rule = 'pair' AND key = '1'").text(0, 0) ?? ""
        #expect(waiting.contains(#""ids":["f2","f3","f4","f5"]"#), "\(waiting)")
        // The records name the key each action ran under; the shared state reads as one node would show it.
        let byKey = try CommandRunner.run(["history", "--store", url, "--key", "1", "--format", "csv"])
        #expect(byKey.status == 0, "\(byKey.stderr)")
        let keyed = byKey.stdout.split(separator: "\n").dropFirst()
        #expect(keyed.count == 7 && keyed.allSatisfy { $0.contains(",burst,") || $0.contains(",first,") || $0.contains(",pair,") }, "\(byKey.stdout)")
        let unlock = try CommandRunner.run(["history", "--store", url, "--key", "unlock-1", "--format", "csv"])
        #expect(unlock.stdout.split(separator: "\n").dropFirst().count == 6, "\(unlock.stdout)")  // five delays, one cancel
        let windows = try CommandRunner.run(["history", "--store", url, "--state", "burst", "--rules", directory + "/rules.yaml"])
        #expect(windows.status == 0, "\(windows.stderr)")
        let windowRows = windows.stdout.split(separator: "\n").dropFirst()
        #expect(windowRows.count == 1 && windowRows.allSatisfy { $0.hasPrefix("count  2 ") && $0.hasSuffix("1 of 5 within 1h; needs 4 more") }, "\(windows.stdout)")
        let pairs = try CommandRunner.run(["history", "--store", url, "--state", "pair", "--rules", directory + "/rules.yaml", "--key", "1"])
        #expect(pairs.stdout.contains("waiting to pair: f2, f3, f4, f5") && !pairs.stdout.contains("g1"), "\(pairs.stdout)")
        let verify = try CommandRunner.run(["audit", "verify", "--store", url, "--key-file", directory + "/key"])
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    @Test(
        "a batch waits for a key another transaction holds and counts on what it wrote; more keys in a batch than max_keys evict none; a key with NUL is one key with its U+FFFD twin"
    )
    func lockedKeys() throws {
        let (url, drop) = try ClusterNodesTests.database()
        defer { drop() }
        let directory = try freshDirectory()
        try """
            rules:
              - name: pairs
                on: hit
                count: {key: "{{ payload.k }}", at_least: 2, within: 1h, max_keys: 1}
                actions: [{audit: "pair"}]
              - name: hold
                on: hit
                actions: [{delay: {after: 1h, key: "d-{{ payload.k }}", type: later}}]
            """.write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        // Three keys in one lane, so that one batch holds them all; the third with a NUL in it.
        let lane = PostgresEventQueue.lane(ofKey: "a")
        let others = (0..<10_000).map { "k\($0)" }.filter { PostgresEventQueue.lane(ofKey: $0) == lane }.prefix(1)
        let nul = (0..<10_000).map { "x\u{0}\($0)" }.first { PostgresEventQueue.lane(ofKey: PostgresText.storable($0)) == lane }
        let keys = ["a"] + others + [try #require(nul)]
        var lines: [String] = []
        for (index, key) in keys.enumerated() {
            let escaped = key.replacingOccurrences(of: "\u{0}", with: "\\u0000")
            for n in 1...2 { lines.append(#"{"type":"hit","id":"h\#(index)-\#(n)","time":"2026-12-04T10:00:0\#(n)Z","payload":{"k":"\#(escaped)"}}"#) }
        }
        // The NUL key's twin, stored alike: a third event of the same key (the window counts it as such).
        let twin = keys[2].replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
        lines.append(#"{"type":"hit","id":"h3-1","time":"2026-12-04T10:00:03Z","payload":{"k":"\#(twin)"}}"#)
        try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/in.jsonl", atomically: true, encoding: .utf8)
        // Another node's batch, still open: it holds key a's lock and has counted one event of it.
        try PostgresSchema.migrate(try PostgresConnection(url: url))
        let other = try PostgresConnection(url: url)
        try other.execute("BEGIN")
        let slot = GateSlot(rule: "pairs", kind: .count, key: "a")
        try PostgresLocks.take([PostgresLocks.id(of: slot)], on: other)
        let earlier = Int64(1_796_378_400) * 1_000_000_000  // 2026-12-04T10:00:00Z
        try PostgresGateStore.save(
            [(slot, .window(times: [earlier], ids: []))], settings: { _ in "count 2 within 3600000000000ns key {{ payload.k }}" }, on: other)
        let node = Process()
        node.executableURL = CommandRunner.binary
        node.arguments = ["run", directory + "/rules.yaml", "--events", directory + "/in.jsonl", "--store", url, "--node", "n", "--key-file", directory + "/key", "--workers", "1"]
        node.environment = testEnvironment()
        node.standardOutput = FileHandle.nullDevice
        node.standardError = FileHandle.nullDevice
        try node.run()
        let observer = try PostgresConnection(url: url)
        usleep(1_500_000)
        #expect(node.isRunning)
        #expect(try observer.execute("SELECT count(*) FROM symphony_handled").int(0, 0) == 0, "the batch went on without key a's lock")
        try other.execute("COMMIT")
        node.waitUntilExit()
        #expect(node.terminationStatus == 0)
        // Key a fired on its first event here (the other batch's event made two); the others on their second.
        let fired = try observer.execute("SELECT event_id, key FROM symphony_executions WHERE rule = 'pairs' ORDER BY event_id").values
        #expect(fired.map { $0[0] } == ["h0-1", "h1-2", "h2-2"], "\(fired)")
        #expect(fired.last?[1] == twin)
        // One window row and one pending keyed delay per key as stored: the twins share theirs.
        #expect(try observer.execute("SELECT count(*) FROM symphony_gates WHERE key = $1", [.text(twin)]).int(0, 0) == 1)
        #expect(try observer.execute("SELECT count(*) FROM symphony_scheduled").int(0, 0) == 3)
    }
}
