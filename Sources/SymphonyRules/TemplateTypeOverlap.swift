import SymphonyEvents

/// Whether a templated event type can render to a type that a pattern matches.
///
/// A placeholder may render to any text, dots included (`{{ type }}` renders a whole dotted
/// type), so the template is read as a pattern over characters — its text as is, each
/// placeholder as "any text" — and the answer is whether some string fits both it and the type
/// pattern (`*` one segment, `**` zero or more). Both become small automata over characters and
/// their product is searched; a string that fits both exists exactly when an accepting pair is
/// reachable. The answer errs only towards "can": a placeholder's actual values are unknown, and
/// a search that would visit more than `searchLimit` pairs (only hostile rule files come near)
/// answers "can" instead of going on.
enum TemplateTypeOverlap {
    /// The most state pairs one answer visits.
    static let searchLimit = 20_000

    /// True when `template` can render to a type that `pattern` matches.
    static func canRender(_ template: Template, toMatch pattern: TypePattern) -> Bool {
        // Its text alone longer than a type may be: every rendering is invalid, and matches nothing.
        var textBytes = 0
        for case .text(let text) in template.parts { textBytes += text.utf8.count }
        guard textBytes <= 256 else { return false }
        // A type T matches the pattern exactly when "." + T fits the automaton below, in which each
        // segment brings its own leading dot; so the template's rendering gets a leading dot too.
        var patternAutomaton = Automaton()
        for segment in pattern.segments {
            switch segment {
            case .literal(let name):
                patternAutomaton.append(.character("."))
                for character in name { patternAutomaton.append(.character(character)) }
            case .anyOne:
                patternAutomaton.append(.character("."))
                patternAutomaton.appendOneOrMore(.notDot)
            case .anyMany:
                patternAutomaton.appendSegmentsLoop()
            }
        }
        var templateAutomaton = Automaton()
        templateAutomaton.append(.character("."))
        var afterPlaceholder = false
        for part in template.parts {
            switch part {
            case .text(let text):
                for character in text { templateAutomaton.append(.character(character)) }
                afterPlaceholder = false
            case .placeholder:
                if !afterPlaceholder { templateAutomaton.appendZeroOrMore(.any) }  // "any text" twice is "any text"
                afterPlaceholder = true
            }
        }
        return patternAutomaton.intersects(templateAutomaton, visitingAtMost: searchLimit)
    }

    /// What one transition reads.
    enum Symbol {
        case character(Character)
        /// Any character but a dot.
        case notDot
        /// Any character.
        case any

        /// True when some character is read by both.
        func overlaps(_ other: Symbol) -> Bool {
            switch (self, other) {
            case (.character(let a), .character(let b)): a == b
            case (.character(let c), .notDot), (.notDot, .character(let c)): c != "."
            default: true
            }
        }
    }

    /// A nondeterministic automaton built left to right; `accept` is the state the next piece starts from.
    struct Automaton {
        private(set) var moves: [[(symbol: Symbol, to: Int)]] = [[]]
        private(set) var epsilons: [[Int]] = [[]]
        private(set) var accept = 0

        private mutating func newState() -> Int {
            moves.append([])
            epsilons.append([])
            return moves.count - 1
        }

        /// Reads one `symbol`.
        mutating func append(_ symbol: Symbol) {
            let next = newState()
            moves[accept].append((symbol, next))
            accept = next
        }

        /// Reads one or more of `symbol`.
        mutating func appendOneOrMore(_ symbol: Symbol) {
            append(symbol)
            moves[accept].append((symbol, accept))
        }

        /// Reads zero or more of `symbol` (in a state of its own, so loops never merge).
        mutating func appendZeroOrMore(_ symbol: Symbol) {
            let loop = newState()
            epsilons[accept].append(loop)
            moves[loop].append((symbol, loop))
            accept = loop
        }

        /// Reads zero or more segments, each a dot and one or more other characters: `(\.[^.]+)*`.
        mutating func appendSegmentsLoop() {
            let head = newState()
            epsilons[accept].append(head)
            accept = head
            append(.character("."))
            appendOneOrMore(.notDot)
            epsilons[accept].append(head)
            accept = head
        }

        /// For each state, the states reachable from it without reading anything (itself included).
        func closures() -> [[Int]] {
            moves.indices.map { start in
                var seen: Set<Int> = [start]
                var stack = [start]
                while let state = stack.popLast() {
                    for next in epsilons[state] where seen.insert(next).inserted { stack.append(next) }
                }
                return Array(seen)
            }
        }

        /// True when some string takes both automata from their start to their accepting state
        /// (also when more than `limit` state pairs would have to be visited to tell).
        func intersects(_ other: Automaton, visitingAtMost limit: Int) -> Bool {
            struct Pair: Hashable {
                let mine: Int
                let theirs: Int
            }
            let myClosures = closures()
            let theirClosures = other.closures()
            var seen: Set<Pair> = []
            var stack: [Pair] = []
            func visit(_ mine: Int, _ theirs: Int) {
                for a in myClosures[mine] {
                    for b in theirClosures[theirs] where seen.insert(Pair(mine: a, theirs: b)).inserted {
                        stack.append(Pair(mine: a, theirs: b))
                    }
                }
            }
            visit(0, 0)
            while let pair = stack.popLast() {
                if seen.count > limit { return true }
                if pair.mine == accept && pair.theirs == other.accept { return true }
                for move in moves[pair.mine] {
                    for otherMove in other.moves[pair.theirs] where move.symbol.overlaps(otherMove.symbol) {
                        visit(move.to, otherMove.to)
                    }
                }
            }
            return false
        }
    }
}
