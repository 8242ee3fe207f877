import Dispatch
import Glibc
import SymphonyConcurrency
import SymphonyEngine
import SymphonyEvents
import SymphonyStore
import Synchronization
import SymphonyRecords

/// The shared state of a run: counters, the stop a signal requests, and the finish (summary, exit code).
///
/// A signal does not finish the run itself: it requests the stop, which wakes the reader (it reads
/// no more input and hands what it already read to the rules) and makes derived publishes fail;
/// the reading thread then finishes, as at the end of the input.
final class RunState: Sendable {
    let system: EventSystem
    let engine: RuleEngine
    let stdout: OutputLines
    let history: HistoryStore?
    let input: InputBatch
    /// Requested by SIGINT or SIGTERM.
    let stop: StopRequest
    let printSummary: Bool
    let printStageTimes: Bool
    /// Where `--checkpoint` writes the history chain's signed head once history is closed.
    let checkpointPath: String?
    let read = Atomic<Int>(0)
    let rejected = Atomic<Int>(0)
    let denied = Atomic<Int>(0)
    /// Lines counted in `read` (denied ones) whose invalid UTF-8 was replaced; the batch counts those it took.
    let replacedUTF8 = Atomic<Int>(0)
    let unreadable = Atomic<Bool>(false)
    private let started = Timestamp.now()
    private let signalled = DispatchSemaphore(value: 0)
    private let sources = Locked<[any DispatchSourceSignal]>([])

    init(
        system: EventSystem, engine: RuleEngine, stdout: OutputLines, history: HistoryStore?, input: InputBatch, stop: StopRequest,
        printSummary: Bool, printStageTimes: Bool, checkpointPath: String? = nil
    ) {
        self.checkpointPath = checkpointPath
        self.system = system
        self.engine = engine
        self.stdout = stdout
        self.history = history
        self.input = input
        self.stop = stop
        self.printSummary = printSummary
        self.printStageTimes = printStageTimes
    }

    /// On SIGINT or SIGTERM: request the stop (the reader ends the input after what it already
    /// read, derived publishes fail) and wake a `--follow` wait.
    func installSignalHandlers() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                stop.request()
                signalled.signal()
            }
            source.resume()
            sources.withLock { $0.append(source) }
        }
    }

    /// Blocks until a signal arrives (`--follow`, after the input ended).
    func waitForSignal() {
        signalled.wait()
    }

    /// Called once by the reading thread when the input ended (at its end, or after a signal):
    /// stops the system (draining queued events), prints the summary and exits with the run's code.
    func finish() -> Never {
        input.flush()  // the reader flushed when its input ended; nothing read may stay behind
        // At the end of the input, let chains settle, firing delays that are already due (even
        // without --follow). After a signal, start nothing more: derived publishes fail, the
        // scheduler stops (stored entries stay pending) and the queue drains.
        while !stop.isRequested {
            system.dispatcher.waitUntilIdle()
            let fired = system.scheduler.firedCount
            system.scheduler.fireDueEntries()
            if system.scheduler.firedCount == fired { break }
        }
        system.stop()
        stdout.flush()
        var historyFailed = false
        do {
            try history?.close()
        } catch {
            historyFailed = true
            printError("symphony: history: \(error)")
        }
        if let checkpointPath, let history, !historyFailed {
            do {
                guard let checkpoint = try history.checkpoint() else { throw StoreError(code: -1, message: "the history has no chain") }
                try CheckpointFile.write(checkpoint, to: checkpointPath)
            } catch {
                historyFailed = true
                printError("symphony: could not write the checkpoint '\(checkpointPath)': \(error)")
            }
        }
        let counters = system.counters
        let statistics = engine.statistics
        let read = self.read.load(ordering: .relaxed) + input.accepted
        let rejected = self.rejected.load(ordering: .relaxed) + input.refused
        let replaced = replacedUTF8.load(ordering: .relaxed) + input.acceptedWithReplacedUTF8
        if printSummary {
            let seconds = max(1e-9, Double(started.duration(to: .now()).nanoseconds) / 1e9)
            let kinds = ["publish", "delay", "audit", "emit", "stop"].map { "\($0) \(grouped(statistics.actions[$0, default: 0]))" }
            let pending = system.scheduler.pendingCount
            printError(
                "symphony: \(grouped(read)) events read"
                    + (replaced > 0 ? " (\(grouped(replaced)) with invalid UTF-8 replaced by U+FFFD)" : "")
                    + ", \(grouped(rejected)) rejected, "
                    + (denied.load(ordering: .relaxed) + statistics.denials > 0 ? "\(grouped(denied.load(ordering: .relaxed) + statistics.denials)) denied, " : "")
                    + "\(grouped(counters.delivered + counters.failed)) processed, "
                    + "\(grouped(statistics.rulesFired)) rules fired; actions: \(kinds.joined(separator: ", ")); "
                    + "\(grouped(statistics.failures + counters.failed)) errors"
                    + (statistics.conditionProblems > 0 ? " (and \(grouped(statistics.conditionProblems)) regex conditions stopped at their match limit)" : "")
                    + "; \(grouped(Int(Double(read) / seconds))) events/s"
                    + (pending > 0
                        ? "; \(grouped(pending)) delayed event\(pending == 1 ? "" : "s") still pending "
                            + (history == nil ? "(lost at exit with --no-history; use --follow to wait)" : "(stored: a later run fires them when due, or use --follow)")
                        : ""))
        }
        if printStageTimes { printError(StageReport(times: StageTimes.shared.snapshot(), events: read).text) }
        if historyFailed { exit(74) }
        if unreadable.load(ordering: .relaxed) { exit(66) }
        exit(rejected > 0 ? 65 : 0)
    }
}
