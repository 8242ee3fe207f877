import Foundation
import SymphonyCrypto
import SymphonyRecords
import SymphonyStore
import Testing

/// A history that several runs open in turn: one in-memory history shared by every run, or a
/// SQLite file opened again by each run (as successive `symphony run`s do).
struct ReopenableHistory: CustomTestStringConvertible, Sendable {
    let name: String
    /// Opens the history for one run.
    let open: @Sendable () throws -> any HistoryRecorder
    var testDescription: String { name }

    /// One in-memory history, the same for every run.
    static func inMemory() -> ReopenableHistory {
        let history = InMemoryHistory()
        return ReopenableHistory(name: "in-memory") { history }
    }

    /// A fresh SQLite file, opened again by every run.
    static func sqlite() -> ReopenableHistory {
        let path = NSTemporaryDirectory() + "symphony-reopen-" + UUID().uuidString + ".db"
        return ReopenableHistory(name: "SQLite") { try HistoryStore(path: path, key: try EncryptionKey(bytes: [UInt8](repeating: 5, count: 32))) }
    }
}
