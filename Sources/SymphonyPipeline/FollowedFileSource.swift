import Glibc
import SymphonyEvents
import SymphonyRecords
import SymphonyRules

/// Reads a file as it grows, like `tail -F`: lines appended are read as they come; a file
/// renamed away (rotated) is read to its end and the new file at the path is read from its
/// start; a file cut shorter (truncated) is read again from its start; a file that is not there
/// yet is waited for. Reading goes on until a stop is requested.
///
/// Each line's item carries the file's position after it (`SourceItem.position`), which the run
/// records with the events: a later run given `resume` starts right after the last line taken
/// — the same file (device and inode) only; a different file at the path is read from its start.
/// A line is taken once its newline is written: a partial last line waits for the rest.
public struct FollowedFileSource: EventSource {
    /// The file followed.
    public let path: String
    /// Where an earlier run stopped reading it.
    public let resume: FilePosition?
    /// How often the file is looked at when no line is waiting.
    public let pollInterval: Duration
    /// The longest line kept; longer ones are rejected (their start), the rest skipped.
    public let maximumLineLength: Int
    /// Ends at the end of the file instead of waiting for it to grow (a missing file is an error
    /// then): reading a file once, with positions to resume from. A last line without a newline
    /// is left unread.
    public var endsAtEnd = false
    private let decoder: LineDecoder
    private let report: @Sendable (String) -> Void

    /// Follows `path` (JSON event lines, JSON log records with `plainJSON`, or raw text of
    /// `rawLinesType`), from `resume` when it is still the same file.
    public init(
        path: String, rawLinesType: String?, lineParser: LineParser? = nil, plainJSON: PlainJSONLines? = nil, resume: FilePosition?,
        pollInterval: Duration = .milliseconds(200), maximumLineLength: Int = 1 << 20, report: @escaping @Sendable (String) -> Void
    ) {
        self.path = path
        self.resume = resume
        self.pollInterval = pollInterval
        self.maximumLineLength = maximumLineLength
        self.decoder = LineDecoder(rawLinesType: rawLinesType, lineParser: rawLinesType == nil ? nil : lineParser, plainJSON: plainJSON)
        self.report = report
    }

    /// An open file and how far it was read.
    private struct OpenFile {
        let descriptor: Int32
        let device: UInt64
        let inode: UInt64
        /// Bytes read so far.
        var offset: Int64
    }

    public func forEach(beforeRead: @escaping () -> Void, stop: StopRequest?, _ body: (SourceItem) throws -> Bool) throws -> Bool {
        var file: OpenFile?
        defer { if let file { close(file.descriptor) } }
        var resumeFrom = resume
        // The line being read: at most one byte past the limit is kept (a CRLF's `\r`); `overflowed` says more came.
        var partial: [UInt8] = []
        var overflowed = false
        func keep(_ bytes: ArraySlice<UInt8>) {
            let room = maximumLineLength + 1 - partial.count
            if bytes.count > room { overflowed = true }
            partial.append(contentsOf: bytes.prefix(max(0, room)))
        }
        func forgetLine() {
            partial.removeAll(keepingCapacity: true)
            overflowed = false
        }
        var lineNumber = 0
        var previousTime: Timestamp?
        var reportedMissing = false
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        /// Emits one whole line ending at `end` (the offset just past its newline); false to stop.
        func take(_ bytes: [UInt8], overflowed: Bool, in file: OpenFile, end: Int64) throws -> Bool {
            lineNumber += 1
            var line = bytes
            if line.last == UInt8(ascii: "\r") && !overflowed { line.removeLast() }
            let tooLong = overflowed || line.count > maximumLineLength
            if tooLong { line = Array(line.prefix(maximumLineLength)) }
            if !tooLong && line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return true }
            let origin = SourceOrigin(source: path, line: lineNumber)
            let position = FilePosition(path: path, device: file.device, inode: file.inode, offset: end)
            guard !tooLong else {
                let problem = InputLineError(reason: "line is longer than \(maximumLineLength) bytes", content: line)
                return try body(SourceItem(result: .failure(problem), origin: origin, position: position))
            }
            let parsed = StageTimes.shared.measure(.decode) { decoder.decode(line, previousTime: &previousTime) }
            let result = parsed.result.mapError { problem in
                var problem = problem
                problem.content = line
                return problem
            }
            return try body(
                SourceItem(result: result, origin: origin, replacedInvalidUTF8: parsed.replacedInvalidUTF8, parseProblem: parsed.parseProblem, position: position))
        }

        while stop?.isRequested != true {
            guard var current = file ?? open(resumingFrom: resumeFrom) else {
                if endsAtEnd {
                    report("symphony: cannot read '\(path)': \(String(cString: strerror(errno)))")
                    return false
                }
                if !reportedMissing {
                    report("symphony: waiting for '\(path)' to appear (--follow)")
                    reportedMissing = true
                }
                beforeRead()
                wait(for: stop)
                continue
            }
            resumeFrom = nil  // only the first file opened resumes
            reportedMissing = false
            file = current
            let got = buffer.withUnsafeMutableBytes { read(current.descriptor, $0.baseAddress!, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                report("symphony: cannot read '\(path)': \(String(cString: strerror(errno)))")
                return false
            }
            if got > 0 {
                var start = 0
                let chunkStart = current.offset
                current.offset += Int64(got)
                file = current
                while let newline = buffer[start..<got].firstIndex(of: UInt8(ascii: "\n")) {
                    keep(buffer[start..<newline])
                    let (line, tooLong) = (partial, overflowed)
                    forgetLine()
                    start = newline + 1
                    guard try take(line, overflowed: tooLong, in: current, end: chunkStart + Int64(start)) else { return true }
                }
                keep(buffer[start..<got])
                continue
            }
            // At the end of what is written: hand on what was read, then see what became of the file.
            if endsAtEnd {
                // A last line without its newline may still be being written: it is left for the
                // next read (whose position starts at it), never taken in part.
                if !partial.isEmpty { report("symphony: \(path): the last line has no newline yet (\(partial.count) bytes); it is left for the next run") }
                beforeRead()
                return true
            }
            beforeRead()
            var now = stat()
            if stat(path, &now) != 0 || UInt64(now.st_dev) != current.device || UInt64(now.st_ino) != current.inode {
                // Rotated (or removed): this file is read to its end; the next one at the path is read from its start.
                if !partial.isEmpty { report("symphony: \(path): a last line without its newline was left in the rotated file (\(partial.count) bytes)") }
                forgetLine()
                close(current.descriptor)
                file = nil
                continue
            }
            var opened = stat()
            if fstat(current.descriptor, &opened) == 0, Int64(opened.st_size) < current.offset {
                report("symphony: '\(path)' was truncated; reading it again from its start")
                lseek(current.descriptor, 0, SEEK_SET)
                current.offset = 0
                file = current
                forgetLine()
                continue
            }
            wait(for: stop)
        }
        return true
    }

    /// Opens the file at `path`, at `resume`'s offset when it is the same file and not shorter; nil when it is not there.
    private func open(resumingFrom resume: FilePosition?) -> OpenFile? {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            close(descriptor)
            return nil
        }
        var file = OpenFile(descriptor: descriptor, device: UInt64(status.st_dev), inode: UInt64(status.st_ino), offset: 0)
        if let resume, resume.device == file.device, resume.inode == file.inode, resume.offset <= Int64(status.st_size),
            lseek(descriptor, off_t(resume.offset), SEEK_SET) == off_t(resume.offset)
        {
            file.offset = resume.offset
        }
        return file
    }

    /// Sleeps for the poll interval, or until a stop is requested.
    private func wait(for stop: StopRequest?) {
        let milliseconds = Int32(clamping: pollInterval.milliseconds)
        guard let stop else {
            usleep(UInt32(clamping: Int64(milliseconds) * 1_000))
            return
        }
        var descriptor = pollfd(fd: stop.wakeDescriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, milliseconds)
    }
}
