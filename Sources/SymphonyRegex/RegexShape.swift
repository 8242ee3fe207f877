/// A pattern's structure, as far as building attack strings needs it: sequences, alternatives,
/// repetitions and single-character atoms (`BacktrackingProbe` uses it).
///
/// It is a sketch, not a second regex engine: assertions, lookarounds, back-references and
/// recursion count as matching the empty string, and `parse` returns nil on syntax it does not
/// know (extended mode among it), in which case the probe falls back to generic attack strings.
/// PCRE2 itself decides whether an attack string is slow, so a sketch that is off only makes the
/// probe miss, never raise a false alarm.
indirect enum RegexShape: Sendable {
    /// Matches only the empty string (an assertion, a back-reference, anything not modelled).
    case empty
    /// One character; `source` is the atom as written (`a`, `\d`, `[^,]`, `.`).
    case atom(source: String)
    /// Parts one after another.
    case sequence([RegexShape])
    /// Alternatives.
    case alternation([RegexShape])
    /// `body` repeated `minimum` to `maximum` (nil: unbounded) times; `source` is the repetition as
    /// written, quantifier included; `possessive` for `*+`, `++`, `?+`, `{…}+`.
    case repetition(RegexShape, minimum: Int, maximum: Int?, possessive: Bool, source: String)

    /// The shape of `pattern`, or nil when it uses syntax the sketch does not model.
    static func parse(_ pattern: String) -> RegexShape? {
        var parser = Parser(scalars: Array(pattern.unicodeScalars))
        guard let shape = parser.alternation(), parser.index == parser.scalars.count else { return nil }
        return shape
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0

        init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

        private func text(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[range])) }

        private func peek(_ offset: Int = 0) -> Unicode.Scalar? { index + offset < scalars.count ? scalars[index + offset] : nil }

        mutating func alternation() -> RegexShape? {
            var branches: [RegexShape] = []
            while true {
                guard let branch = sequence() else { return nil }
                branches.append(branch)
                guard peek() == "|" else { break }
                index += 1
            }
            return branches.count == 1 ? branches[0] : .alternation(branches)
        }

        mutating func sequence() -> RegexShape? {
            var parts: [RegexShape] = []
            while let scalar = peek(), scalar != "|", scalar != ")" {
                let start = index
                guard let atom = self.atom() else { return nil }
                guard let repeated = quantified(atom, from: start) else { return nil }
                parts.append(repeated)
            }
            return parts.count == 1 ? parts[0] : .sequence(parts)
        }

        /// Applies a quantifier after the item that began at `start`, if there is one.
        mutating func quantified(_ item: RegexShape, from start: Int) -> RegexShape? {
            var minimum = 1
            var maximum: Int? = 1
            switch peek() {
            case "*": (minimum, maximum) = (0, nil); index += 1
            case "+": (minimum, maximum) = (1, nil); index += 1
            case "?": (minimum, maximum) = (0, 1); index += 1
            case "{":
                guard let end = RequiredLiteral.quantifierEnd(scalars, at: index) else { return item }
                let parts = text((index + 1)..<end).split(separator: ",", omittingEmptySubsequences: false)
                minimum = Int(parts[0]) ?? 0
                maximum = parts.count == 1 ? minimum : (parts[1].isEmpty ? nil : Int(parts[1]))
                index = end + 1
            default:
                return item
            }
            var possessive = false
            if peek() == "?" {
                index += 1
            } else if peek() == "+" {
                possessive = true
                index += 1
            }
            if let next = peek(), next == "*" || next == "+" || next == "?" { return nil }  // not valid PCRE2 anyway
            return .repetition(item, minimum: minimum, maximum: maximum, possessive: possessive, source: text(start..<index))
        }

        mutating func atom() -> RegexShape? {
            guard let scalar = peek() else { return nil }
            let start = index
            switch scalar {
            case "(":
                return group()
            case "[":
                guard let end = RequiredLiteral.closingBracket(scalars, from: index) else { return nil }
                index = end + 1
                return .atom(source: text(start..<index))
            case "^", "$":
                index += 1
                return .empty
            case "\\":
                return escape()
            case "*", "+", "?":
                return nil
            default:
                index += 1
                return .atom(source: text(start..<index))
            }
        }

        mutating func escape() -> RegexShape? {
            let start = index
            guard let letter = peek(1) else { return nil }
            if letter == "Q" {
                var end = index + 2
                var parts: [RegexShape] = []
                while end < scalars.count, !(scalars[end] == "\\" && end + 1 < scalars.count && scalars[end + 1] == "E") {
                    let character = String(scalars[end])
                    let escaped = character.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) } ? character : "\\" + character
                    parts.append(.atom(source: escaped))
                    end += 1
                }
                index = min(end + 2, scalars.count)
                return .sequence(parts)
            }
            index = RequiredLiteral.endOfEscape(scalars, at: index)
            switch letter {
            case "b", "B", "A", "Z", "z", "G", "K", "E", "g", "k", "1"..."9":
                return .empty
            default:
                return .atom(source: text(start..<index))
            }
        }

        mutating func group() -> RegexShape? {
            index += 1  // "("
            var capturesBody = true
            if peek() == "*" {
                // (*VERB) or (*pla:…): verbs match nothing; the lookaround forms are not modelled.
                guard let close = scalars[index...].firstIndex(of: ")"), !text(index..<close).contains(":") else { return nil }
                index = close + 1
                return .empty
            }
            if peek() == "?" {
                index += 1
                switch peek() {
                case ":", "|", ">":
                    index += 1
                case "=", "!":
                    index += 1
                    capturesBody = false
                case "<" where peek(1) == "=" || peek(1) == "!":
                    index += 2
                    capturesBody = false
                case "<", "'", "P":
                    if peek() == "P" {
                        index += 1
                        guard peek() == "<" else { return nil }  // (?P=name) and (?P>name) are not modelled
                    }
                    let close: Unicode.Scalar = peek() == "'" ? "'" : ">"
                    guard let end = scalars[index...].firstIndex(of: close) else { return nil }
                    index = end + 1
                case "#":
                    guard let close = scalars[index...].firstIndex(of: ")") else { return nil }
                    index = close + 1
                    return .empty
                case "(":
                    // A conditional: skip the condition, then the yes|no branches.
                    guard let close = scalars[index...].firstIndex(of: ")") else { return nil }
                    index = close + 1
                default:
                    // Inline options: (?i) (?-i) (?i:…) (?^…); extended mode is not modelled.
                    let flagsStart = index
                    while let flag = peek(), flag.properties.isAlphabetic || flag == "-" || flag == "^" { index += 1 }
                    let flags = text(flagsStart..<index)
                    if flags.contains("x") || flagsStart == index { return nil }
                    if peek() == ")" {
                        index += 1
                        return .empty
                    }
                    guard peek() == ":" else { return nil }
                    index += 1
                }
            }
            guard let body = alternation(), peek() == ")" else { return nil }
            index += 1
            return capturesBody ? body : .empty
        }
    }
}
