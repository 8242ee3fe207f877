import Glibc
import Synchronization

/// Where a run's time goes: the time spent in each stage of the event path, summed over every
/// thread (`symphony run --stage-times`, and the end-to-end benchmark's per-stage shares).
///
/// Off by default. Each measuring point then costs one relaxed atomic load; when on, two reads
/// of the monotonic clock (a vDSO call, ~20 ns) and one atomic add. Stage times are wall time on
/// the measuring thread, so a thread descheduled inside a stage counts that time too — on a busy
/// machine, compare them with the process's CPU time rather than reading them as CPU time.
///
/// A non-copyable struct, so that `shared` is borrowed where it is used: a shared class instance
/// is retained and released at every measuring point on every thread, and its reference count
/// then moves between cores.
public struct StageTimes: ~Copyable, Sendable {
    /// A stage of the event path. `match` includes `intents` (recognition runs inside condition
    /// tests); `snapshot()` reports it without.
    public enum Stage: Int, CaseIterable, Sendable {
        /// Turning an input line into an event: UTF-8 check, JSON parsing, event fields.
        case decode
        /// Sealing events into the queue and opening them on the workers.
        case queue
        /// Testing rule conditions (regexes included), intents excluded.
        case match
        /// Recognizing intents in text fields.
        case intents
        /// Running matched rules' actions: templates, publishing, scheduling, output.
        case actions
        /// Preparing history rows on the event path (sealing payloads, handing rows to the writer).
        case historyRecord
        /// The history writer thread committing rows to SQLite.
        case historyWrite

        /// The name printed in reports.
        public var name: String {
            switch self {
            case .decode: "decode"
            case .queue: "queue"
            case .match: "match"
            case .intents: "intents"
            case .actions: "actions"
            case .historyRecord: "history (record)"
            case .historyWrite: "history (write)"
            }
        }
    }

    /// The process-wide instance the event path reports to.
    public static let shared = StageTimes()

    @usableFromInline
    final class Counter: Sendable {
        @usableFromInline let nanoseconds = Atomic<Int64>(0)
        init() {}
    }

    // Inlinable (with what it touches), so measuring points in other modules compile to a load
    // and a branch instead of an unspecialized generic call per event.
    @usableFromInline let enabled = Atomic<Bool>(false)
    @usableFromInline let counters: [Counter] = Stage.allCases.map { _ in Counter() }

    /// A recorder that starts switched off.
    public init() {}

    /// Starts (or stops) measuring.
    public func setEnabled(_ on: Bool) {
        enabled.store(on, ordering: .relaxed)
    }

    /// A start mark for `add(_:since:)`: the monotonic time when measuring, else 0.
    @inlinable
    public func mark() -> Int64 {
        enabled.load(ordering: .relaxed) ? Self.now() : 0
    }

    /// Adds the time since `mark` (from `mark()`) to `stage`; nothing when `mark` is 0.
    @inlinable
    public func add(_ stage: Stage, since mark: Int64) {
        guard mark != 0 else { return }
        counters[stage.rawValue].nanoseconds.add(Self.now() - mark, ordering: .relaxed)
    }

    /// Runs `body`, adding its duration to `stage` when measuring.
    @inlinable
    public func measure<Result, Failure: Error>(_ stage: Stage, _ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        let start = mark()
        defer { add(stage, since: start) }
        return try body()
    }

    /// Nanoseconds per stage so far, each stage without the stages nested in it.
    public func snapshot() -> [Stage: Int64] {
        var times: [Stage: Int64] = [:]
        for stage in Stage.allCases { times[stage] = counters[stage.rawValue].nanoseconds.load(ordering: .relaxed) }
        times[.match, default: 0] -= times[.intents] ?? 0
        return times
    }

    /// Clears every stage.
    public func reset() {
        for counter in counters { counter.nanoseconds.store(0, ordering: .relaxed) }
    }

    @usableFromInline
    static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return (Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)) | 1  // never 0, which means "not measuring"
    }
}
