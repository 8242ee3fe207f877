import Foundation
import Glibc
import SymphonyActions
import SymphonyConcurrency
import Testing

@Suite struct FileAppenderTests {
    let appender = FileAppender()

    func contents(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    @Test("creates the file with mode 0600 and appends lines in order")
    func createsAndAppends() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/out.log"
        try appender.append(line: "one", to: path)
        try appender.append(line: "two words", to: path)
        try appender.append(line: "", to: path)
        try appender.append(line: "ünïcødé", to: path)
        #expect(try contents(path) == "one\ntwo words\n\nünïcødé\n")
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)

        let shared = directory + "/shared.log"
        try appender.append(line: "x", to: shared, mode: 0o640)
        #expect(stat(shared, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o640)
        // An existing file keeps its mode.
        try appender.append(line: "y", to: shared, mode: 0o600)
        #expect(stat(shared, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o640)
    }

    @Test("8 threads × 500 appends give 4000 whole lines, each thread's in order")
    func concurrentAppends() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/concurrent.log"
        let padding = String(repeating: "p", count: 200)
        let failures = Locked(0)
        let threads = (0..<8).map { thread in
            WorkerThread { [appender] in
                for index in 0..<500 {
                    do { try appender.append(line: "\(thread) \(index) \(padding)", to: path) } catch { failures.withLock { $0 += 1 } }
                }
            }
        }
        threads.forEach { $0.join() }
        #expect(failures.withLock { $0 } == 0)
        let text = try contents(path)
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 4000)
        var next = [Int](repeating: 0, count: 8)
        for line in lines {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let thread = Int(fields[0]), (0..<8).contains(thread), let index = Int(fields[1]),
                fields[2] == padding
            else {
                Issue.record("torn line: \(line.prefix(40))")
                continue
            }
            #expect(index == next[thread])
            next[thread] = index + 1
        }
        #expect(next == [Int](repeating: 500, count: 8))
    }

    @Test("a missing parent directory is a clear error")
    func missingDirectory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let error = try #require(throws: FileAppendError.self) {
            try appender.append(line: "x", to: directory + "/missing/out.log")
        }
        #expect(error.message == "cannot append to '\(directory)/missing/out.log': its directory does not exist")
        #expect(throws: FileAppendError.self) { try appender.append(line: "x", to: directory) }
    }

    @Test("a FIFO or other non-regular file is refused without hanging")
    func notRegularFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifo = directory + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: FileAppendError.self) { try appender.append(line: "x", to: fifo) }
        #expect(throws: FileAppendError.self) { try appender.append(line: "x", to: "/dev/null") }
    }

    @Test("a line with a newline is refused and nothing is written")
    func newline() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/out.log"
        let error = try #require(throws: FileAppendError.self) { try appender.append(line: "secret\nmore", to: path) }
        #expect(!error.message.contains("secret"))
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
