import SymphonyConcurrency

/// A bound on the submissions handled at once: a request takes a slot before its body is read
/// and gives it back when answered; with no slot free it is answered 503 at once, so overload
/// never queues unbounded memory. `waitUntilIdle` lets shutdown wait for the ones in flight.
final class SubmissionGate: Sendable {
    private let limit: Int
    private let inFlight = Locked<Int>(0)

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Takes a slot; false when all are taken.
    func enter() -> Bool {
        inFlight.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    /// Gives a slot back.
    func leave() {
        inFlight.withLock { $0 -= 1 }
    }

    /// Submissions in flight now.
    var count: Int { inFlight.withLock { $0 } }
}
