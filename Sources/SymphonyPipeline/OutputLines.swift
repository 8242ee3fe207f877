import Glibc
import SymphonyConcurrency

/// Standard output shared by worker threads: lines are buffered and written in large blocks.
///
/// Output never waits long: a flusher thread writes buffered lines at most `latency` after the
/// first of them arrived (it sleeps on a condition variable while the buffer is empty), so a
/// stream such as `tail -F log | symphony run …` shows results promptly.
package final class OutputLines: Sendable {
    package static let latency: Duration = .milliseconds(50)

    private let lock = ConditionLock()
    // nonisolated(unsafe): guarded by `lock`.
    nonisolated(unsafe) private var bytes: [UInt8] = []
    private let flusher = Locked<WorkerThread?>(nil)

    package init() {
        let thread = WorkerThread(name: "sym-output") { [self] in runFlusher() }
        flusher.withLock { $0 = thread }
    }

    package func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        write(lines: bytes)
    }

    /// Buffers `lines`: UTF-8 bytes, each line already ended by a newline; one lock for all of them.
    package func write(lines: [UInt8]) {
        guard !lines.isEmpty else { return }
        lock.withLock {
            let wasEmpty = bytes.isEmpty
            bytes.append(contentsOf: lines)
            if bytes.count >= 64 * 1024 {
                writeAll(bytes, to: STDOUT_FILENO)
                bytes.removeAll(keepingCapacity: true)
            } else if wasEmpty {
                lock.signal()
            }
        }
    }

    /// Writes everything buffered now.
    package func flush() {
        lock.withLock {
            writeAll(bytes, to: STDOUT_FILENO)
            bytes.removeAll(keepingCapacity: true)
        }
    }

    private func runFlusher() {
        lock.lock()
        while true {  // lives as long as the process
            if bytes.isEmpty {
                lock.wait()
                continue
            }
            _ = lock.wait(timeout: Self.latency)
            writeAll(bytes, to: STDOUT_FILENO)
            bytes.removeAll(keepingCapacity: true)
        }
    }
}

/// Writes every byte to `fd`, retrying short writes and EINTR; false when a write failed.
@discardableResult
package func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}

/// `value` with a fixed number of decimals (FoundationEssentials has no `String(format:)`).
package func formatted(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int64((abs(value) * scale).rounded())
    let whole = scaled / Int64(scale)
    let fraction = String(scaled % Int64(scale))
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard decimals > 0 else { return sign + String(whole) }
    return sign + String(whole) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
}

/// A whole number with thousands separators: 1234567 → "1,234,567".
package func grouped(_ value: Int) -> String {
    let digits = String(abs(value))
    var output = ""
    for (index, character) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { output += "," }
        output.append(character)
    }
    return (value < 0 ? "-" : "") + output
}

/// Writes one line to standard error.
package func printError(_ line: String) {
    writeAll(Array((line + "\n").utf8), to: STDERR_FILENO)
}

/// Prints each diagnostic (or other line) to stderr.
package func report(_ diagnostics: some Sequence<CustomStringConvertible>) {
    for diagnostic in diagnostics { printError(diagnostic.description) }
}

/// `text` safe to show on a terminal: control characters (C0, DEL, C1) — which could break a
/// row, forge a line or send escape sequences — are written as `\n`, `\r`, `\t` or `\u{XX}`.
/// Text from events and rule output is shown through this in tables, traces and messages.
package func displayText(_ text: String) -> String {
    func isControl(_ scalar: Unicode.Scalar) -> Bool { scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) }
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var shown = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": shown += "\\n"
        case "\r": shown += "\\r"
        case "\t": shown += "\\t"
        case _ where isControl(scalar): shown += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default: shown.unicodeScalars.append(scalar)
        }
    }
    return shown
}
