import SymphonyDiagnostics
import SymphonyRegex

/// Recognizes intents in free text by PCRE2 patterns and keyword scoring (see docs/intents.md).
///
/// Keywords are not searched one by one: the text is tokenized once and each token is looked up
/// in one index of every keyword, `require` and `exclude` entry of every intent, so their cost
/// does not grow with the number of intents. Patterns run once each per text. The recognizer is
/// immutable and safe to use from many threads at once.
public final class IntentRecognizer: Sendable {
    private enum Role: Sendable {
        case keyword(Int)
        case require(Int)
        case exclude(Int)
    }

    private struct IndexEntry: Sendable {
        let intent: Int
        let role: Role
        let tokens: [String]
    }

    private struct CompiledIntent: Sendable {
        let definition: IntentDefinition
        let patterns: [RegularExpression]
    }

    /// The intents, in definition order.
    public var definitions: [IntentDefinition] { intents.map(\.definition) }

    private let intents: [CompiledIntent]
    private let index: [String: [IndexEntry]]

    /// Compiles every pattern and indexes every keyword; reports each pattern that does not compile, with its location.
    public init(_ definitions: [IntentDefinition], limits: MatchLimits = .default) throws(DiagnosticsError) {
        var diagnostics = Diagnostics()
        var compiled: [CompiledIntent] = []
        var index: [String: [IndexEntry]] = [:]
        for (intentIndex, definition) in definitions.enumerated() {
            var patterns: [RegularExpression] = []
            for pattern in definition.patterns {
                do {
                    patterns.append(
                        try RegularExpression(
                            pattern.regex, options: definition.caseSensitive ? [] : [.caseInsensitive], limits: limits))
                } catch {
                    diagnostics.error(
                        at: pattern.location?.advanced(byColumns: error.offset ?? 0),
                        "invalid regex in intent '\(definition.name)': \(error.message)"
                            + (error.offset.map { " (at offset \($0))" } ?? ""))
                }
            }
            compiled.append(CompiledIntent(definition: definition, patterns: patterns))
            func add(_ text: String, _ role: Role) {
                let tokens = TextTokenizer.tokens(text)
                guard let first = tokens.first else { return }
                index[first, default: []].append(IndexEntry(intent: intentIndex, role: role, tokens: tokens))
            }
            for (keywordIndex, keyword) in definition.keywords.enumerated() { add(keyword.text, .keyword(keywordIndex)) }
            for (requireIndex, text) in definition.require.enumerated() { add(text, .require(requireIndex)) }
            for (excludeIndex, text) in definition.exclude.enumerated() { add(text, .exclude(excludeIndex)) }
        }
        if diagnostics.hasErrors { throw DiagnosticsError(diagnostics) }
        intents = compiled
        self.index = index
    }

    /// The intents recognized in `text`, best first.
    public func recognize(_ text: String) -> Recognition {
        let (scores, problems) = score(text, includeAll: false)
        return Recognition(intents: scores.filter(\.isRecognized), problems: problems)
    }

    /// Every intent's score for `text`, recognized or not, best first: the breakdown `--explain` shows.
    public func explain(_ text: String) -> (scores: [IntentScore], problems: [RecognitionProblem]) {
        score(text, includeAll: true)
    }

    private func score(_ text: String, includeAll: Bool) -> ([IntentScore], [RecognitionProblem]) {
        // Keywords, required and excluded entries: one pass over the tokens.
        let tokens = TextTokenizer.tokens(text)
        var hits: [(intent: Int, role: Role)] = []
        for position in tokens.indices {
            guard let entries = index[tokens[position]] else { continue }
            for entry in entries where Self.tokens(tokens, at: position, startWith: entry.tokens) {
                hits.append((entry.intent, entry.role))
            }
        }

        hits.sort { $0.intent < $1.intent }
        var cursor = 0

        var scores: [IntentScore] = []
        var problems: [RecognitionProblem] = []
        for (intentIndex, intent) in intents.enumerated() {
            let hitsStart = cursor
            while cursor < hits.count && hits[cursor].intent == intentIndex { cursor += 1 }
            let intentHits = hits[hitsStart..<cursor]
            let definition = intent.definition
            var evidence: [Evidence] = []
            var total = 0
            var slots: [String: String] = [:]
            for (patternIndex, regex) in intent.patterns.enumerated() {
                do {
                    guard let match = try regex.firstMatch(in: text) else { continue }
                    let pattern = definition.patterns[patternIndex]
                    evidence.append(Evidence(kind: .pattern, source: pattern.regex, weight: pattern.weight, matched: match.text))
                    total += pattern.weight
                    for (name, value) in match.namedGroups where slots[name] == nil { slots[name] = value }
                } catch {
                    problems.append(RecognitionProblem(intent: definition.name, pattern: regex.pattern, error: error))
                }
            }
            let touched = !evidence.isEmpty || !intentHits.isEmpty
            guard touched || includeAll || (definition.threshold == 0 && definition.require.isEmpty) else { continue }
            var keywordFired = [Bool](repeating: false, count: definition.keywords.count)
            var requireSeen = [Bool](repeating: false, count: definition.require.count)
            var excludeSeen = [Bool](repeating: false, count: definition.exclude.count)
            for hit in intentHits {
                switch hit.role {
                case .keyword(let index): keywordFired[index] = true
                case .require(let index): requireSeen[index] = true
                case .exclude(let index): excludeSeen[index] = true
                }
            }
            for (index, keyword) in definition.keywords.enumerated() where keywordFired[index] {
                evidence.append(Evidence(kind: .keyword, source: keyword.text, weight: keyword.weight, matched: keyword.text))
                total += keyword.weight
            }
            scores.append(
                IntentScore(
                    name: definition.name, score: min(1000, total), threshold: definition.threshold, slots: slots,
                    evidence: evidence,
                    missingRequired: definition.require.enumerated().filter { !requireSeen[$0.offset] }.map(\.element),
                    presentExcluded: definition.exclude.enumerated().filter { excludeSeen[$0.offset] }.map(\.element)))
        }
        scores.sort { $0.score != $1.score ? $0.score > $1.score : $0.name < $1.name }
        return (scores, problems)
    }

    private static func tokens(_ tokens: [String], at position: Int, startWith phrase: [String]) -> Bool {
        guard position + phrase.count <= tokens.count else { return false }
        for offset in 1..<max(1, phrase.count) where tokens[position + offset] != phrase[offset] { return false }
        return true
    }
}
