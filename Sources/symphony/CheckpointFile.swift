import Glibc
import SymphonyStore

/// Writes `run --checkpoint`'s file: the checkpoint line, replacing what was there, mode 0600, synced to disk.
enum CheckpointFile {
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
