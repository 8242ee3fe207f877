import Foundation
import Testing

/// Documented exit codes and messages of failing commands, and file names without a directory.
@Suite(.timeLimit(.minutes(12))) struct CommandErrorTests {
    static let rules = "rules:\n  - {name: r, on: a.b, actions: [{audit: seen}]}\n"

    /// A fresh directory holding `rules.yaml`, a key file `key` and, after one run, a history `h.db`.
    func workspace(withHistory: Bool = true) throws -> String {
        let directory = try freshDirectory()
        try Data(Self.rules.utf8).write(to: URL(fileURLWithPath: directory + "/rules.yaml"))
        #expect(try CommandRunner.run(["keygen", "-o", "key"], stdinData: nil, directory: directory).status == 0)
        if withHistory {
            let run = try CommandRunner.run(
                ["run", "--rules", "rules.yaml", "--db", "h.db", "--key-file", "key"], stdinData: Data("{\"type\":\"a.b\"}\n".utf8), directory: directory)
            #expect(run.status == 0)
        }
        return directory
    }

    @Test("bare file names (no directory part) work for keygen -o, --db and --key-file")
    func bareFileNames() throws {
        let directory = try workspace()
        #expect(FileManager.default.fileExists(atPath: directory + "/key"))
        #expect(FileManager.default.fileExists(atPath: directory + "/h.db"))
        let history = try CommandRunner.run(["history", "--db", "h.db", "--key-file", "key", "--format", "json"], stdinData: nil, directory: directory)
        #expect(history.status == 0)
        #expect(history.stdoutLines.count == 1)
    }

    @Test("an events file that cannot be read exits 66 and names it")
    func unreadableEvents() throws {
        let directory = try workspace(withHistory: false)
        let result = try CommandRunner.run(["validate", "rules.yaml", "--events", "/nonexistent.jsonl"], stdinData: nil, directory: directory)
        #expect(result.status == 66)
        #expect(result.stderr.contains("symphony: cannot read '/nonexistent.jsonl': No such file or directory"))
    }

    @Test("a policy file with errors stops run with exit 1 before any database is made")
    func brokenPolicy() throws {
        let directory = try workspace(withHistory: false)
        try Data("roles: [bad\n".utf8).write(to: URL(fileURLWithPath: directory + "/policy.yaml"))
        let result = try CommandRunner.run(
            ["run", "--rules", "rules.yaml", "--policy", "policy.yaml", "--db", "new.db", "--key-file", "key"], stdinData: Data(), directory: directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("policy.yaml:2:1: error: YAML syntax error"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/new.db"))
    }

    @Test("audit and history on a database that does not exist exit 1 and say so")
    func missingDatabase() throws {
        let directory = try workspace(withHistory: false)
        for arguments in [["audit", "list", "--db", "none.db"], ["audit", "verify", "--db", "none.db", "--key-file", "key"], ["history", "--db", "none.db"]] {
            let result = try CommandRunner.run(arguments, stdinData: nil, directory: directory)
            #expect(result.status == 1)
            #expect(result.stderrLines == ["symphony: no history database at 'none.db'; 'symphony run' creates it (or pass --db)."])
        }
    }

    @Test("audit verify without a key exits 1 and says where it looked")
    func verifyNeedsKey() throws {
        let directory = try workspace()
        try FileManager.default.removeItem(atPath: directory + "/key")
        let result = try CommandRunner.run(["audit", "verify", "--db", "h.db"], stdinData: nil, directory: directory)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("symphony: audit verify needs the key file"))
    }

    @Test("a trace of an unknown event exits 1 and names it")
    func unknownTrace() throws {
        let directory = try workspace()
        let result = try CommandRunner.run(["history", "--db", "h.db", "--key-file", "key", "--trace", "nope"], stdinData: nil, directory: directory)
        #expect(result.status == 1)
        #expect(result.stderrLines == ["symphony: no event 'nope' in the history."])
    }

    @Test("bad option values are usage errors (exit 64) with the reason")
    func usageErrors() throws {
        let directory = try workspace()
        let cases: [([String], String)] = [
            (["history", "--db", "h.db", "--status", "bogus"], "--status must be ok, failed, denied, skipped, pending, queued or dead, not 'bogus'."),
            (["history", "--db", "h.db", "--limit=-1"], "--limit"),
            (["run", "--rules", "rules.yaml", "--hop-limit", "0"], "--hop-limit must be at least 1, not 0."),
        ]
        for (arguments, reason) in cases {
            let result = try CommandRunner.run(arguments, stdinData: Data(), directory: directory)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.contains(reason), "\(arguments): \(result.stderr)")
        }
    }

    @Test("an input time beyond 2262 or on a day that does not exist rejects its line; the run goes on and records the rest")
    func outOfRangeTimes() throws {
        let directory = try workspace(withHistory: false)
        let input = "{\"type\":\"a.b\",\"id\":\"a-1\"}\n{\"type\":\"a.b\",\"id\":\"a-2\",\"time\":\"2300-01-01T00:00:00Z\"}\n"
            + "{\"type\":\"a.b\",\"id\":\"a-3\",\"time\":\"2026-02-30T00:00:00Z\"}\n{\"type\":\"a.b\",\"id\":\"a-4\"}\n"
        let result = try CommandRunner.run(["run", "--rules", "rules.yaml", "--db", "h.db", "--key-file", "key"], stdinData: Data(input.utf8), directory: directory)
        #expect(result.status == 65)
        #expect(result.stderr.contains("<stdin>:2: rejected: 'time' must be an RFC 3339 timestamp"))
        #expect(result.stderr.contains("<stdin>:3: rejected: 'time' must be an RFC 3339 timestamp"))
        let history = try CommandRunner.run(["history", "--db", "h.db", "--key-file", "key", "--format", "json"], stdinData: nil, directory: directory)
        #expect(Set(jsonLines(history.stdout).compactMap { $0["event"] as? String }) == ["a-1", "a-4"])
        for arguments in [["history", "--db", "h.db", "--since", "2300-01-01T00:00:00Z"], ["audit", "list", "--db", "h.db", "--since", "9999-12-31T23:59:59Z"]] {
            #expect(try CommandRunner.run(arguments + ["--key-file", "key"], stdinData: nil, directory: directory).status == 64, "\(arguments)")
        }
    }

    @Test("the history table fits any COLUMNS value, however odd")
    func oddColumns() throws {
        let directory = try workspace()
        for columns in ["-9223372036854775808", "0", "5", "999999999999"] {
            let result = try CommandRunner.run(
                ["history", "--db", "h.db", "--key-file", "key"], stdinData: nil, environment: ["COLUMNS": columns], directory: directory)
            #expect(result.status == 0, "COLUMNS=\(columns)")
            #expect(result.stdoutLines.count == 2, "COLUMNS=\(columns)")
        }
    }

    @Test("an events path that opens but cannot be read (a directory) exits 66, names it, and the other inputs still run")
    func eventsDirectory() throws {
        let directory = try workspace(withHistory: false)
        try FileManager.default.createDirectory(atPath: directory + "/evdir", withIntermediateDirectories: false)
        try Data("{\"type\":\"a.b\"}\n{\"type\":\"a.b\"}\n".utf8).write(to: URL(fileURLWithPath: directory + "/ev.jsonl"))
        let result = try CommandRunner.run(
            ["run", "--rules", "rules.yaml", "--no-history", "--events", "ev.jsonl", "--events", "evdir"], stdinData: nil, directory: directory)
        #expect(result.status == 66)
        // The rule's audit messages are shown as the events are handled, which may be before or after the directory is reached.
        #expect(result.stderrLines.filter { !$0.hasPrefix("audit: ") }.first == "symphony: cannot read 'evdir': Is a directory")
        #expect(result.stderr.contains("symphony: 2 events read, 0 rejected"))
        let dryRun = try CommandRunner.run(["validate", "rules.yaml", "--events", "evdir"], stdinData: nil, directory: directory)
        #expect(dryRun.status == 66)
        #expect(dryRun.stderr.contains("cannot read 'evdir': Is a directory"))
    }

    @Test("--workers is bounded (a huge value is a usage error, not thousands of threads)")
    func workersBounded() throws {
        let directory = try workspace(withHistory: false)
        let result = try CommandRunner.run(["run", "--rules", "rules.yaml", "--no-history", "--workers", "100000"], stdinData: Data(), directory: directory)
        #expect(result.status == 64)
        #expect(result.stderr.contains("--workers must be from 1 to 256, not 100000."))
    }

    @Test("seal never replaces an existing file, and says why it cannot write")
    func sealOutput() throws {
        let directory = try workspace(withHistory: false)
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/out"))
        let cases: [(String, String)] = [
            ("out", "symphony: 'out' already exists; refusing to overwrite it."),
            ("out/", "symphony: cannot write 'out/': "),
            ("nodir/x.sealed", "symphony: cannot write 'nodir/x.sealed': No such file or directory."),
        ]
        for (output, message) in cases {
            let result = try CommandRunner.run(["seal", "rules.yaml", "-o", output, "--key-file", "key"], stdinData: nil, directory: directory)
            #expect(result.status == 1, "\(output)")
            #expect(result.stderr.hasPrefix(message), "\(output): \(result.stderr)")
        }
        #expect(try String(contentsOfFile: directory + "/out", encoding: .utf8) == "x")
    }

    @Test("a delay longer than 100 years is a load error, not an overflow at run time")
    func hugeDelay() throws {
        let directory = try workspace(withHistory: false)
        for after in ["9223372036854775807d", "2562047788015216h", "36501d"] {
            try Data("rules:\n  - {name: w, on: a.b, actions: [{delay: {after: \(after), type: c.d}}]}\n".utf8)
                .write(to: URL(fileURLWithPath: directory + "/delay.yaml"))
            let result = try CommandRunner.run(["validate", "delay.yaml"], stdinData: nil, directory: directory)
            #expect(result.status == 1, "\(after)")
            #expect(result.stderr.contains("invalid duration '\(after)'"), "\(after): \(result.stderr)")
        }
    }

    @Test("empty paths are usage errors; empty SYMPHONY_DB and SYMPHONY_KEY_FILE count as unset")
    func emptyPaths() throws {
        let directory = try workspace(withHistory: false)
        let cases: [([String], String)] = [
            (["run", "--rules", "rules.yaml", "--db", ""], "--db needs a path, not an empty string."),
            (["history", "--key-file", ""], "--key-file needs a path, not an empty string."),
            (["audit", "list", "--db", ""], "--db needs a path, not an empty string."),
            (["keygen", "-o", "dir/"], "-o names the key file to write, not 'dir/'."),
        ]
        for (arguments, message) in cases {
            let result = try CommandRunner.run(arguments, stdinData: Data(), directory: directory)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/dir"))
        let unset = try CommandRunner.run(["history"], stdinData: nil, environment: ["SYMPHONY_DB": "", "SYMPHONY_KEY_FILE": ""], directory: directory)
        #expect(unset.stderrLines == ["symphony: no history database at '.symphony/history.db'; 'symphony run' creates it (or pass --db)."])
    }

    @Test("a path through a regular file, or where no directory can be made, is refused with the reason")
    func unusableDirectories() throws {
        let directory = try workspace(withHistory: false)
        try Data().write(to: URL(fileURLWithPath: directory + "/f"))
        let keygen = try CommandRunner.run(["keygen", "-o", "f/sub/k"], stdinData: nil, directory: directory)
        #expect(keygen.status == 1)
        #expect(keygen.stderrLines == ["symphony: cannot use 'f/sub/k': 'f' is not a directory."])
        let run = try CommandRunner.run(["run", "--rules", "rules.yaml", "--db", "f/x/h.db", "--key-file", "key"], stdinData: Data(), directory: directory)
        #expect(run.status == 1)
        #expect(run.stderrLines == ["symphony: cannot use 'f/x/h.db': 'f' is not a directory."])
        let nested = try CommandRunner.run(["keygen", "-o", "a/b/c/k"], stdinData: nil, directory: directory)
        #expect(nested.status == 0)
        #expect(FileManager.default.fileExists(atPath: directory + "/a/b/c/k"))
    }

    @Test("a directory or a non-SQLite file as --db is named as such")
    func unusableDatabases() throws {
        let directory = try workspace(withHistory: false)
        try FileManager.default.createDirectory(atPath: directory + "/dbdir", withIntermediateDirectories: false)
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: directory + "/notes.txt"))
        let cases: [([String], String)] = [
            (["history", "--db", "dbdir"], "symphony: 'dbdir' is a directory, not a database file."),
            (["run", "--rules", "rules.yaml", "--db", "dbdir", "--key-file", "key"], "symphony: history: 'dbdir' is a directory, not a database file."),
            (["history", "--db", "notes.txt"], "symphony: 'notes.txt' is not a SQLite database (a history database is made by 'symphony run')."),
            (["audit", "list", "--db", "notes.txt"], "symphony: 'notes.txt' is not a SQLite database (a history database is made by 'symphony run')."),
        ]
        for (arguments, message) in cases {
            let result = try CommandRunner.run(arguments, stdinData: Data(), directory: directory)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderrLines == [message], "\(arguments): \(result.stderr)")
        }
    }

    @Test("a rule file named twice (directly and through its directory) is read once; a missing policy file says so")
    func pathsNamedTwice() throws {
        let directory = try workspace(withHistory: false)
        let twice = try CommandRunner.run(["validate", "rules.yaml", "./rules.yaml", "."], stdinData: nil, directory: directory)
        #expect(twice.status == 0, "\(twice.stderr)")
        #expect(twice.stdout.contains("valid: 1 rules"))
        let policy = try CommandRunner.run(["run", "--rules", "rules.yaml", "--policy", "nope.yaml", "--no-history"], stdinData: Data(), directory: directory)
        #expect(policy.status == 1)
        #expect(policy.stderrLines == ["nope.yaml:1:1: error: the file does not exist"])
        let both = try CommandRunner.run(["run", "--rules", "rules.yaml", "--no-history", "--db", "x.db"], stdinData: Data(), directory: directory)
        #expect(both.status == 64)
        #expect(both.stderr.contains("--db 'x.db' and --no-history contradict each other"))
    }

    @Test("a line of exactly 1 MiB is accepted with an LF or a CRLF ending; one byte more is rejected")
    func lineLimitWithCRLF() throws {
        let directory = try workspace(withHistory: false)
        func line(bytes: Int) -> String {
            let head = "{\"type\":\"a.b\",\"payload\":{\"s\":\""
            let tail = "\"}}"
            return head + String(repeating: "x", count: bytes - head.utf8.count - tail.utf8.count) + tail
        }
        let limit = 1 << 20
        let input = line(bytes: limit) + "\r\n" + line(bytes: limit) + "\n" + line(bytes: limit + 1) + "\r\n"
        let result = try CommandRunner.run(["run", "--rules", "rules.yaml", "--no-history", "--output", "quiet"], stdinData: Data(input.utf8), directory: directory)
        #expect(result.status == 65)
        #expect(result.stderrLines.filter { $0.contains("rejected") } == ["<stdin>:3: rejected: line is longer than 1048576 bytes"])
    }

    @Test("a repeated key in an input line rejects it (a second 'source' must not choose the principal)")
    func duplicateKeys() throws {
        let directory = try workspace(withHistory: false)
        let input = "{\"type\":\"a.b\",\"source\":\"helpdesk\",\"source\":\"mallory\"}\n{\"type\":\"a.b\",\"payload\":{\"k\":1,\"k\":2}}\n"
        let result = try CommandRunner.run(["run", "--rules", "rules.yaml", "--no-history"], stdinData: Data(input.utf8), directory: directory)
        #expect(result.status == 65)
        #expect(result.stderrLines.filter { $0.contains(": rejected: ") } == [
            "<stdin>:1: rejected: not valid JSON: a key appears twice in one object at byte 35",
            "<stdin>:2: rejected: not valid JSON: a key appears twice in one object in 'payload' at byte 32",
        ])
    }

    @Test("an empty policy file is an error that says so")
    func emptyPolicy() throws {
        let directory = try workspace(withHistory: false)
        try Data("# nothing yet\n".utf8).write(to: URL(fileURLWithPath: directory + "/policy.yaml"))
        let result = try CommandRunner.run(["validate", "rules.yaml", "--policy", "policy.yaml", "--as", "user:a"], stdinData: nil, directory: directory)
        #expect(result.status == 1)
        #expect(result.stderrLines == ["policy.yaml:1:1: error: the policy file is empty; it needs 'roles' and 'principals'"])
    }

    @Test("a sealed bundle and plain files load in the order given (it decides salience ties and what stop skips)")
    func bundleOrder() throws {
        let directory = try workspace(withHistory: false)
        let bundled = "rules:\n  - {name: from-bundle, on: q.r, actions: [{emit: {type: z.bundle}}, stop]}\n"
        try Data(bundled.utf8).write(to: URL(fileURLWithPath: directory + "/b.yaml"))
        try Data(bundled.replacingOccurrences(of: "bundle", with: "plain").utf8).write(to: URL(fileURLWithPath: directory + "/p.yaml"))
        #expect(try CommandRunner.run(["seal", "b.yaml", "-o", "b.sealed", "--key-file", "key"], stdinData: nil, directory: directory).status == 0)
        for (order, winner) in [(["b.sealed", "p.yaml"], "z.bundle"), (["p.yaml", "b.sealed"], "z.plain")] {
            let result = try CommandRunner.run(
                ["run", "--rules"] + order + ["--key-file", "key", "--no-history", "--output", "quiet"], stdinData: Data("{\"type\":\"q.r\"}\n".utf8),
                directory: directory)
            #expect(result.status == 0, "\(order): \(result.stderr)")
            #expect(result.stdout.contains("\"type\":\"\(winner)\""), "\(order)")
        }
    }

    @Test("a dangling or looping symbolic link as the key file says why it cannot be opened")
    func symlinkKeys() throws {
        let directory = try workspace(withHistory: false)
        try FileManager.default.createSymbolicLink(atPath: directory + "/dangling", withDestinationPath: "nowhere")
        try FileManager.default.createSymbolicLink(atPath: directory + "/loop1", withDestinationPath: "loop2")
        try FileManager.default.createSymbolicLink(atPath: directory + "/loop2", withDestinationPath: "loop1")
        for (link, reason) in [("dangling", "No such file or directory"), ("loop1", "Too many levels of symbolic links")] {
            let result = try CommandRunner.run(
                ["run", "--rules", "rules.yaml", "--key-file", link, "--db", "h.db"], stdinData: Data(), directory: directory)
            #expect(result.status == 1, "\(link)")
            #expect(result.stderrLines == ["symphony: Cannot open key file '\(link)': \(reason)."], "\(link)")
        }
    }

    @Test("a dry run cut at its 1,000-event limit says so, in text and in JSON")
    func dryRunCut() throws {
        let directory = try workspace(withHistory: false)
        // Two publishes per hop over 11 hops make 2¹¹ events: more than the trace follows.
        let rules = "rules:\n" + (0..<11).map { "  - {name: f\($0), on: f.s\($0), actions: [{publish: {type: f.s\($0 + 1)}}, {publish: {type: f.s\($0 + 1)}}]}\n" }.joined()
        try Data(rules.utf8).write(to: URL(fileURLWithPath: directory + "/fan.yaml"))
        let input = Data("{\"type\":\"f.s0\"}\n".utf8)
        let text = try CommandRunner.run(["validate", "fan.yaml", "--events", "-"], stdinData: input, directory: directory)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdoutLines.last == "  … the trace stops after 1000 events; the chain goes on (a loop? the hop limit stops it in a run)")
        let json = try CommandRunner.run(["validate", "fan.yaml", "--events", "-", "--format", "json"], stdinData: input, directory: directory)
        #expect(jsonLines(json.stdout).first { $0["input"] != nil }?["truncated"] as? Bool == true)
        let whole = try CommandRunner.run(["validate", "rules.yaml", "--events", "-", "--format", "json"], stdinData: Data("{\"type\":\"a.b\"}\n".utf8), directory: directory)
        let trace = try #require(jsonLines(whole.stdout).first { $0["input"] != nil })
        #expect(trace["truncated"] == nil)
    }

    @Test("validate refused by the policy exits 77 and names the missing permission")
    func validateRefused() throws {
        let directory = try workspace(withHistory: false)
        try Data("roles:\n  reader: [\"history:read\"]\nprincipals:\n  user:x: [reader]\n".utf8).write(to: URL(fileURLWithPath: directory + "/policy.yaml"))
        let result = try CommandRunner.run(["validate", "rules.yaml", "--policy", "policy.yaml", "--as", "user:x"], stdinData: nil, directory: directory)
        #expect(result.status == 77)
        #expect(result.stderrLines == ["symphony: access denied: 'user:x' lacks the permission 'rules:validate'"])
    }
}
