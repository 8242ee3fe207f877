/// A short text on which a pattern backtracks catastrophically: PCRE2 gives up at the match limit.
///
/// `find(for:)` builds candidate texts from the pattern's shape (`RegexShape`), in the manner of
/// ReDoS checkers such as rxxr, regexploit and recheck: for each repetition, a prefix that reaches
/// it, the repeated part ("pump") many times, then a character that makes the match fail, with and
/// without what the pattern expects after the repetition. Each candidate is then matched by PCRE2
/// itself, JIT and optimizations included, under the pattern's own limits, exactly as at run time.
/// Only a candidate that hits a limit is reported, so a pattern PCRE2 handles well (its
/// auto-possessification makes `(?:\S+ )*` linear, for instance) is never flagged; a slow pattern
/// whose shape the candidates miss goes unreported.
public struct BacktrackingAttack: Sendable, Hashable {
    /// The text that exceeded a limit.
    public let text: String
    /// The repetition, as written, whose pumping produced the text; nil for the generic candidates.
    public let repetition: String?

    /// How many times a pump is repeated; with the default limits exponential shapes fail far below this.
    static let pumpedLength = 48
    /// An upper bound on the candidates tried for one pattern, so checking stays fast.
    static let maximumCandidates = 1_500

    /// Characters tried as samples of an atom (the first one the atom matches is its example).
    private static let pool: [String] = [
        "a", "x", "A", "Z", "0", "1", " ", "-", "_", ".", "/", ":", "@", "=", ",", ";", "'", "\"", "[", "]", "(", ")", "\t", "é", "!",
    ]
    /// Texts appended after the pump to make the match fail (each also followed by what the pattern expects next).
    private static let breakers = ["!", "\u{1}", "\n"]

    /// A text on which `regex` exceeds its match limits, or nil when none of the candidates does.
    public static func find(for regex: RegularExpression) -> BacktrackingAttack? {
        var search = Search(regex: regex)
        if let shape = RegexShape.parse(regex.pattern) {
            search.walk(shape, prefix: "", suffix: "")
        } else {
            for pump in ["a", "1", " ", "a ", "a1", "-", "a."] where search.result == nil {
                search.tryPump(pump, prefix: "", suffix: "", repetition: nil)
            }
        }
        return search.result
    }

    private struct Search {
        let regex: RegularExpression
        var samples: [String: [String]] = [:]
        var tried = 0
        var seen = Set<String>()
        var result: BacktrackingAttack?

        init(regex: RegularExpression) { self.regex = regex }

        /// Characters `atom` matches, from the pool and then from the atom's own text (`[iI]` matches
        /// none of the pool); a plain literal character matches itself.
        mutating func samples(of atom: String) -> [String] {
            if let known = samples[atom] { return known }
            var found: [String] = []
            let scalars = Array(atom.unicodeScalars)
            if scalars.count == 1 && scalars[0] != "." {
                found = [atom]
            } else if scalars.count == 2 && scalars[0] == "\\" && !scalars[1].properties.isAlphabetic && !("0"..."9").contains(scalars[1]) {
                found = [String(scalars[1])]
            } else if let compiled = try? RegularExpression("^(?:" + atom + ")\\z", options: regex.options) {
                var candidates = BacktrackingAttack.pool
                for scalar in scalars where !candidates.contains(String(scalar)) { candidates.append(String(scalar)) }
                found = candidates.filter { (try? compiled.matches($0)) == true }
            }
            samples[atom] = found
            return found
        }

        mutating func example(_ shape: RegexShape, full: Bool) -> String {
            switch shape {
            case .empty: return ""
            case .atom(let source): return samples(of: source).first ?? ""
            case .sequence(let parts): return parts.map { example($0, full: full) }.joined()
            case .alternation(let branches):
                return branches.isEmpty ? "" : example(branches[0], full: full)
            case .repetition(let body, let minimum, _, _, _):
                let copies = min(full ? max(minimum, 1) : minimum, 16)
                return copies == 0 ? "" : String(repeating: example(body, full: full), count: copies)
            }
        }

        /// Every atom's first samples in `shape`, in order.
        mutating func atomSamples(_ shape: RegexShape, into found: inout [String]) {
            switch shape {
            case .empty: break
            case .atom(let source): found += samples(of: source).prefix(2)
            case .sequence(let parts), .alternation(let parts): for part in parts { atomSamples(part, into: &found) }
            case .repetition(let body, _, _, _, _): atomSamples(body, into: &found)
            }
        }

        mutating func walk(_ shape: RegexShape, prefix: String, suffix: String) {
            guard result == nil else { return }
            switch shape {
            case .empty, .atom: break
            case .sequence(let parts):
                let examples = parts.map { example($0, full: false) }
                for (position, part) in parts.enumerated() {
                    walk(part, prefix: prefix + examples[..<position].joined(), suffix: examples[(position + 1)...].joined() + suffix)
                }
            case .alternation(let branches):
                for branch in branches { walk(branch, prefix: prefix, suffix: suffix) }
            case .repetition(let body, _, let maximum, let possessive, let source):
                if !possessive && (maximum ?? 2) > 1 {
                    var pumps = [example(body, full: false), example(body, full: true)]
                    atomSamples(body, into: &pumps)
                    var unique = Set<String>()
                    for pump in pumps where !pump.isEmpty && unique.insert(pump).inserted && unique.count <= 8 {
                        tryPump(pump, prefix: prefix, suffix: suffix, repetition: source)
                    }
                }
                walk(body, prefix: prefix, suffix: suffix)
            }
        }

        mutating func tryPump(_ pump: String, prefix: String, suffix: String, repetition: String?) {
            let copies = max(8, BacktrackingAttack.pumpedLength / max(pump.unicodeScalars.count, 1))
            let pumped = prefix + String(repeating: pump, count: copies)
            for breaker in BacktrackingAttack.breakers {
                for tail in [breaker, breaker + suffix, suffix + breaker] {
                    guard result == nil, tried < BacktrackingAttack.maximumCandidates else { return }
                    let text = pumped + tail
                    guard seen.insert(text).inserted else { continue }
                    tried += 1
                    do {
                        _ = try regex.matches(text)
                    } catch {
                        if error.isResourceLimit { result = BacktrackingAttack(text: text, repetition: repetition) }
                    }
                }
            }
        }
    }
}
