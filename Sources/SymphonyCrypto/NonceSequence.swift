/// Unique 96-bit GCM nonces: a random 64-bit prefix from the OS CSPRNG followed by a 32-bit counter.
///
/// Each sequence draws its own prefix when it makes its first nonce (so a cipher slot that only
/// ever opens envelopes draws none) and counts up from zero; when the counter is used up it
/// draws a fresh prefix. Every draw goes through the caller's `drawPrefix`, which counts it. A nonce can repeat under one key only if two prefixes collide, which for
/// P prefixes has probability at most P²/2⁶⁵. Each `EnvelopeSealer` caps itself at 2¹⁶ prefixes
/// (2⁴⁸ messages, collision probability below 2⁻³³); a deployment should use one sealer per key
/// and process, and rotate keys long before that.
struct NonceSequence {
    private var prefix: UInt64?
    private var counter: UInt32 = 0

    /// A sequence that draws its prefix when it makes its first nonce.
    init() {}

    /// A sequence already under `prefix` at `counter` (tests reach the counter's end this way
    /// instead of making 2³² nonces).
    init(prefix: UInt64, counter: UInt32) {
        self.prefix = prefix
        self.counter = counter
    }

    /// Writes the next nonce (12 bytes) to `buffer`; `drawPrefix` is called before a prefix is drawn (the first, and each after the counter is used up) and may throw to refuse.
    mutating func next(into buffer: inout [UInt8], drawPrefix: () throws -> Void) throws {
        if prefix == nil || counter == UInt32.max {
            try drawPrefix()
            prefix = try SecureRandom.uint64()
            counter = 0
        }
        BigEndianBytes.append(prefix!, to: &buffer)
        BigEndianBytes.append(counter, to: &buffer)
        counter += 1
    }
}
