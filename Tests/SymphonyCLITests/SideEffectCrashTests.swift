import Foundation
@testable import SymphonyStore
import Testing

/// Side effects across kill -9: the real `symphony` binary, killed at seeded random points and
/// restarted with the same input, runs every queued action at least once, and runs one again only
/// if it was still pending in the outbox when a run was killed.
@Suite(.timeLimit(.minutes(12))) struct SideEffectCrashTests {
    static let events = 1_000
    static let kills = 10

    @Test("exec side effects survive 10 kill -9s: every action key runs at least once, again only if it was pending at a kill, and none stays pending")
    func killedAndRestarted() throws {
        let directory = try freshDirectory()
        let (db, key, out) = (directory + "/h.db", directory + "/key", directory + "/keys.txt")
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let policy = directory + "/policy.yaml"
        try """
            roles:
              everything: ["*"]
            principals:
              user:crash: [everything]
            """.write(toFile: policy, atomically: true, encoding: .utf8)
        let rules = directory + "/rules.yaml"
        try """
            pools: {exec: 4}
            rules:
              - name: append
                on: job
                actions:
                  - exec:
                      command: [/bin/sh, -c, 'echo "$SYMPHONY_ACTION_KEY" >> "$0"', "\(out)"]
                      timeout: 60s
            """.write(toFile: rules, atomically: true, encoding: .utf8)
        let input = directory + "/events.jsonl"
        let ids = (1...Self.events).map { String(format: "job-%04d", $0) }
        try ids.map { #"{"type":"job","id":"\#($0)"}"# + "\n" }.joined().write(toFile: input, atomically: true, encoding: .utf8)
        let expected = Set(ids.map { "append/\($0)/0" })
        let arguments = ["run", "--rules", rules, "--events", input, "--db", db, "--key-file", key, "--policy", policy, "--as", "user:crash"]

        var random = SplitMix64(seed: 0x5EED_CAFE)
        var interrupted = 0
        // How many kills left each action key pending in the outbox: a restart runs those again.
        var pendingAtKills: [String: Int] = [:]
        for kill in 0..<Self.kills {
            let linesBefore = Self.lines(in: out).count
            let run = try BackgroundRun(arguments, directory: directory, log: directory + "/run-\(kill)")
            // Two kills in three land when the file has grown by a random number of lines (while
            // actions run); the third after a random number of milliseconds (often while the run
            // starts: opening the history, resuming the outbox, handling recovered input).
            let finishedFirst: Bool
            if kill % 3 == 2 {
                finishedFirst = run.waitUntil(exited: .milliseconds(Int.random(in: 0...400, using: &random)))
            } else {
                let remaining = max(expected.subtracting(Self.lines(in: out)).count, 2)
                let target = linesBefore + Int.random(in: 1...max(1, remaining / 2), using: &random)
                finishedFirst = run.waitUntil { Self.lineCount(of: out) >= target }
            }
            let status = run.kill()
            if !finishedFirst && status.signalled { interrupted += 1 }
            #expect(status.signalled || status.code == 0, "run \(kill) exited \(status.code); stderr: \(Self.text(directory + "/run-\(kill).err"))")
            for pending in try Self.outbox(db, state: 0) { pendingAtKills[pending, default: 0] += 1 }
        }

        let final = try BackgroundRun(arguments, directory: directory, log: directory + "/final")
        #expect(final.waitUntil(exited: .seconds(240)), "the final run did not finish")
        let status = final.kill()
        #expect(!status.signalled && status.code == 0, "stderr: \(Self.text(directory + "/final.err"))")

        let lines = Self.lines(in: out)
        var counts: [String: Int] = [:]
        for line in lines { counts[line, default: 0] += 1 }
        let missing = expected.subtracting(counts.keys)
        let unexpected = Set(counts.keys).subtracting(expected)
        #expect(missing.isEmpty && unexpected.isEmpty, "\(missing.count) keys never ran, e.g. \(missing.sorted().prefix(5)); \(unexpected.count) lines are no key, e.g. \(unexpected.sorted().prefix(5))")
        // At least once: every key ran. At most once more per kill that left it pending.
        let excess = counts.filter { $0.value > 1 + pendingAtKills[$0.key, default: 0] }
        #expect(excess.isEmpty, "ran more often than the kills that left them pending allow: \(excess.sorted { $0.key < $1.key }.prefix(10))")
        let twice = counts.values.filter { $0 > 1 }.count
        let duplicateRuns = counts.values.reduce(0) { $0 + $1 - 1 }
        // Only keys pending at some kill can run twice; how many did is what the kills happened to catch.
        #expect(twice <= pendingAtKills.count)
        #expect(interrupted > 0, "no kill interrupted a run: the test tested nothing")
        print("SideEffectCrashTests: \(interrupted) of \(Self.kills) kills interrupted a run; \(pendingAtKills.count) keys were pending at a kill; \(twice) keys ran twice or more (\(duplicateRuns) extra runs)")

        // Every entry is done: none pending, none a dead letter, one per key.
        let pending = try Self.outbox(db, state: 0)
        #expect(pending.isEmpty, "\(pending.count) outbox entries are still pending, e.g. \(pending.sorted().prefix(5))")
        let dead = try Self.outbox(db, state: 2)
        #expect(dead.isEmpty, "\(dead.count) outbox entries are dead letters, e.g. \(dead.sorted().prefix(5))")
        let done = try Self.outbox(db, state: 1)
        #expect(done.count == Self.events && Set(done) == expected, "\(done.count) outbox entries are done")
    }

    @Test("an input that names each event twice in one run runs each action key exactly once, and leaves nothing pending")
    func sameEventTwiceInOneRun() throws {
        let directory = try freshDirectory()
        let (db, key, out) = (directory + "/h.db", directory + "/key", directory + "/keys.txt")
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let policy = try temporaryFile(named: "policy.yaml", contents: Data("roles: {everything: [\"*\"]}\nprincipals: {user:crash: [everything]}\n".utf8))
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("""
            rules:
              - name: append
                on: job
                actions:
                  - exec: [/bin/sh, -c, 'echo "$SYMPHONY_ACTION_KEY" >> "$0"', "\(out)"]
            """.utf8))
        let ids = (1...300).map { "job-\($0)" }
        let input = ids.map { #"{"type":"job","id":"\#($0)"}"# + "\n" }.map { $0 + $0 }.joined()
        let run = try CommandRunner.run(
            ["run", "--rules", rules, "--db", db, "--key-file", key, "--policy", policy, "--as", "user:crash"], stdin: input)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = Self.lines(in: out)
        #expect(lines.count == ids.count && Set(lines) == Set(ids.map { "append/\($0)/0" }), "\(lines.count) lines, \(Set(lines).count) keys")
        #expect(try Self.outbox(db, state: 0).isEmpty)
    }

    /// The action keys of the outbox entries in `state` (0 pending, 1 done, 2 dead); none before the history exists.
    static func outbox(_ path: String, state: Int64) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let database = try SQLiteDatabase(path: path)
        let tables = try database.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").rows { $0.text(0) ?? "" }
        guard !tables.isEmpty else { return [] }  // killed before the history's schema was made
        return try database.prepare("SELECT action_key FROM outbox WHERE state = ?").rows([.int(state)]) { $0.text(0) ?? "" }
    }

    static func lines(in path: String) -> [String] {
        text(path).split(separator: "\n").map(String.init)
    }

    static func lineCount(of path: String) -> Int {
        (FileManager.default.contents(atPath: path) ?? Data()).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    static func text(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}

/// A `symphony` run whose output goes to files (`log`.out, `log`.err), watched from the test.
private final class BackgroundRun: @unchecked Sendable {
    // @unchecked Sendable: `process` is only used from the test's thread; `exited` is a semaphore.
    private let process = Process()
    private let exited = DispatchSemaphore(value: 0)
    private var hasExited = false

    init(_ arguments: [String], directory: String, log: String) throws {
        _ = FileManager.default.createFile(atPath: log + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: log + ".err", contents: nil)
        process.executableURL = CommandRunner.binary
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = testEnvironment()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log + ".err"))
        process.terminationHandler = { [exited] _ in exited.signal() }
        try process.run()
    }

    /// Waits until the process exits or `limit` passes; true when it exited.
    func waitUntil(exited limit: Duration) -> Bool {
        let nanoseconds = limit.components.seconds * 1_000_000_000 + limit.components.attoseconds / 1_000_000_000
        hasExited = hasExited || exited.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success
        return hasExited
    }

    /// Polls `condition` every millisecond until it holds (false) or the process exits (true);
    /// after 5 minutes (a hang guard only) it gives up and returns false.
    func waitUntil(_ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: 300)
        while Date() < deadline {
            if exited.wait(timeout: .now()) == .success {
                hasExited = true
                return true
            }
            if condition() { return false }
            usleep(1_000)
        }
        return false
    }

    /// Sends SIGKILL (unless it already exited) and waits for the exit: its status, and whether a signal ended it.
    func kill() -> (code: Int32, signalled: Bool) {
        if !hasExited {
            Glibc.kill(process.processIdentifier, SIGKILL)
            exited.wait()
            hasExited = true
        }
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal)
    }
}

/// A small seeded generator: the same seed gives the same kill points.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
