import CoreMetrics
import Glibc
import Logging
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEvents
import Synchronization

/// The one thread that writes history: rows queue in a bounded buffer and are committed in
/// batches, one transaction per batch (group commit), so writes never slow the event path.
///
/// When the buffer is full — `capacity` rows, or `byteCapacity` bytes of sealed payloads and
/// chain encodings, whichever comes first — `append` waits (back-pressure); nothing is dropped. `flush()` returns
/// once everything appended before it is committed; `close()` commits the rest and stops.
final class HistoryWriter: Sendable {
    private static let notEmpty = 0
    private static let notFull = 1
    private static let committedCondition = 2

    let capacity: Int
    /// About how many bytes the buffer holds before `append` waits (a row larger than that is
    /// taken when the buffer is empty): large events would otherwise fill `capacity` rows with
    /// hundreds of megabytes.
    let byteCapacity: Int
    private let lock = ConditionLock(conditionCount: 3)
    // nonisolated(unsafe): every access holds `lock`.
    nonisolated(unsafe) private var pending: [HistoryRow] = []
    /// The writer thread's batch (only the writer thread touches it, outside the lock); swapped
    /// with `pending` under the lock, so neither buffer is reallocated per batch.
    nonisolated(unsafe) private var batch: [HistoryRow] = []
    nonisolated(unsafe) private var appended = 0
    /// `HistoryRow.bufferedBytes` of the rows in `pending`.
    nonisolated(unsafe) private var pendingBytes = 0
    nonisolated(unsafe) private var committed = 0
    nonisolated(unsafe) private var closed = false
    nonisolated(unsafe) private var failure: StoreError?
    /// Set with `failure`, read without the lock by the recording side on every input line.
    private let failed = Atomic<Bool>(false)
    /// The intake mark (`HistoryRecorder.handled(through:)`), guarded by `lock`: a batch's link
    /// carries the mark as it was when the batch was taken, so it never covers rows still queued.
    nonisolated(unsafe) private var intakeMark: String?
    /// The mark the last batch taken carried (guarded by `lock`).
    nonisolated(unsafe) private var markTaken: String?
    private let lost = Atomic<Int>(0)
    private let thread = Locked<WorkerThread?>(nil)
    private let statements: WriterStatements
    private let logger: Logger
    /// Rows per committed batch, and how long each commit took.
    private let batchRows: CoreMetrics.Recorder
    private let commitTime: CoreMetrics.Timer

    /// `key` signs the history chain's head; a head signed earlier under one of `retiredKeys`
    /// is checked with that key. Throws when the trail does not match its head, or its head was
    /// signed under a key not given (nothing is written then).
    /// `metrics` gets `symphony_history_batch_rows` (rows per commit) and
    /// `symphony_history_commit_seconds` (how long each took), both histograms.
    init(
        database: SQLiteDatabase, key: EncryptionKey, retiredKeys: [EncryptionKey] = [], capacity: Int = 16_384, byteCapacity: Int = 32 << 20,
        logger: Logger,
        metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) throws {
        self.capacity = capacity
        self.byteCapacity = byteCapacity
        self.logger = logger
        batchRows = CoreMetrics.Recorder(label: "symphony_history_batch_rows", factory: metrics)
        commitTime = CoreMetrics.Timer(label: "symphony_history_commit_seconds", factory: metrics)
        pending.reserveCapacity(capacity)
        batch.reserveCapacity(capacity)
        statements = try WriterStatements(database: database, key: key, retiredKeys: retiredKeys)
        let worker = WorkerThread(name: "sym-history") { [self] in run() }
        thread.withLock { $0 = worker }
    }

    /// Queues a row, waiting while the buffer is full. After `close()` nothing is written any more:
    /// the row is dropped with an error in the log (callers must finish recording before closing).
    func append(_ row: HistoryRow) {
        let bytes = row.bufferedBytes
        lock.withLock {
            while isFull && !closed { lock.wait(Self.notFull) }
            guard !closed else { return droppedAfterClose(1) }
            pending.append(row)
            pendingBytes += bytes
            appended += 1
            if pending.count == 1 { lock.signal(Self.notEmpty) }
        }
    }

    /// Queues rows in order with one lock hand-off, waiting while the buffer is full.
    func append(contentsOf rows: [HistoryRow]) {
        guard !rows.isEmpty else { return }
        var bytes = 0
        for row in rows { bytes += row.bufferedBytes }
        lock.withLock {
            while isFull && !closed { lock.wait(Self.notFull) }
            guard !closed else { return droppedAfterClose(rows.count) }
            let wasEmpty = pending.isEmpty
            pending.append(contentsOf: rows)
            pendingBytes += bytes
            appended += rows.count
            if wasEmpty { lock.signal(Self.notEmpty) }
        }
    }

    /// True while `pending` holds `capacity` rows or `byteCapacity` bytes (called with `lock` held);
    /// never while it is empty, so a row larger than the bound (or a bound of zero) still goes in.
    private var isFull: Bool {
        !pending.isEmpty && (pending.count >= capacity || pendingBytes >= byteCapacity)
    }

    private func droppedAfterClose(_ count: Int) {
        logger.error("history is closed; rows recorded after closing were not written", metadata: ["rows": "\(count)"])
    }

    /// Sets the intake mark the next batch's link carries.
    func handled(through eventID: String) {
        lock.withLock { intakeMark = eventID }
    }

    /// When the intake mark moved after the last batch was taken, queues a row that carries it
    /// (marks otherwise ride on the batches the run writes anyway). Called with `lock` held.
    private func queueMarkIfMoved() {
        guard !closed, intakeMark != markTaken else { return }
        pending.append(.intakeMark)
        appended += 1
        if pending.count == 1 { lock.signal(Self.notEmpty) }
    }

    /// True once a batch could not be written (its rows are lost).
    var hasFailed: Bool { failed.load(ordering: .acquiring) }

    /// Rows of batches that could not be written.
    var lostRows: Int { lost.load(ordering: .relaxed) }

    /// Waits until every row appended so far is committed; throws the first write failure, if any.
    func flush() throws(StoreError) {
        let writeFailure: StoreError? = lock.withLock {
            queueMarkIfMoved()
            let target = appended
            while committed < target && self.failure == nil { lock.wait(Self.committedCondition) }
            return self.failure
        }
        if let writeFailure { throw writeFailure }
    }

    /// Commits what is queued and stops the thread.
    func close() throws(StoreError) {
        lock.withLock {
            queueMarkIfMoved()
            closed = true
            lock.broadcast(Self.notEmpty)
        }
        let worker = thread.withLock { thread -> WorkerThread? in
            defer { thread = nil }
            return thread
        }
        worker?.join()
        // Fold the write-ahead log into the database file, so history.db alone is a complete copy.
        try? statements.database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if let failure = lock.withLock({ self.failure }) { throw failure }
    }

    private func run() {
        lock.lock()
        while true {
            while pending.isEmpty && !closed { lock.wait(Self.notEmpty) }
            if pending.isEmpty && closed { break }
            swap(&batch, &pending)
            pendingBytes = 0
            let mark = intakeMark
            markTaken = mark
            lock.broadcast(Self.notFull)
            lock.unlock()
            let started = ContinuousClock.now
            let result = StageTimes.shared.measure(.historyWrite) { write(batch, intakeMark: mark) }
            let count = batch.count
            commitTime.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            batchRows.record(count)
            if result == nil {
                var alreadyQueued = statements.alreadyQueued.makeIterator()  // one set per callback, in batch order
                for row in batch { if case .afterCommit(let callback) = row { callback(alreadyQueued.next() ?? []) } }
                if !statements.pruneReports.isEmpty {
                    if statements.pruneReports.contains(where: { !$0.summary.isEmpty }) { statements.reclaimFreePages() }
                    for (report, summary) in statements.pruneReports { report(summary) }
                }
            }
            batch.removeAll(keepingCapacity: true)  // rows are freed here, outside the lock
            lock.lock()
            if let result {
                if failure == nil { failure = result }
                lost.add(count, ordering: .relaxed)
                failed.store(true, ordering: .releasing)
            }
            committed += count
            lock.broadcast(Self.committedCondition)
        }
        lock.unlock()
    }

    /// Writes a batch in one transaction, retrying a few times on transient errors; returns the failure if it could not.
    private func write(_ batch: [HistoryRow], intakeMark: String?) -> StoreError? {
        var lastError: StoreError?
        for attempt in 0..<5 {
            do {
                try statements.writeBatch(batch, intakeMark: intakeMark)
                return nil
            } catch let error as StoreError {
                lastError = error
                logger.error("history write failed; retrying", metadata: ["attempt": "\(attempt + 1)", "error": "\(error)"])
                usleep(UInt32(50_000 * (attempt + 1)))
            } catch {
                lastError = StoreError(code: -1, message: "\(error)")
            }
        }
        logger.critical("history rows could not be written", metadata: ["rows": "\(batch.count)", "error": "\(lastError!)"])
        return lastError
    }
}
