/// Checks over byte buffers that every input line, event name and payload key goes through:
/// eight bytes per step (a word at a time), then the rest byte by byte.
public enum ByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The OR of every byte (its top bit says whether any byte is not ASCII) and whether any byte is 0.
    public static func summary(_ bytes: UnsafeBufferPointer<UInt8>) -> (orBits: UInt8, hasNUL: Bool) {
        guard let base = bytes.baseAddress else { return (0, false) }
        var words: UInt64 = 0
        var zero = false
        var index = 0
        while index + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            words |= word
            if hasZeroByte(word) { zero = true }
            index += 8
        }
        words |= words >> 32
        words |= words >> 16
        words |= words >> 8
        var orBits = UInt8(truncatingIfNeeded: words)
        while index < bytes.count {
            orBits |= base[index]
            if base[index] == 0 { zero = true }
            index += 1
        }
        return (orBits, zero)
    }

    /// True when every byte is below 0x80.
    public static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var words: UInt64 = 0
        var index = 0
        while index + 8 <= bytes.count {
            words |= UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            words |= UInt64(base[index])
            index += 1
        }
        return words & highBits == 0
    }

    /// True when a byte is below 0x20 or is 0x7F: in UTF-8, exactly the control characters
    /// U+0000–U+001F and U+007F (every byte of a longer scalar is 0x80 or above).
    public static func containsControlByte(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var index = 0
        while index + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            // A byte below 0x20 (the borrow a lower one may carry into the next byte only ever adds
            // to a word already found), or a byte equal to 0x7F (zero after the XOR).
            let below = (word &- ones &* 0x20) & ~word & highBits
            if below != 0 || hasZeroByte(word ^ (ones &* 0x7F)) { return true }
            index += 8
        }
        while index < bytes.count {
            if base[index] < 0x20 || base[index] == 0x7F { return true }
            index += 1
        }
        return false
    }

    /// The index of the first byte at or after `start` that ends a JSON string's run of plain
    /// bytes — a quote, a backslash or a byte below 0x20 — or `bytes.count` when there is none.
    public static func firstStringDelimiter(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = bytes.baseAddress else { return start }
        var index = start
        while index + 8 <= bytes.count {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            let quotes = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
            let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
            // A zero byte in `quotes` or `backslashes`, or a byte below 0x20 in `word`. A borrow can
            // flag a byte above a true one, never below it: the lowest flag is a true match.
            let flags = (zeroBytes(quotes) | zeroBytes(backslashes) | (word &- ones &* 0x20) & ~word & highBits)
            if flags != 0 { return index + flags.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < bytes.count {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { return index }
            index += 1
        }
        return index
    }

    /// The high bit of each byte of `word` that is 0 (and possibly of bytes above one that is).
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highBits
    }

    /// True when one of the word's eight bytes is 0.
    private static func hasZeroByte(_ word: UInt64) -> Bool {
        zeroBytes(word) != 0
    }
}
