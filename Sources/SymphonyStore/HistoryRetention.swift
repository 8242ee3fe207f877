import Logging
import SymphonyConcurrency
import SymphonyEvents

/// Prunes a history as it runs (`run --retain`, `serve --retain`): on its own thread, one pass at
/// start and then one every `interval`, each removing what was committed more than `keep` ago
/// (`HistoryStore.prune`). A pass removes at most about `rowsPerPass` events and executions in one
/// commit of the history writer, and follows with another until it is done, so the writer is
/// never held for long and the event path waits only if the writer's buffer fills meanwhile.
public final class HistoryRetention: Sendable {
    private let lock = ConditionLock()
    // nonisolated(unsafe): every access holds `lock`.
    nonisolated(unsafe) private var stopping = false
    private let thread = Locked<WorkerThread?>(nil)

    /// Starts pruning `store`; `principal` is named in the `history.prune` records.
    public init(
        store: HistoryStore, keep: Duration, interval: Duration, principal: String, rowsPerPass: Int = 20_000,
        logger: Logger = Logger(label: "symphony.history")
    ) {
        let label = Self.label(keep)
        let worker = WorkerThread(name: "sym-retention") { [self] in
            repeat {
                // A pass runs before stopping is looked at: even a short run prunes once.
                do {
                    while true {
                        let summary = try store.prune(
                            before: Timestamp.now().advanced(by: .zero - keep), principal: principal, reason: "; retention \(label)", maxRows: rowsPerPass)
                        if !summary.budgetReached || isStopping { break }
                    }
                } catch {
                    logger.error("history retention: the prune failed; the history is kept as it is", metadata: ["error": "\(error)"])
                }
            } while !waitOrStop(interval)
        }
        thread.withLock { $0 = worker }
    }

    private var isStopping: Bool { lock.withLock { stopping } }

    /// Waits `interval`; true when asked to stop meanwhile (or before).
    private func waitOrStop(_ interval: Duration) -> Bool {
        lock.withLock {
            if stopping { return true }
            _ = lock.wait(timeout: interval)
            return stopping
        }
    }

    /// Finishes the pass under way (or the first one) and stops; call before closing the store.
    public func stop() {
        lock.withLock {
            stopping = true
            lock.broadcast()
        }
        let worker = thread.withLock { thread -> WorkerThread? in
            defer { thread = nil }
            return thread
        }
        worker?.join()
    }

    /// `30d`, `12h`, `90m`, `45s` or `1500ms`: how a retention reads in the audit trail.
    static func label(_ keep: Duration) -> String {
        let milliseconds = keep.components.seconds * 1_000 + keep.components.attoseconds / 1_000_000_000_000_000
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)] where milliseconds >= size && milliseconds % size == 0 {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds)ms"
    }
}
