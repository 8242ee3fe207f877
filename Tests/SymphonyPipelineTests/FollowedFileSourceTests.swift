import Foundation
import SymphonyEvents
import SymphonyPipeline
import SymphonyRecords
import Testing

/// `FollowedFileSource` line by line: the line limit (CRLF endings included), and the position
/// each line leaves the file at.
@Suite struct FollowedFileSourceTests {
    @Test("a line over the limit is rejected with its start, one at the limit (with or without a CR) is read; each carries the offset past it")
    func lineLimit() throws {
        let path = NSTemporaryDirectory() + "symphony-follow-" + UUID().uuidString + ".log"
        let lines = ["0123456789", "0123456789\r", "0123456789A", String(repeating: "x", count: 70_000), "ok"]
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
        let source = FollowedFileSource(path: path, rawLinesType: "log", resume: nil, maximumLineLength: 10, report: { _ in })
        var items: [SourceItem] = []
        _ = try source.forEach(beforeRead: {}, stop: nil) { item in
            items.append(item)
            return items.count < lines.count
        }
        let outcomes = items.map { item -> String in
            switch item.result {
            case .success(let event): event.payload["message"]?.stringValue ?? ""
            case .failure(let problem): "rejected: \(problem.reason)"
            }
        }
        #expect(outcomes == ["0123456789", "0123456789", "rejected: line is longer than 10 bytes", "rejected: line is longer than 10 bytes", "ok"])
        if case .failure(let problem) = items[3].result { #expect(problem.content == Array("xxxxxxxxxx".utf8)) }
        var offset = 0
        for (line, item) in zip(lines, items) {
            offset += line.utf8.count + 1
            #expect(item.position?.offset == Int64(offset))
        }
    }
}
