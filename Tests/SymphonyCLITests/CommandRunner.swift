import Foundation
import Glibc

/// Runs the built `symphony` binary and captures what it printed and how it exited.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    /// Standard error's lines, without the notices of state created on first use (`symphony:
    /// created …`): most tests run in a fresh directory, where every run creates it.
    var stderrLines: [String] {
        stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init).filter { !$0.hasPrefix("symphony: created ") }
    }
    /// Standard error without those notices.
    var problems: String { stderrLines.map { $0 + "\n" }.joined() }
}

enum CommandRunner {
    /// The `symphony` binary built beside this test bundle.
    static var binary: URL {
        let me = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return me.deletingLastPathComponent().appendingPathComponent("symphony")
    }

    /// Runs `symphony arguments…` with `stdin` as standard input.
    static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> CommandResult {
        try run(arguments, stdinData: stdin.map { Data($0.utf8) }, environment: environment)
    }

    /// Runs `symphony arguments…` with raw bytes as standard input, optionally in another working directory.
    static func run(
        _ arguments: [String], stdinData: Data?, environment: [String: String] = [:], directory: String? = nil
    ) throws -> CommandResult {
        let process = Process()
        // Each run gets its own working directory, so default state (./.symphony) never leaks between tests.
        process.currentDirectoryURL = URL(fileURLWithPath: try directory ?? freshDirectory())
        process.executableURL = binary
        process.arguments = arguments
        process.environment = testEnvironment(environment)
        let output = Pipe()
        let errors = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        try process.run()
        let collected = Collected()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            collected.setOut(output.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            collected.setErr(errors.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        if let stdinData { input.fileHandleForWriting.write(stdinData) }
        try input.fileHandleForWriting.close()
        let status = waitForExit(process)
        group.wait()
        return CommandResult(status: status, stdout: String(decoding: collected.out, as: UTF8.self), stderr: String(decoding: collected.err, as: UTF8.self))
    }

    /// Runs with raw bytes on standard input.
    static func run(_ arguments: [String], stdinBytes: [UInt8]) throws -> CommandResult {
        try run(arguments, stdinData: Data(stdinBytes))
    }
}

/// Waits for `process` to end and returns its status as `Process.terminationStatus` gives it (the
/// exit code, or the signal's number). Foundation's `Process` on Linux sometimes misses a child's
/// exit under heavy load — the child stays a zombie and `waitUntilExit()` never returns — so this
/// also looks at the child itself without reaping it (`waitid` with `WNOWAIT`); when Foundation
/// has not noticed an exit 5 s later, the child is reaped here and its status decoded.
func waitForExit(_ process: Process) -> Int32 {
    let pid = process.processIdentifier
    while process.isRunning {
        var info = siginfo_t()
        if waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT | WNOHANG) == 0, info.si_signo == SIGCHLD {
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            guard process.isRunning else { break }
            var status: Int32 = 0
            guard waitpid(pid, &status, 0) == pid else { break }
            return status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
        }
        usleep(5_000)
    }
    return process.terminationStatus
}

/// This process's environment without the variables that point `symphony` at state outside the
/// test (`SYMPHONY_DB`, `SYMPHONY_KEY_FILE`: a developer's own history would be written to), plus `extra`.
func testEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SYMPHONY_") }
    for (key, value) in extra { environment[key] = value }
    return environment
}

/// Output gathered by reader threads.
final class Collected: @unchecked Sendable {
    // @unchecked Sendable: each property is written by exactly one reader before `group.wait()` returns.
    var out = Data()
    var err = Data()
    func setOut(_ data: Data) { out = data }
    func setErr(_ data: Data) { err = data }
}

/// A new empty temporary directory.
func freshDirectory() throws -> String {
    let directory = NSTemporaryDirectory() + "symphony-cwd-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return directory
}

/// A file with `contents` in a fresh temporary directory.
func temporaryFile(named name: String, contents: Data) throws -> String {
    let directory = NSTemporaryDirectory() + "symphony-cli-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let path = directory + "/" + name
    try contents.write(to: URL(fileURLWithPath: path))
    return path
}

/// A `symphony` process the test talks to while it runs: write to its stdin, wait for output, signal it.
final class RunningCommand: @unchecked Sendable {
    // @unchecked Sendable: `output` is only touched while holding `condition`.
    let process = Process()
    private let input = Pipe()
    private let outputPipe = Pipe()
    private let errorPipe = Pipe()
    private let condition = NSCondition()
    private var output = Data()

    private let exited = DispatchSemaphore(value: 0)

    init(_ arguments: [String]) throws {
        process.executableURL = CommandRunner.binary
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: try freshDirectory())
        process.environment = testEnvironment()
        process.standardInput = input
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        process.terminationHandler = { [exited] _ in exited.signal() }
        outputPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            guard let self else { return }
            let data = handle.availableData
            condition.lock()
            output.append(data)
            condition.broadcast()
            condition.unlock()
        }
        try process.run()
    }

    func write(_ text: String) { input.fileHandleForWriting.write(Data(text.utf8)) }

    /// Waits until stdout contains `text`; the limit only bounds a failing test.
    func waitForOutput(containing text: String, limit: TimeInterval = 300) -> Bool {
        let deadline = Date(timeIntervalSinceNow: limit)
        condition.lock()
        defer { condition.unlock() }
        while !String(decoding: output, as: UTF8.self).contains(text) {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }

    /// Waits until stdout contains `text` at least `count` times.
    func waitForOutputCount(of text: String, count: Int, limit: TimeInterval = 300) -> Bool {
        let deadline = Date(timeIntervalSinceNow: limit)
        condition.lock()
        defer { condition.unlock() }
        while String(decoding: output, as: UTF8.self).components(separatedBy: text).count - 1 < count {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }

    /// Sends `signal`, waits for exit, and returns the status, all of stdout and stderr.
    func stop(with signal: Int32) -> (status: Int32, stdout: String, stderr: String) {
        kill(process.processIdentifier, signal)
        exited.wait()
        return collect()
    }

    /// Sends `signal` and waits at most `limit` for the exit (only a hang guard); on a timeout the
    /// process is killed and the result is nil.
    func stop(with signal: Int32, within limit: TimeInterval) -> (status: Int32, stdout: String, stderr: String)? {
        kill(process.processIdentifier, signal)
        guard exited.wait(timeout: .now() + limit) == .success else {
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
            return nil
        }
        return collect()
    }

    private func collect() -> (status: Int32, stdout: String, stderr: String) {
        let status = waitForExit(process)
        outputPipe.fileHandleForReading.readabilityHandler = nil
        let rest = outputPipe.fileHandleForReading.readDataToEndOfFile()
        condition.lock()
        output.append(rest)
        let stdout = String(decoding: output, as: UTF8.self)
        condition.unlock()
        let stderr = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (status, stdout, stderr)
    }
}

/// A `symphony` process whose standard input is filled before it starts (and kept open) and whose
/// standard output nobody reads until `finish`: a run that emits enough backs up behind it, so
/// what it has read but not yet handled stays in its buffers for as long as the test wants.
final class HeldOutputCommand: @unchecked Sendable {
    // @unchecked Sendable: `Collected` is written by one reader thread each, read after `group.wait()`.
    let process = Process()
    private let input = Pipe()
    private let outputPipe = Pipe()
    private let errorPipe = Pipe()
    private let collected = Collected()
    private let group = DispatchGroup()
    private let exited = DispatchSemaphore(value: 0)

    /// Starts `symphony arguments…` with `stdin` already in its input pipe (at most 64 KiB, what a pipe holds).
    init(_ arguments: [String], stdin: Data, directory: String) throws {
        process.executableURL = CommandRunner.binary
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = testEnvironment()
        process.standardInput = input
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        process.terminationHandler = { [exited] _ in exited.signal() }
        // A pipe holds 64 KiB unless the system is short of pipe pages; make sure, so the write below cannot block.
        guard stdin.count <= 65_536, fcntl(input.fileHandleForWriting.fileDescriptor, 1031 /* F_SETPIPE_SZ */, 65_536) >= stdin.count else {
            throw CocoaError(.fileWriteOutOfSpace)
        }
        input.fileHandleForWriting.write(stdin)  // before the process exists: it reads it all in its first read
        group.enter()
        DispatchQueue.global().async { [self] in
            collected.setErr(errorPipe.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        try process.run()
    }

    /// Input bytes still in the pipe, not yet read by the process.
    var unreadInput: Int {
        var count: Int32 = 0
        return ioctl(input.fileHandleForWriting.fileDescriptor, 0x541B /* FIONREAD */, &count) == 0 ? Int(count) : -1
    }

    /// Waits until the process has read every input byte; the limit only bounds a failing test.
    func waitUntilInputRead(limit: TimeInterval = 300) -> Bool {
        let deadline = Date(timeIntervalSinceNow: limit)
        while unreadInput != 0 {
            if Date() > deadline { return false }
            usleep(1_000)
        }
        return true
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Starts reading stdout, waits at most `limit` for the exit (a hang guard: on a timeout the
    /// process is killed and the result is nil), and returns the status, stdout and stderr.
    func finish(within limit: TimeInterval = 300) -> (status: Int32, stdout: String, stderr: String)? {
        group.enter()
        DispatchQueue.global().async { [self] in
            collected.setOut(outputPipe.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let inTime = exited.wait(timeout: .now() + limit) == .success
        if !inTime {
            kill(process.processIdentifier, SIGKILL)
            exited.wait()
        }
        try? input.fileHandleForWriting.close()
        group.wait()
        guard inTime else { return nil }
        return (process.terminationStatus, String(decoding: collected.out, as: UTF8.self), String(decoding: collected.err, as: UTF8.self))
    }
}

/// Runs blocking work (a child process and the wait for it) on a thread of its own and awaits it,
/// so a long wait does not hold one of the few threads Swift Testing runs tests on (as many as
/// cores): tests that queue behind such waits would otherwise spend their time limits waiting.
func offThePool<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Swift.Result { try body() }) }.start()
    }
}
