import SymphonyEvents

/// JSON Lines held in memory (an HTTP request's body) read into items, line by line, exactly as
/// `LineEventSource` reads a file (with the same `LineDecoder`): each non-blank line is an event or a rejection with its reason.
public enum EventLines {
    /// The longest line taken, as for files (`LineReader`'s limit).
    public static let maximumLineLength = 1 << 20

    /// The items of `body`, in order; `source` names them (`http:<principal>`), lines numbered from 1.
    /// Blank lines are skipped (but counted in the numbering); a trailing CR is dropped.
    public static func decode(_ body: [UInt8], source: String) -> [SourceItem] {
        let decoder = LineDecoder(rawLinesType: nil, lineParser: nil)
        var items: [SourceItem] = []
        var number = 0
        var start = body.startIndex
        var previousTime: Timestamp?
        while start < body.endIndex {
            let end = body[start...].firstIndex(of: 0x0A) ?? body.endIndex
            number += 1
            var line = body[start..<end]
            start = end == body.endIndex ? end : end + 1
            if line.last == 0x0D { line = line.dropLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let origin = SourceOrigin(source: source, line: number)
            let bytes = Array(line)
            guard bytes.count <= maximumLineLength else {
                items.append(SourceItem(result: .failure(InputLineError(reason: "line is longer than \(maximumLineLength) bytes", content: bytes)), origin: origin))
                continue
            }
            let parsed = decoder.decode(bytes, previousTime: &previousTime)
            let result = parsed.result.mapError { problem in
                var problem = problem
                problem.content = bytes
                return problem
            }
            items.append(SourceItem(result: result, origin: origin))
        }
        return items
    }
}
