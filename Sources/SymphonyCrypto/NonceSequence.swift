/// Unique 96-bit GCM nonces: a random 64-bit prefix from the OS CSPRNG followed by a 32-bit counter.
///
/// Each sequence draws its own prefix and counts up from zero; when the counter is used up it
/// draws a fresh prefix. A nonce can repeat under one key only if two prefixes collide, which for
/// P prefixes has probability at most P²/2⁶⁵. Each `EnvelopeSealer` caps itself at 2¹⁶ prefixes
/// (2⁴⁸ messages, collision probability below 2⁻³³); a deployment should use one sealer per key
/// and process, and rotate keys long before that.
struct NonceSequence {
    private var prefix: UInt64
    private var counter: UInt32 = 0

    /// Starts a sequence with a fresh random prefix.
    init() throws {
        prefix = try SecureRandom.uint64()
    }

    /// Writes the next nonce (12 bytes) to `buffer`; `drawPrefix` is called before a fresh prefix is drawn and may throw to refuse.
    mutating func next(into buffer: inout [UInt8], drawPrefix: () throws -> Void) throws {
        if counter == UInt32.max {
            try drawPrefix()
            prefix = try SecureRandom.uint64()
            counter = 0
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            buffer.append(UInt8(truncatingIfNeeded: prefix >> UInt64(shift)))
        }
        for shift in stride(from: 24, through: 0, by: -8) {
            buffer.append(UInt8(truncatingIfNeeded: counter >> UInt32(shift)))
        }
        counter += 1
    }
}
