/// Finds which of many ASCII literals occur in a text, in one pass (an Aho–Corasick automaton).
///
/// Matching ignores ASCII case. Because caseless regex matching also pairs a few non-ASCII
/// characters with ASCII letters (KELVIN SIGN with `k`, LONG S with `s`, dotted and dotless I with
/// `i`), a text containing any of them is reported as "cannot tell" (nil), and callers fall back
/// to running every pattern.
public struct LiteralScanner: Sendable {
    /// The literals, lowercased, in the order given.
    public let literals: [String]
    /// Byte → character class: each distinct byte of the literals gets a class, every other byte class 0.
    /// Keeping the table as narrow as the literals' alphabet keeps it in cache.
    private let classes: [UInt8]
    private let alphabet: Int
    private let transitions: [Int32]
    /// The literals ending at each state: `outputIDs[outputStarts[state]..<outputStarts[state + 1]]`
    /// (one flat list, so the scan reads no nested array per byte).
    private let outputStarts: [Int32]
    private let outputIDs: [Int32]

    /// An automaton for `literals` (ASCII; other characters are dropped from the literal).
    public init(_ literals: [String]) {
        self.literals = literals.map { $0.lowercased() }
        var classes = [UInt8](repeating: 0, count: 128)
        var alphabet = 1
        for literal in self.literals {
            for byte in literal.utf8 where byte < 0x80 && classes[Int(byte)] == 0 {
                classes[Int(byte)] = UInt8(alphabet)
                if byte >= 0x61 && byte <= 0x7A { classes[Int(byte) - 0x20] = UInt8(alphabet) }  // A-Z share a-z's class
                alphabet += 1
            }
        }
        self.classes = classes
        self.alphabet = alphabet
        var transitions = [Int32](repeating: -1, count: alphabet)
        var outputs: [[Int32]] = [[]]
        for (id, literal) in self.literals.enumerated() {
            var state = 0
            for byte in literal.utf8 where byte < 0x80 {
                let slot = state * alphabet + Int(classes[Int(byte)])
                if transitions[slot] < 0 {
                    transitions[slot] = Int32(outputs.count)
                    outputs.append([])
                    transitions += [Int32](repeating: -1, count: alphabet)
                }
                state = Int(transitions[slot])
            }
            outputs[state].append(Int32(id))
        }
        // Breadth-first: failure links, and missing transitions filled in from them.
        var failure = [Int](repeating: 0, count: outputs.count)
        var queue: [Int] = []
        for symbol in 0..<alphabet {
            let next = transitions[symbol]
            if next < 0 {
                transitions[symbol] = 0
            } else {
                queue.append(Int(next))
            }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            outputs[state] += outputs[failure[state]]
            for symbol in 0..<alphabet {
                let slot = state * alphabet + symbol
                let next = transitions[slot]
                if next < 0 {
                    transitions[slot] = transitions[failure[state] * alphabet + symbol]
                } else {
                    failure[Int(next)] = Int(transitions[failure[state] * alphabet + symbol])
                    queue.append(Int(next))
                }
            }
        }
        self.transitions = transitions
        var outputStarts: [Int32] = [0]
        for ids in outputs { outputStarts.append(outputStarts[outputStarts.count - 1] + Int32(ids.count)) }
        self.outputStarts = outputStarts
        outputIDs = outputs.flatMap { $0 }
    }

    /// The ids of the literals found in `text` (possibly repeated), or nil when the text holds a
    /// non-ASCII character that caseless matching pairs with an ASCII letter.
    public func literalIDs(in text: String) -> [Int]? {
        var found: [Int] = []
        var text = text
        let alphabet = alphabet
        let complete = text.withUTF8 { bytes -> Bool in
            classes.withUnsafeBufferPointer { classes in
                transitions.withUnsafeBufferPointer { transitions in
                    outputStarts.withUnsafeBufferPointer { outputStarts in
                        var state = 0
                        var index = 0
                        while index < bytes.count {
                            let byte = bytes[index]
                            index += 1
                            if byte >= 0x80 {
                                if Self.isASCIICaseMate(bytes, at: index - 1) { return false }
                                state = 0
                                continue
                            }
                            state = Int(transitions[state &* alphabet &+ Int(classes[Int(byte)])])
                            for output in Int(outputStarts[state])..<Int(outputStarts[state + 1]) { found.append(Int(outputIDs[output])) }
                        }
                        return true
                    }
                }
            }
        }
        return complete ? found : nil
    }

    /// True at U+212A KELVIN SIGN, U+017F LATIN SMALL LETTER LONG S, U+0130 and U+0131 (dotted and dotless I).
    private static func isASCIICaseMate(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        let byte = bytes[index]
        if byte == 0xC5, index + 1 < bytes.count, bytes[index + 1] == 0xBF { return true }
        if byte == 0xC4, index + 1 < bytes.count, bytes[index + 1] == 0xB0 || bytes[index + 1] == 0xB1 { return true }
        if byte == 0xE2, index + 2 < bytes.count, bytes[index + 1] == 0x84, bytes[index + 2] == 0xAA { return true }
        return false
    }
}
