import Foundation
import Glibc
import SymphonyActions
import SymphonyConcurrency
import Testing

@Suite struct ExecRunnerTests {
    /// Runs `/bin/sh -c script` with `arguments` as $1…; a small PATH so `sh` finds its tools.
    func shell(_ script: String, _ arguments: [String] = [], configure: (inout ExecRequest) -> Void = { _ in }) throws -> ExecResult {
        var request = ExecRequest(program: "/bin/sh", arguments: ["-c", script, "sh"] + arguments, environment: ["PATH": "/usr/bin:/bin"])
        configure(&request)
        return try ExecRunner.run(request)
    }

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("exit statuses are reported: 0 and 3")
    func exitStatus() throws {
        let success = try ExecRunner.run(ExecRequest(program: "/bin/true"))
        #expect(success.exitStatus == 0)
        #expect(success.signal == nil)
        #expect(!success.timedOut)
        let failure = try shell("exit 3")
        #expect(failure.exitStatus == 3)
        #expect(failure.signal == nil)
    }

    @Test("arguments reach the program byte for byte: quotes, spaces, newlines, ';', $(…), globs")
    func argumentsVerbatim() throws {
        let arguments = [
            "plain", "two words", "it's", "\"double\"", "line one\nline two", "a; rm -rf /", "$(echo injected)",
            "`id`", "*", "", "tab\there", "ünïcødé ✓", "--flag=value", "-n", "back\\slash",
        ]
        let result = try shell(#"printf '%s\0' "$@""#, arguments)
        #expect(result.exitStatus == 0)
        var expected: [UInt8] = []
        for argument in arguments { expected += Array(argument.utf8) + [0] }
        #expect(result.standardOutput == expected)

        // The same through a program found on PATH, without any shell.
        let direct = try ExecRunner.run(ExecRequest(
            program: "printf", arguments: [#"%s\0"#] + arguments, environment: ["PATH": "/usr/bin:/bin"]))
        #expect(direct.standardOutput == expected)
    }

    @Test("standard input is delivered while output is read: 1 MiB through cat")
    func standardInput() throws {
        let input = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let result = try ExecRunner.run(ExecRequest(program: "/bin/cat", standardInput: input, outputLimit: 2 << 20))
        #expect(result.exitStatus == 0)
        #expect(result.standardOutput == input)
        #expect(!result.standardOutputTruncated)

        let small = try ExecRunner.run(ExecRequest(program: "/bin/cat", standardInput: Array("hello\n".utf8)))
        #expect(text(small.standardOutput) == "hello\n")
        // No standard input: /dev/null, so cat ends at once.
        let none = try ExecRunner.run(ExecRequest(program: "/bin/cat"))
        #expect(none.exitStatus == 0)
        #expect(none.standardOutput.isEmpty)
    }

    @Test("a child that ignores its standard input does not break the run (no SIGPIPE)")
    func unreadInput() throws {
        let result = try ExecRunner.run(ExecRequest(program: "/bin/true", standardInput: [UInt8](repeating: 7, count: 4 << 20)))
        #expect(result.exitStatus == 0)
    }

    @Test("the environment is exactly the one given")
    func environment() throws {
        let environment = ["ALPHA": "1", "BETA": "two words", "EMPTY": "", "QUOTE": "it's \"x\"; $(no)"]
        let result = try ExecRunner.run(ExecRequest(program: "/usr/bin/env", environment: environment))
        #expect(result.exitStatus == 0)
        let lines = text(result.standardOutput).split(separator: "\n").map(String.init).sorted()
        #expect(lines == environment.map { "\($0.key)=\($0.value)" }.sorted())

        let empty = try ExecRunner.run(ExecRequest(program: "/usr/bin/env"))
        #expect(empty.standardOutput.isEmpty)
    }

    @Test("the working directory is honoured; a missing one is an error")
    func workingDirectory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try ExecRunner.run(ExecRequest(program: "/bin/pwd", workingDirectory: directory))
        #expect(result.exitStatus == 0)
        let resolved = try #require(realpath(directory, nil))
        defer { free(resolved) }
        #expect(text(result.standardOutput) == String(cString: resolved) + "\n")

        #expect(throws: ExecError.self) {
            try ExecRunner.run(ExecRequest(program: "/bin/pwd", workingDirectory: directory + "/missing"))
        }
    }

    @Test("output over the limit is truncated and marked while the child still finishes")
    func outputLimit() throws {
        let result = try ExecRunner.run(ExecRequest(
            program: "/usr/bin/head", arguments: ["-c", "10000000", "/dev/zero"], outputLimit: 1000))
        #expect(result.exitStatus == 0)
        #expect(result.standardOutput == [UInt8](repeating: 0, count: 1000))
        #expect(result.standardOutputTruncated)
        #expect(!result.standardErrorTruncated)

        // Megabytes on both streams, the one the parent is not "waiting for" first: no deadlock.
        let both = try shell("head -c 5000000 /dev/zero >&2; head -c 5000000 /dev/zero; echo done >&2")
        #expect(both.exitStatus == 0)
        #expect(both.standardOutput.count == 65_536 && both.standardOutputTruncated)
        #expect(both.standardError.count == 65_536 && both.standardErrorTruncated)

        let exact = try shell("printf 12345", configure: { $0.outputLimit = 5 })
        #expect(text(exact.standardOutput) == "12345")
        #expect(!exact.standardOutputTruncated)
    }

    @Test("standard error is kept apart from standard output")
    func standardError() throws {
        let result = try shell("echo out; echo err >&2; exit 1")
        #expect(text(result.standardOutput) == "out\n")
        #expect(text(result.standardError) == "err\n")
        #expect(result.exitStatus == 1)
    }

    @Test("the timeout ends the child with SIGTERM")
    func timeout() throws {
        let result = try ExecRunner.run(ExecRequest(program: "/bin/sleep", arguments: ["30"], timeout: .milliseconds(200)))
        #expect(result.timedOut)
        #expect(result.signal == SIGTERM)
        #expect(result.exitStatus == nil)
        #expect(result.duration >= .milliseconds(200))
        #expect(result.duration < .seconds(10))
    }

    @Test("a child that ignores SIGTERM is killed after the grace")
    func killAfterGrace() throws {
        let result = try shell(#"trap "" TERM; sleep 30"#) {
            $0.timeout = .milliseconds(200)
            $0.killGrace = .milliseconds(300)
        }
        #expect(result.timedOut)
        #expect(result.signal == SIGKILL)
        #expect(result.duration >= .milliseconds(500))
        #expect(result.duration < .seconds(10))
    }

    @Test("the timeout reaches the whole process group: a background grandchild dies too")
    func processGroup() throws {
        let result = try shell("sleep 30 & echo $!; wait") { $0.timeout = .milliseconds(300) }
        #expect(result.timedOut)
        let grandchild = try #require(pid_t(text(result.standardOutput).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(waitUntilGone(grandchild, timeout: .seconds(10)))
    }

    @Test("a background process holding the pipes open does not keep run waiting")
    func backgroundHoldsPipes() throws {
        let result = try shell("sleep 3 & echo started")
        #expect(result.exitStatus == 0)
        #expect(text(result.standardOutput) == "started\n")
        #expect(result.duration < .seconds(2))
        #expect(!result.timedOut)
    }

    @Test("a missing program throws ExecError naming it")
    func missingProgram() throws {
        let error = try #require(throws: ExecError.self) {
            try ExecRunner.run(ExecRequest(program: "no-such-program-symphony", environment: ["PATH": "/usr/bin:/bin"]))
        }
        #expect(error.message == "cannot run 'no-such-program-symphony': no such program in PATH")
        #expect(throws: ExecError.self) { try ExecRunner.run(ExecRequest(program: "/nonexistent/program")) }
        #expect(throws: ExecError.self) { try ExecRunner.run(ExecRequest(program: "")) }
        #expect(throws: ExecError.self) { try ExecRunner.run(ExecRequest(program: "relative/path")) }
    }

    @Test("a file that is not executable throws")
    func notExecutable() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = directory + "/script.sh"
        try "#!/bin/sh\necho hi\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o644)
        let error = try #require(throws: ExecError.self) { try ExecRunner.run(ExecRequest(program: script)) }
        #expect(error.message.contains("not an executable file"))
        #expect(throws: ExecError.self) { try ExecRunner.run(ExecRequest(program: directory)) }
        // Found on PATH but not executable.
        #expect(throws: ExecError.self) {
            try ExecRunner.run(ExecRequest(program: "script.sh", environment: ["PATH": directory]))
        }
        chmod(script, 0o755)
        let runs = try ExecRunner.run(ExecRequest(program: script))
        #expect(text(runs.standardOutput) == "hi\n")
    }

    @Test("NUL bytes in arguments or environment are refused without echoing them")
    func nulBytes() throws {
        let argumentError = try #require(throws: ExecError.self) {
            try ExecRunner.run(ExecRequest(program: "/bin/echo", arguments: ["secret\0value"]))
        }
        #expect(!argumentError.message.contains("secret"))
        let environmentError = try #require(throws: ExecError.self) {
            try ExecRunner.run(ExecRequest(program: "/bin/echo", environment: ["TOKEN": "secret\0value"]))
        }
        #expect(!environmentError.message.contains("secret"))
        #expect(throws: ExecError.self) { try ExecRunner.run(ExecRequest(program: "/bin/echo", environment: ["A=B": "c"])) }
    }

    @Test("runs from many threads at once each get their own output")
    func concurrentRuns() throws {
        let results = Locked([Int: String]())
        let threads = (0..<8).map { index in
            WorkerThread {
                for round in 0..<5 {
                    let output = try? ExecRunner.run(ExecRequest(program: "/bin/echo", arguments: ["\(index)-\(round)"]))
                    results.withLock { $0[index * 10 + round] = output.map { String(decoding: $0.standardOutput, as: UTF8.self) } }
                }
            }
        }
        threads.forEach { $0.join() }
        let collected = results.withLock { $0 }
        #expect(collected.count == 40)
        for index in 0..<8 {
            for round in 0..<5 { #expect(collected[index * 10 + round] == "\(index)-\(round)\n") }
        }
    }
}

/// A fresh directory under the temporary directory.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "symphony-actions-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    return path
}

/// Waits until process `id` no longer exists (or is a zombie nobody reaps); false when `timeout` passed first.
func waitUntilGone(_ id: pid_t, timeout: Duration) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if kill(id, 0) != 0 { return true }
        if let stat = try? String(contentsOfFile: "/proc/\(id)/stat", encoding: .utf8),
            let closing = stat.lastIndex(of: ")"), stat[closing...].hasPrefix(") Z") {
            return true
        }
        usleep(20_000)
    }
    return false
}
