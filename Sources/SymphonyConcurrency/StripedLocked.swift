import Glibc

/// Several copies of a value, each behind its own pthread mutex; a thread uses the copy its thread
/// id hashes to. For per-thread caches that many threads read on every event: each thread mostly
/// takes a lock no other thread is taking, where one shared lock had them all contending.
///
/// The copies are independent: what one thread stores, another finds only if it hashes to the same
/// stripe. Use it for values any copy can rebuild (caches), not for shared state.
// @unchecked Sendable: each copy is reachable only inside `withLock`, under its own `Locked`.
package final class StripedLocked<Value>: @unchecked Sendable {
    @usableFromInline let stripes: [Locked<Value>]

    /// `count` copies, each made by `make`.
    package init(count: Int = 8, _ make: () -> Value) {
        precondition(count > 0, "a StripedLocked needs at least one stripe")
        stripes = (0..<count).map { _ in Locked(make()) }
    }

    /// Runs `body` with exclusive access to this thread's copy.
    @inlinable
    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        let stripe = Int(truncatingIfNeeded: (UInt64(pthread_self()) &* 0x9E37_79B9_7F4A_7C15) >> 32) % stripes.count
        return try stripes[stripe].withLock(body)
    }

    /// Runs `body` on every copy in turn (each under its own lock).
    package func forEach(_ body: (inout Value) throws -> Void) rethrows {
        for stripe in stripes { try stripe.withLock(body) }
    }
}
