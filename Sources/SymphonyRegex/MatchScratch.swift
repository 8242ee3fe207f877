import CPCRE2
import Glibc

/// One thread's PCRE2 working memory: match data, a match context with the limits, and a JIT stack.
///
/// Kept in a pthread thread-specific slot and freed when the thread exits; never shared.
final class MatchScratch {
    /// The JIT stack each thread gets: enough for deeply nested but legitimate patterns.
    static let jitStackBytes = 1 << 20

    private var matchData: OpaquePointer
    private var capacity: Int
    private let context: OpaquePointer
    private let jitStack: OpaquePointer?

    private init() {
        capacity = 16
        matchData = pcre2_match_data_create_8(UInt32(capacity), nil)
        context = pcre2_match_context_create_8(nil)
        jitStack = pcre2_jit_stack_create_8(32 * 1024, Self.jitStackBytes, nil)
        if let jitStack {
            pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(jitStack))
        }
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_match_context_free_8(context)
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
    }

    /// This thread's scratch, with room for `groupCount` capture groups.
    static func current(groupCount: Int) -> MatchScratch {
        let scratch: MatchScratch
        if let stored = pthread_getspecific(scratchKey) {
            scratch = Unmanaged<MatchScratch>.fromOpaque(stored).takeUnretainedValue()
        } else {
            scratch = MatchScratch()
            pthread_setspecific(scratchKey, Unmanaged.passRetained(scratch).toOpaque())
        }
        scratch.ensureCapacity(groupCount + 1)
        return scratch
    }

    private func ensureCapacity(_ pairs: Int) {
        guard pairs > capacity else { return }
        pcre2_match_data_free_8(matchData)
        capacity = min(max(pairs, capacity * 2), 65_535)  // PCRE2 keeps the pair count in 16 bits
        matchData = pcre2_match_data_create_8(UInt32(capacity), nil)
    }

    /// Runs one match; returns PCRE2's result code.
    func match(_ code: OpaquePointer, _ subject: UnsafeBufferPointer<UInt8>, limits: MatchLimits, jit: Bool) -> Int32 {
        pcre2_set_match_limit_8(context, limits.matchLimit)
        pcre2_set_depth_limit_8(context, limits.depthLimit)
        var empty: UInt8 = 0
        return withUnsafePointer(to: &empty) { emptyPointer in
            let start = subject.baseAddress ?? emptyPointer
            if jit {
                return pcre2_jit_match_8(code, start, subject.count, 0, 0, matchData, context)
            }
            return pcre2_match_8(code, start, subject.count, 0, 0, matchData, context)
        }
    }

    /// The offsets of the last match: start and end of group 0, then of each group.
    var ovector: UnsafeMutablePointer<Int> { pcre2_get_ovector_pointer_8(matchData) }
}

/// The thread-specific slot holding each thread's `MatchScratch`, released when the thread exits.
private let scratchKey: pthread_key_t = {
    var key = pthread_key_t()
    let result = pthread_key_create(&key) { pointer in
        guard let pointer else { return }
        Unmanaged<MatchScratch>.fromOpaque(pointer).release()
    }
    precondition(result == 0, "pthread_key_create failed")
    return key
}()
