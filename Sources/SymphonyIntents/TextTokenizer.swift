/// Splits text into lowercase word tokens for keyword matching.
///
/// A token is a run of letters, digits, combining marks and `_` (Unicode properties, so `é`, `ß`,
/// `ж` and `٣` are word characters). Each ideograph, hiragana or katakana character is a token of
/// its own, since those scripts do not separate words with spaces. Everything else separates
/// tokens. Tokens are lowercased with Unicode's full lowercase mapping; accents are kept, so
/// `café` matches `CAFÉ` but not `cafe`.
public enum TextTokenizer {
    /// The tokens of `text`, in order.
    public static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        tokens.reserveCapacity(16)
        var current = String.UnicodeScalarView()
        var currentIsASCII = true
        func flush() {
            guard !current.isEmpty else { return }
            let token = String(current)
            tokens.append(currentIsASCII ? token : token.lowercased())
            current = String.UnicodeScalarView()
            currentIsASCII = true
        }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                switch value {
                case 0x41...0x5A:  // A-Z
                    current.append(Unicode.Scalar(value + 0x20)!)
                case 0x61...0x7A, 0x30...0x39, 0x5F:  // a-z 0-9 _
                    current.append(scalar)
                default:
                    flush()
                }
                continue
            }
            let properties = scalar.properties
            if properties.isIdeographic || isKana(value) {
                flush()
                current.append(scalar)
                currentIsASCII = false
                flush()
            } else if properties.isAlphabetic || isWordCategory(properties.generalCategory) {
                current.append(scalar)
                currentIsASCII = false
            } else {
                flush()
            }
        }
        flush()
        return tokens
    }

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
