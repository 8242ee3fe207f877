import Glibc
import SymphonyEvents

/// A progress line on standard error, shown only when standard error is a terminal.
final class Progress {
    private let enabled = isatty(STDERR_FILENO) == 1
    private var lastUpdate = Timestamp.now()
    private var shown = false

    func update(_ count: Int) {
        guard enabled, count % 1024 == 0 else { return }
        let now = Timestamp.now()
        guard lastUpdate.duration(to: now) >= .milliseconds(500) else { return }
        lastUpdate = now
        shown = true
        writeAll(Array("\r\u{1B}[K  \(grouped(count)) events read…".utf8), to: STDERR_FILENO)
    }

    func clear() {
        guard shown else { return }
        shown = false
        writeAll(Array("\r\u{1B}[K".utf8), to: STDERR_FILENO)
    }
}
