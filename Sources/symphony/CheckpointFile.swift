import Foundation
import Glibc
import SymphonyStore

/// `run --checkpoint`'s file: the checkpoint line, mode 0600, synced to disk.
enum CheckpointFile {
    /// Writes `checkpoint` to `path`, replacing a previous checkpoint only when the history at
    /// `history` still holds the link that one names: a history rolled back (or replaced) since
    /// must not wipe out the only evidence of it. A file that is not a checkpoint is never replaced.
    static func replace(_ path: String, with checkpoint: HistoryCheckpoint, history: String) throws {
        if let previous = try? String(contentsOfFile: path, encoding: .utf8) {
            guard let old = HistoryCheckpoint(text: previous) else {
                throw WriteError(description: "it exists and is not a Symphony checkpoint; it was left as it is")
            }
            guard try AuditReader(path: history).contains(old) else {
                throw WriteError(
                    description:
                        "the checkpoint there names link \(old.sequence) of database \(old.databaseID), which this history does not hold: it was rolled back or replaced since. The old checkpoint was kept; run 'symphony audit verify --checkpoint \(path)'"
                )
            }
        }
        try write(checkpoint, to: path)
    }

    struct WriteError: Error, CustomStringConvertible {
        let description: String
    }

    static func write(_ checkpoint: HistoryCheckpoint, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WriteError(description: String(cString: strerror(errno))) }
        defer { close(fd) }
        let bytes = Array((checkpoint.text + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if result < 0 {
                if errno == EINTR { continue }
                throw WriteError(description: String(cString: strerror(errno)))
            }
            written += result
        }
        guard fsync(fd) == 0 else { throw WriteError(description: String(cString: strerror(errno))) }
    }
}
