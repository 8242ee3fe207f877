import SymphonyHashing
import SymphonyJSON

/// Values by word (a token or a stem), looked up once per token of every text recognized.
///
/// ASCII words are keyed by their bytes, with a fast seeded hash (`ByteStringKey`); other words
/// by their text, so canonically equivalent spellings (`é` as one scalar or as `e` and a
/// combining accent) stay one word. Splitting by ASCII loses no match: a string of word
/// characters that is canonically equivalent to an ASCII one would have to hold U+212A KELVIN
/// SIGN, and tokens are lowercased (`K` becomes `k`) before they are looked up or indexed.
struct WordTable<Value: Sendable>: Sendable {
    private var ascii: [ByteStringKey: Value] = [:]
    private var other: [String: Value] = [:]

    /// True when no word has a value.
    var isEmpty: Bool { ascii.isEmpty && other.isEmpty }

    /// The value of `word`, or nil.
    subscript(word: String) -> Value? {
        Self.isASCII(word) ? ascii[ByteStringKey(word)] : other[word]
    }

    /// Calls `body` on the value of `word`, starting from `defaultValue` when it has none.
    mutating func modify(_ word: String, default defaultValue: @autoclosure () -> Value, _ body: (inout Value) -> Void) {
        if Self.isASCII(word) {
            body(&ascii[ByteStringKey(word), default: defaultValue()])
        } else {
            body(&other[word, default: defaultValue()])
        }
    }

    private static func isASCII(_ word: String) -> Bool {
        word.utf8.withContiguousStorageIfAvailable(ByteScan.isASCII) ?? word.utf8.allSatisfy { $0 < 0x80 }
    }
}
