import SymphonyEvents

/// Reads events from JSON Lines files or standard input, a line at a time, never a whole file.
///
/// A line that is not a valid event is reported as a rejection (with its origin and reason) and
/// skipped. With `rawLinesType`, a line that is not JSON becomes
/// `{"type": rawLinesType, "payload": {"message": LINE}}`, so log files can be fed directly.
struct EventInput {
    /// Where a line came from: `path:line`, or `<stdin>:line`.
    struct Origin: Sendable, CustomStringConvertible {
        let source: String
        let line: Int
        var description: String { "\(source):\(line)" }
    }

    let paths: [String]
    let rawLinesType: String?

    init(paths: [String], rawLinesType: String?) {
        self.paths = paths.isEmpty ? ["-"] : paths
        self.rawLinesType = rawLinesType
    }

    /// Calls `body` with each event or rejection, in input order; returns false if a file could not be opened.
    /// `beforeRead` runs before each read that may block (and at the end of each file), so batched work is not held back waiting for input.
    /// Once `stop` is requested no more input is read (nor another file opened); the lines already
    /// read still reach `body`. The start of a line whose end was not read is no line: it does not
    /// reach `body` but is reported on stderr (`path:line: not processed: …`).
    func forEach(
        beforeRead: @escaping () -> Void = {}, stop: StopRequest? = nil, _ body: (Result<Event, InputLineError>, Origin) throws -> Bool
    ) throws -> Bool {
        var allOpened = true
        for path in paths {
            if stop?.isRequested == true { break }
            let reader: LineReader
            do {
                reader = try LineReader(path: path)
            } catch {
                printError("symphony: \(error)")
                allOpened = false
                continue
            }
            reader.beforeRead = beforeRead
            reader.stop = stop
            let source = path == "-" ? "<stdin>" : path
            // A file that opens but cannot be read (a directory, an I/O error) counts as unreadable
            // like one that does not open: reported, and the other inputs are still read.
            func nextLine() -> LineReader.Line? {
                do {
                    return try reader.next()
                } catch {
                    printError("symphony: \(error)")
                    allOpened = false
                    return nil
                }
            }
            while let line = nextLine() {
                if line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                let origin = Origin(source: source, line: line.number)
                let result: Result<Event, InputLineError>
                if line.incomplete {
                    let count = line.tooLong ? "more than \(reader.maximumLineLength)" : "\(line.bytes.count)"
                    printError("\(origin): not processed: a signal stopped the input after \(count) bytes of this line, before its end")
                    return allOpened
                }
                if line.tooLong {
                    result = .failure(InputLineError(reason: "line is longer than \(reader.maximumLineLength) bytes", content: line.bytes))
                } else {
                    result = StageTimes.shared.measure(.decode) { parse(line.bytes) }.mapError { problem in
                        var problem = problem
                        problem.content = line.bytes
                        return problem
                    }
                }
                guard try body(result, origin) else { return allOpened }
            }
        }
        return allOpened
    }

    private func parse(_ bytes: [UInt8]) -> Result<Event, InputLineError> {
        // One pass for NUL bytes and non-ASCII; only a line with non-ASCII bytes needs a full UTF-8 check.
        var orBits: UInt8 = 0
        var hasNUL = false
        bytes.withUnsafeBufferPointer { buffer in
            for byte in buffer {
                orBits |= byte
                hasNUL = hasNUL || byte == 0
            }
        }
        if orBits & 0x80 != 0, String(validating: bytes, as: UTF8.self) == nil {
            return .failure(InputLineError(reason: "not valid UTF-8"))
        }
        if hasNUL {
            return .failure(InputLineError(reason: "contains a NUL byte"))
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            // With --lines, text that is not JSON is wrapped; a JSON object that is not a valid event is rejected below.
            if let rawLinesType { return .success(Event(type: rawLinesType, payload: ["message": .string(String(decoding: bytes, as: UTF8.self))])) }
            return .failure(InputLineError(reason: "not valid JSON: \(error)"))
        }
        do {
            return .success(try InputEvent(json: value).event())
        } catch let error as InputLineError {
            return .failure(error)
        } catch {
            return .failure(InputLineError(reason: "not a valid event"))
        }
    }
}
