import SymphonyHashing
import Testing

/// Dictionary keys compared and hashed by their UTF-8 bytes.
@Suite struct ByteStringKeyTests {
    /// Keys of every length the hash reads differently: empty, 1–3, 4–7, 8–16 and longer bytes.
    static let keys: [String] = (0...40).flatMap { (length: Int) -> [String] in
        let repeated = String(repeating: "a", count: length)
        let alphabet = String(String.UnicodeScalarView((0..<length).map { Unicode.Scalar(UInt8(97 + $0 % 26)) }))
        let accented = String(repeating: "é", count: length / 2) + String(repeating: "z", count: length % 2)
        return [repeated, alphabet, accented]
    }

    @Test("keys are equal exactly when their bytes are, and equal keys hash alike under every seed")
    func equalityIsByteEquality() {
        for left in Self.keys {
            for right in Self.keys {
                #expect((ByteStringKey(left) == ByteStringKey(right)) == Array(left.utf8).elementsEqual(right.utf8))
            }
            // A copy made another way (a different buffer, or a substring's) is the same key.
            let copy = String(decoding: Array(left.utf8), as: UTF8.self)
            for seed in [0, 1, -1, 0x5eed, Int.max] {
                #expect(ByteStringKey(left)._rawHashValue(seed: seed) == ByteStringKey(copy)._rawHashValue(seed: seed))
            }
        }
        // Canonically equivalent spellings are equal strings but different keys.
        #expect("caf\u{E9}" == "cafe\u{301}")
        #expect(ByteStringKey("caf\u{E9}") != ByteStringKey("cafe\u{301}"))
    }

    @Test("every byte of a key, at every length, changes its hash; the seed changes every hash")
    func everyByteCounts() {
        for length in 1...40 {
            let base = [UInt8](repeating: 0x61, count: length)
            let hash = ByteStringKey(String(decoding: base, as: UTF8.self))._rawHashValue(seed: 42)
            for position in 0..<length {
                var changed = base
                changed[position] = 0x62
                #expect(ByteStringKey(String(decoding: changed, as: UTF8.self))._rawHashValue(seed: 42) != hash, "length \(length), byte \(position)")
            }
            // A key one byte longer (a trailing NUL read as padding) is another hash.
            #expect(ByteStringKey(String(decoding: base + [0], as: UTF8.self))._rawHashValue(seed: 42) != hash)
            #expect(ByteStringKey(String(decoding: base, as: UTF8.self))._rawHashValue(seed: 43) != hash)
        }
    }

    @Test("as dictionary keys: every one of 20,000 words is found, with its value, and no other")
    func dictionary() {
        let words = (0..<20_000).map { "w\($0 * 7919 % 100_003)" + String(repeating: "x", count: $0 % 19) }
        var table: [ByteStringKey: Int] = [:]
        for (index, word) in words.enumerated() { table[ByteStringKey(word)] = index }
        #expect(table.count == words.count)
        for (index, word) in words.enumerated() { #expect(table[ByteStringKey(word)] == index) }
        #expect(table[ByteStringKey("w")] == nil)
        #expect(table[ByteStringKey("")] == nil)
        // Low bits (the buckets a dictionary uses) spread: no 4,096th of the range gets more than
        // a few times its share of 20,000 keys.
        var buckets = [Int](repeating: 0, count: 4_096)
        for word in words { buckets[ByteStringKey(word)._rawHashValue(seed: 7) & 4_095] += 1 }
        #expect(buckets.max()! <= 20)
    }
}
