/// Splits text into lowercase word tokens for keyword matching.
///
/// A token is a run of letters, digits, combining marks and `_` (Unicode properties, so `é`, `ß`,
/// `ж` and `٣` are word characters). Each ideograph, hiragana or katakana character is a token of
/// its own, since those scripts do not separate words with spaces. Everything else separates
/// tokens. Tokens are lowercased with Unicode's full lowercase mapping; accents are kept, so
/// `café` matches `CAFÉ` but not `cafe`. Greek final sigma `ς` is then folded to `σ`, so
/// `ΟΔΟΣ`, `οδοσ` and `οδος` are one word (lowercasing alone cannot tell a word-final `Σ`).
public enum TextTokenizer {
    /// The tokens of `text`, in order.
    public static func tokens(_ text: String) -> [String] {
        asciiTokens(text) ?? scalarTokens(text)
    }

    /// `tokens(text)` for any text, scalar by scalar.
    static func scalarTokens(_ text: String) -> [String] {
        var tokens: [String] = []
        tokens.reserveCapacity(16)
        var current = String.UnicodeScalarView()
        var currentIsASCII = true
        func flush() {
            guard !current.isEmpty else { return }
            let token = String(current)
            tokens.append(currentIsASCII ? token : foldingFinalSigma(token.lowercased()))
            current = String.UnicodeScalarView()
            currentIsASCII = true
        }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                let byte = UInt8(value)
                if isASCIIWord(byte) { current.append(Unicode.Scalar(lowercased(byte))) } else { flush() }
                continue
            }
            switch kind(of: scalar) {
            case .single:
                flush()
                current.append(scalar)
                currentIsASCII = false
                flush()
            case .word:
                current.append(scalar)
                currentIsASCII = false
            case .separator:
                flush()
            }
        }
        flush()
        return tokens
    }

    /// `tokens(text)` for text that is all ASCII, read byte by byte (no scalar-by-scalar string
    /// building); nil when a byte is not ASCII.
    private static func asciiTokens(_ text: String) -> [String]? {
        var text = text
        return text.withUTF8 { bytes -> [String]? in
            asciiWords(in: bytes)?.map { range in
                let word = UnsafeBufferPointer(rebasing: bytes[range])
                guard word.contains(where: isASCIIUppercase) else { return String(decoding: word, as: UTF8.self) }
                return String(unsafeUninitializedCapacity: word.count) { lowered in
                    for (offset, byte) in word.enumerated() { lowered[offset] = lowercased(byte) }
                    return word.count
                }
            }
        }
    }

    /// Where the words of ASCII `bytes` are (runs of `isASCIIWord` bytes); nil as soon as a byte is not ASCII.
    private static func asciiWords(in bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>]? {
        var words: [Range<Int>] = []
        words.reserveCapacity(16)
        var start = -1  // where the current word starts, or -1
        for index in bytes.indices {
            let byte = bytes[index]
            if byte >= 0x80 { return nil }
            if isASCIIWord(byte) {
                if start < 0 { start = index }
            } else {
                if start >= 0 { words.append(start..<index) }
                start = -1
            }
        }
        if start >= 0 { words.append(start..<bytes.count) }
        return words
    }

    /// `token` with each `ς` (U+03C2, final sigma) replaced by `σ` (U+03C3).
    static func foldingFinalSigma(_ token: String) -> String {
        guard token.unicodeScalars.contains("\u{03C2}") else { return token }
        return String(String.UnicodeScalarView(token.unicodeScalars.map { $0 == "\u{03C2}" ? "\u{03C3}" : $0 }))
    }

    /// Where each token of `tokens(text)` is in `text`, in order: the text as written, for evidence.
    public static func spans(_ text: String) -> [Range<String.Index>] {
        asciiSpans(text) ?? scalarSpans(text)
    }

    /// `spans(text)` for text that is all ASCII, read byte by byte; nil when a byte is not ASCII.
    private static func asciiSpans(_ text: String) -> [Range<String.Index>]? {
        var copy = text
        guard let words = copy.withUTF8({ asciiWords(in: $0) }) else { return nil }
        // In ASCII text every byte is a scalar, so byte offsets are scalar boundaries.
        let utf8 = text.utf8
        return words.map {
            utf8.index(utf8.startIndex, offsetBy: $0.lowerBound)..<utf8.index(utf8.startIndex, offsetBy: $0.upperBound)
        }
    }

    /// `spans(text)` for any text, scalar by scalar.
    static func scalarSpans(_ text: String) -> [Range<String.Index>] {
        var spans: [Range<String.Index>] = []
        let scalars = text.unicodeScalars
        var start: String.Index?
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let next = scalars.index(after: index)
            switch kind(of: scalars[index]) {
            case .word:
                if start == nil { start = index }
            case .single:
                if let open = start { spans.append(open..<index) }
                start = nil
                spans.append(index..<next)
            case .separator:
                if let open = start { spans.append(open..<index) }
                start = nil
            }
            index = next
        }
        if let open = start { spans.append(open..<scalars.endIndex) }
        return spans
    }

    private enum Kind {
        /// Part of a word.
        case word
        /// A token by itself (ideographs, kana).
        case single
        /// Between tokens.
        case separator
    }

    private static func kind(of scalar: Unicode.Scalar) -> Kind {
        let value = scalar.value
        if value < 0x80 { return isASCIIWord(UInt8(value)) ? .word : .separator }
        let properties = scalar.properties
        if properties.isIdeographic || isKana(value) { return .single }
        if properties.isAlphabetic || isWordCategory(properties.generalCategory) { return .word }
        return .separator
    }

    /// Whether an ASCII character is part of a word: `A-Z`, `a-z`, `0-9` and `_`.
    private static func isASCIIWord(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x5F: true
        default: false
        }
    }

    private static func isASCIIUppercase(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) }

    /// An ASCII character, lowercased.
    private static func lowercased(_ byte: UInt8) -> UInt8 { isASCIIUppercase(byte) ? byte + 0x20 : byte }

    private static func isKana(_ value: UInt32) -> Bool {
        (0x3040...0x30FF).contains(value) || (0x31F0...0x31FF).contains(value) || (0xFF66...0xFF9D).contains(value)
    }

    private static func isWordCategory(_ category: Unicode.GeneralCategory) -> Bool {
        switch category {
        case .decimalNumber, .letterNumber, .otherNumber, .nonspacingMark, .spacingMark, .enclosingMark, .connectorPunctuation:
            true
        default:
            false
        }
    }
}
