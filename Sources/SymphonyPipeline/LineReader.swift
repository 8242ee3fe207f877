import Glibc

/// Reads a file (or standard input) line by line with a fixed buffer, never the whole file at once.
///
/// Handles LF and CRLF endings and a missing final newline. A line longer than `maximumLineLength`
/// is returned truncated with `tooLong` set, and the rest of it is skipped.
///
/// With a `stop` request, the reader waits for input with `poll` on both the input and the
/// request's pipe, and once a stop is requested it reads no more: the lines already in its buffer
/// are still returned, then input ends there — the start of a line whose end was not read yet
/// comes back with `incomplete` set, so that the caller reports it instead of losing it silently.
package final class LineReader {
    package struct Line {
        package var bytes: [UInt8]
        package var number: Int
        package var tooLong: Bool
        /// True for the start of a line a stop request cut off: its end was never read.
        package var incomplete = false
    }

    package let maximumLineLength: Int
    /// The path read (`-` for standard input), for error messages.
    package let path: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    // Unchecked exclusivity (here and below): one thread reads a LineReader, and the runtime's
    // dynamic check cost a begin and an end call per line.
    @exclusivity(unchecked) private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    @exclusivity(unchecked) private var start = 0
    @exclusivity(unchecked) private var end = 0
    @exclusivity(unchecked) private var lineNumber = 0
    @exclusivity(unchecked) private var finished = false
    /// Called before each `read(2)`, which may block on a pipe or terminal: callers flush batched work here.
    var beforeRead: () -> Void = {}
    /// Once requested, no more `read(2)`: the input ends after what was already read.
    var stop: StopRequest?

    /// Opens `path`, or standard input for `-`.
    package init(path: String, maximumLineLength: Int = 1 << 20) throws {
        self.maximumLineLength = maximumLineLength
        self.path = path
        if path == "-" {
            fd = STDIN_FILENO
            ownsDescriptor = false
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw InputFileError(path: path, reason: String(cString: strerror(errno)))
            }
            ownsDescriptor = true
        }
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    /// The next line without its ending, or nil at end of input.
    package func next() throws -> Line? {
        var line: [UInt8] = []
        var tooLong = false
        while true {
            if start < end {
                let newline = buffer.withUnsafeBufferPointer { bytes -> Int? in
                    memchr(bytes.baseAddress! + start, Int32(UInt8(ascii: "\n")), end - start).map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - bytes.baseAddress! }
                }
                let stop = newline ?? end
                // One byte beyond the limit, for the '\r' of a CRLF ending (stripped in `finish`).
                let room = maximumLineLength + 1 - line.count
                if room > 0 { line.append(contentsOf: buffer[start..<min(stop, start + room)]) }
                if stop - start > room { tooLong = true }
                start = stop
                if newline != nil {
                    start += 1
                    return finish(&line, tooLong: tooLong)
                }
            }
            if finished {
                return line.isEmpty && !tooLong ? nil : finish(&line, tooLong: tooLong)
            }
            beforeRead()
            if let stop, !waitForInput(or: stop) {
                finished = true
                if line.isEmpty && !tooLong { return nil }
                var cut = finish(&line, tooLong: tooLong)
                cut.incomplete = true
                return cut
            }
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw InputFileError(path: path, reason: String(cString: strerror(errno)))
            }
            start = 0
            end = got
            if got == 0 { finished = true }
        }
    }

    /// Waits until the input can be read (or is at its end, or failed: `read` tells which); false
    /// when a stop was requested first — then nothing more is read.
    private func waitForInput(or stop: StopRequest) -> Bool {
        while !stop.isRequested {
            var descriptors = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stop.wakeDescriptor, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { return true }  // let `read` report the problem
            if descriptors[1].revents != 0 { return false }
            if descriptors[0].revents != 0 { return true }
        }
        return false
    }

    private func finish(_ line: inout [UInt8], tooLong: Bool) -> Line {
        lineNumber += 1
        var tooLong = tooLong
        if !tooLong && line.last == UInt8(ascii: "\r") { line.removeLast() }
        if line.count > maximumLineLength {
            tooLong = true
            line.removeLast(line.count - maximumLineLength)
        }
        return Line(bytes: line, number: lineNumber, tooLong: tooLong)
    }
}

/// An input file that could not be opened or read.
package struct InputFileError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    package var description: String { "cannot read '\(path)': \(reason)" }
}
