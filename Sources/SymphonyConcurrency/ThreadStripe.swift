import Glibc

/// Which of several stripes (copies behind their own locks) the calling thread uses: its thread id,
/// hashed. Threads running at once mostly land on different stripes, so they rarely contend.
public enum ThreadStripe {
    /// The calling thread's stripe, of `count`.
    @inlinable
    public static func current(of count: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(pthread_self()) &* 0x9E37_79B9_7F4A_7C15) >> 32) % count
    }
}
