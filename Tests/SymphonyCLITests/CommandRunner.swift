import Foundation

/// Runs the built `symphony` binary and captures what it printed and how it exited.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
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

    /// Runs `symphony arguments…` with raw bytes as standard input.
    static func run(_ arguments: [String], stdinData: Data?, environment: [String: String] = [:]) throws -> CommandResult {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
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
        process.waitUntilExit()
        group.wait()
        return CommandResult(
            status: process.terminationStatus, stdout: String(decoding: collected.out, as: UTF8.self),
            stderr: String(decoding: collected.err, as: UTF8.self))
    }

    /// Runs with raw bytes on standard input.
    static func run(_ arguments: [String], stdinBytes: [UInt8]) throws -> CommandResult {
        try run(arguments, stdinData: Data(stdinBytes))
    }
}

/// Output gathered by reader threads.
final class Collected: @unchecked Sendable {
    // @unchecked Sendable: each property is written by exactly one reader before `group.wait()` returns.
    var out = Data()
    var err = Data()
    func setOut(_ data: Data) { out = data }
    func setErr(_ data: Data) { err = data }
}

/// A file with `contents` in a fresh temporary directory.
func temporaryFile(named name: String, contents: Data) throws -> String {
    let directory = NSTemporaryDirectory() + "symphony-cli-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let path = directory + "/" + name
    try contents.write(to: URL(fileURLWithPath: path))
    return path
}
