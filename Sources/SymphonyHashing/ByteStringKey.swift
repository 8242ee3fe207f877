#if canImport(Glibc)
import Glibc
#endif

/// A string as a dictionary key compared and hashed by its UTF-8 bytes: for the hot lookups of
/// short keys (event types, words of a text), where `String`'s own hashing (SipHash-1-3 through
/// `Hasher`) costs several times the rest of the probe.
///
/// The hash is wyhash's scheme: each 8-byte word of the key, mixed with a seed, is multiplied out
/// to 128 bits and folded. The seed is the one `Dictionary` passes each storage (its address)
/// combined with a secret drawn at random once per process (from `Hasher`, which `String`'s own
/// hashing is keyed by), so which keys collide cannot be worked out from outside: keys taken from
/// input (event types, words of a ticket) cannot be chosen to fill one bucket chain.
///
/// Equality is byte equality, not `String`'s canonical equivalence: `"é"` written as one scalar
/// and as `e` with a combining accent are two keys. Use it where keys are ASCII, or are made the
/// same way on both sides of the lookup.
public struct ByteStringKey: Hashable, Sendable, CustomStringConvertible {
    /// The key's text.
    public let string: String

    /// The key for `string`.
    @inlinable
    public init(_ string: String) {
        self.string = string
    }

    public var description: String { string }

    @inlinable
    public static func == (lhs: ByteStringKey, rhs: ByteStringKey) -> Bool {
        let lhsCount = lhs.string.utf8.count
        guard lhsCount == rhs.string.utf8.count else { return false }
        let equal = lhs.string.utf8.withContiguousStorageIfAvailable { left in
            rhs.string.utf8.withContiguousStorageIfAvailable { right in
                lhsCount == 0 || memcmp(left.baseAddress!, right.baseAddress!, lhsCount) == 0
            }
        }
        return (equal ?? nil) ?? lhs.string.utf8.elementsEqual(rhs.string.utf8)  // a string without contiguous UTF-8
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(string.utf8.count)
        for byte in string.utf8 { hasher.combine(byte) }
    }

    /// What `Dictionary` and `Set` hash keys with: the bytes under `seed`.
    @inlinable
    public func _rawHashValue(seed: Int) -> Int {
        let keyed = UInt64(UInt(bitPattern: seed)) ^ byteStringKeySecret
        if let hash = string.utf8.withContiguousStorageIfAvailable({ Self.hash(UnsafeRawBufferPointer($0), seed: keyed) }) {
            return Int(truncatingIfNeeded: hash)
        }
        return Int(truncatingIfNeeded: Array(string.utf8).withUnsafeBytes { Self.hash($0, seed: keyed) })  // no contiguous UTF-8
    }

    /// The key's hash, as wyhash (final version 4) reads bytes: a key of up to 16 bytes is read as
    /// two words, from overlapping loads at its start and end; a longer one 16 bytes at a time.
    /// Both factors of every product carry the seed, so no key (not even one holding a constant
    /// below) makes a product zero whatever the seed.
    @inlinable
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let wordSeed = seed ^ 0xe703_7ed1_a0b4_28db
        var state = mix(seed ^ 0xa076_1d64_78bd_642f, 0x8ebc_6af0_9c88_c6e3)
        let count = bytes.count
        var first: UInt64 = 0
        var second: UInt64 = 0
        if count <= 16 {
            if count >= 4 {
                let middle = (count >> 3) << 2  // 0 below 8 bytes, 4 from 8 on
                first = UInt64(load32(bytes, 0)) << 32 | UInt64(load32(bytes, middle))
                second = UInt64(load32(bytes, count - 4)) << 32 | UInt64(load32(bytes, count - 4 - middle))
            } else if count > 0 {
                first = UInt64(bytes[0]) << 16 | UInt64(bytes[count >> 1]) << 8 | UInt64(bytes[count - 1])
            }
        } else {
            var offset = 0
            while count - offset > 16 {
                state = mix(load64(bytes, offset) ^ wordSeed, load64(bytes, offset + 8) ^ state)
                offset += 16
            }
            first = load64(bytes, count - 16)
            second = load64(bytes, count - 8)
        }
        return mix(wordSeed ^ UInt64(count), mix(first ^ wordSeed, second ^ state))
    }

    @inlinable
    static func load32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
    }

    @inlinable
    static func load64(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
    }

    /// `a × b` to 128 bits, the halves xor-ed.
    @inlinable
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }
}

/// The secret every `ByteStringKey` hash is keyed with: random per process (`Hasher` is seeded
/// at random when the process starts).
@usableFromInline
let byteStringKeySecret: UInt64 = {
    var hasher = Hasher()
    hasher.combine(0x5379_6d70_686f_6e79 as UInt64)
    return UInt64(truncatingIfNeeded: hasher.finalize())
}()
