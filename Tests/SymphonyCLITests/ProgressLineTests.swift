import Foundation
import Testing

/// The progress line of a long run: on a terminal only, with events read, their rate and the
/// queue's depth.
@Suite struct ProgressLineTests {
    @Test("on a terminal (script(1) gives the run one) the progress line shows events read, events/s and the queue; in a pipe, nothing")
    func progressOnATerminal() throws {
        let directory = try freshDirectory()
        try Data("rules:\n  - {name: r, on: tick, actions: [stop]}\n".utf8).write(to: URL(fileURLWithPath: directory + "/rules.yaml"))
        try Data(String(repeating: #"{"type":"tick"}"# + "\n", count: 4_096).utf8).write(to: URL(fileURLWithPath: directory + "/ticks.jsonl"))
        let binary = CommandRunner.binary.path
        // The pause guarantees the half second between updates has passed when line 3,072 is read.
        let feed = "(head -n 2048 ticks.jsonl; sleep 1; tail -n +2049 ticks.jsonl)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", "\(feed) | \(binary) run rules.yaml --no-history --workers 1", "/dev/null"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = testEnvironment()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.range(of: #"\r\x{1B}\[K  [0-9,]+ events read, [0-9,]+/s, queue [0-9,]+…"#, options: .regularExpression) != nil, "\(output.debugDescription)")
        #expect(output.contains("4,096 events read"))

        let piped = try CommandRunner.run(["run", directory + "/rules.yaml", "--no-history"], stdin: String(repeating: #"{"type":"tick"}"# + "\n", count: 4_096))
        #expect(!piped.stderr.contains("/s, queue"))
    }
}
