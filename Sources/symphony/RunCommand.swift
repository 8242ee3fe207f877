import ArgumentParser
import FoundationEssentials
import Glibc
import Logging
import Synchronization
import SymphonyEvents
import SymphonyConcurrency

/// `symphony run`: feed events from files or standard input through the runtime.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run events from JSON Lines files or standard input through the event runtime.",
        discussion: """
            Each input line is one JSON object: {"type": "ticket.created", "payload": {...}, \
            "priority": 0-9, "id": "...", "source": "..."}. Only "type" is required.

            Every delivered event is printed to standard output as one line: its priority, type and id. \
            A line that is not a valid event is reported on standard error with its line number and \
            reason, counted and skipped; the run goes on. A summary goes to standard error at the end.

            Exit codes: 0 all input accepted; 65 some lines were rejected; 66 an input file could not be read.
            """)

    @Option(name: .long, help: ArgumentHelp("A JSON Lines file of events, or - for standard input (repeatable).", valueName: "FILE"))
    var events: [String] = ["-"]

    @Option(name: .long, help: "Worker threads (default: the number of cores).")
    var workers: Int?

    @Flag(name: .long, help: "Queue events in plaintext (debugging only; logs a warning).")
    var noEncryption = false

    func validate() throws {
        if let workers, workers < 1 {
            throw ValidationError("--workers must be at least 1, not \(workers).")
        }
    }

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var configuration = EventSystemConfiguration()
        if let workers { configuration.workerCount = workers }
        if noEncryption { configuration.encryption = .disabled }
        let system = try EventSystem(configuration: configuration)

        let output = OutputLines()
        try system.subscribe("**") { event in
            output.write("\(event.priority) \(event.type) \(event.id)")
        }
        try system.start()

        let clock = ContinuousClock()
        let started = clock.now
        var read = 0
        var rejected = 0
        var unreadable = false
        let decoder = JSONDecoder()
        for path in events {
            let reader: LineReader
            do {
                reader = try LineReader(path: path)
            } catch {
                printError("symphony: \(error)")
                unreadable = true
                continue
            }
            while let line = try reader.next() {
                if line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                read += 1
                do {
                    if line.tooLong {
                        throw InputLineError(reason: "line is longer than \(reader.maximumLineLength) bytes")
                    }
                    let input: InputEvent
                    do {
                        input = try decoder.decode(InputEvent.self, from: Data(line.bytes))
                    } catch {
                        throw InputLineError(reason: Self.describe(error))
                    }
                    try system.publish(try input.event())
                } catch let error as InputLineError {
                    rejected += 1
                    printError("\(path == "-" ? "<stdin>" : path):\(line.number): rejected: \(error.reason)")
                }
            }
        }
        system.stop()
        output.flush()

        let seconds = Double((clock.now - started).nanoseconds) / 1e9
        let counters = system.counters
        printError(
            "symphony: \(read) lines read, \(rejected) rejected, \(counters.published) published, "
                + "\(counters.delivered) delivered, \(counters.failed) failed in \(formatted(seconds, decimals: 3)) s")
        if unreadable { throw ExitCode.noInput }
        if rejected > 0 { throw ExitCode.inputRejected }
    }

    /// A one-line reason for a decoding error, naming the field but never echoing the line's content.
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _):
            return "missing required field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not a JSON object" : "field '\(path)' has the wrong type"
        case DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not valid JSON" : "field '\(path)' is not valid"
        default:
            return "not a valid event"
        }
    }
}

/// Standard output shared by worker threads: lines are buffered under a lock and written in large blocks.
final class OutputLines: Sendable {
    private let buffer = Locked<[UInt8]>([])

    func write(_ line: String) {
        buffer.withLock { bytes in
            bytes.append(contentsOf: line.utf8)
            bytes.append(UInt8(ascii: "\n"))
            if bytes.count >= 64 * 1024 {
                writeAll(bytes, to: STDOUT_FILENO)
                bytes.removeAll(keepingCapacity: true)
            }
        }
    }

    func flush() {
        buffer.withLock { bytes in
            writeAll(bytes, to: STDOUT_FILENO)
            bytes.removeAll(keepingCapacity: true)
        }
    }
}

/// Writes every byte to `fd`, retrying short writes and EINTR.
func writeAll(_ bytes: [UInt8], to fd: Int32) {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}

/// `value` with a fixed number of decimals (FoundationEssentials has no `String(format:)`).
func formatted(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int64((abs(value) * scale).rounded())
    let whole = scaled / Int64(scale)
    let fraction = String(scaled % Int64(scale))
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard decimals > 0 else { return sign + String(whole) }
    return sign + String(whole) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
}

/// Writes one line to standard error.
func printError(_ line: String) {
    writeAll(Array((line + "\n").utf8), to: STDERR_FILENO)
}
