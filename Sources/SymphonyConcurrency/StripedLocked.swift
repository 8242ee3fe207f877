/// Several copies of a value, each behind its own pthread mutex; a thread uses the copy of its
/// `ThreadStripe`. For per-thread caches that many threads read on every event: each thread mostly
/// takes a lock no other thread is taking, where one shared lock had them all contending.
///
/// The copies are independent: what one thread stores, another finds only if it hashes to the same
/// stripe. Use it for values any copy can rebuild (caches), not for shared state.
// @unchecked Sendable: each copy is reachable only inside `withLock`, under its own `Locked`.
public final class StripedLocked<Value>: @unchecked Sendable {
    @usableFromInline let stripes: [Locked<Value>]

    /// `count` copies, each made by `make`.
    public init(count: Int = 8, _ make: () -> Value) {
        precondition(count > 0, "a StripedLocked needs at least one stripe")
        stripes = (0..<count).map { _ in Locked(make()) }
    }

    /// Runs `body` with exclusive access to this thread's copy.
    @inlinable
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try stripes[ThreadStripe.current(of: stripes.count)].withLock(body)
    }
}
