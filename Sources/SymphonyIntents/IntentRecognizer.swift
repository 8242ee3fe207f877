import SymphonyDiagnostics
import SymphonyRegex
import SymphonyStemming

/// Recognizes intents in free text by PCRE2 patterns and keyword scoring (see docs/reference/intents.md).
///
/// Keywords are not searched one by one: the text is tokenized (and stemmed, once per language)
/// once and each token is looked up in one index of every keyword, `require` and `exclude` entry
/// of every intent (`KeywordIndex`), so their cost does not grow with the number of intents. Patterns are pre-filtered: each pattern's required
/// literals (`RequiredLiteral`), or the alternatives of a group every match passes through, go
/// into one automaton (`LiteralScanner`) that finds, in a single pass, which literals occur; only
/// patterns whose literals (or one of whose alternatives) occur, and patterns without any, run.
/// The recognizer is immutable and safe to use from many threads at once.
public final class IntentRecognizer: Sendable {
    private typealias Role = KeywordIndex.Role
    private typealias Hit = KeywordIndex.Hit

    private final class CompiledIntent: Sendable {
        let definition: IntentDefinition
        let patterns: [RegularExpression]
        init(definition: IntentDefinition, patterns: [RegularExpression]) {
            self.definition = definition
            self.patterns = patterns
        }
    }

    /// The intents, in definition order.
    public var definitions: [IntentDefinition] { intents.map(\.definition) }

    private struct PatternRef: Comparable, Sendable {
        let intent: Int
        let pattern: Int
        static func < (lhs: PatternRef, rhs: PatternRef) -> Bool { (lhs.intent, lhs.pattern) < (rhs.intent, rhs.pattern) }
    }

    private let intents: [CompiledIntent]
    private let keywordIndex: KeywordIndex
    private let scanner: LiteralScanner
    /// A pattern a literal triggers, and the other literals that must also occur for it to run.
    private struct Trigger: Sendable {
        let ref: PatternRef
        let otherLiterals: [Int]
    }

    /// For each literal, the patterns it triggers (the literal is the longest of theirs).
    private let patternsByLiteral: [[Trigger]]
    private let unanchoredPatterns: [PatternRef]
    private let allPatterns: [PatternRef]

    /// Compiles every pattern and indexes every keyword; reports each pattern that does not compile, with its location.
    public init(_ definitions: [IntentDefinition], limits: MatchLimits = .default) throws(DiagnosticsError) {
        var diagnostics = Diagnostics()
        var compiled: [CompiledIntent] = []
        for definition in definitions {
            if definition.stemming, Stemmer(language: definition.language) == nil {
                diagnostics.error(at: definition.location, Self.unknownLanguage(definition.language))
            }
            for text in definition.keywords.map(\.text) + definition.require + definition.exclude {
                if case .lexicon(let name) = KeywordIndex.term(text), definition.lexicons[name] == nil {
                    diagnostics.error(
                        at: definition.location,
                        "intent '\(definition.name)' refers to an unknown lexicon '\(name)'\(NameSuggestion.hint(for: name, in: definition.lexicons.keys))")
                }
            }
            var patterns: [RegularExpression] = []
            for pattern in definition.patterns {
                do {
                    patterns.append(
                        try RegularExpression(
                            pattern.regex, options: definition.caseSensitive ? [] : [.caseInsensitive], limits: limits))
                } catch {
                    let problem = Self.describe(error, in: pattern, intent: definition.name)
                    diagnostics.error(at: problem.location, problem.message)
                }
            }
            compiled.append(CompiledIntent(definition: definition, patterns: patterns))
        }
        if diagnostics.hasErrors { throw DiagnosticsError(diagnostics) }
        intents = compiled
        keywordIndex = KeywordIndex(definitions)

        var literalIDs: [String: Int] = [:]
        var patternsByLiteral: [[Trigger]] = []
        var unanchored: [PatternRef] = []
        var all: [PatternRef] = []
        func literalID(_ literal: String) -> Int {
            if let id = literalIDs[literal] { return id }
            literalIDs[literal] = patternsByLiteral.count
            patternsByLiteral.append([])
            return patternsByLiteral.count - 1
        }
        for (intentIndex, intent) in compiled.enumerated() {
            for (patternIndex, regex) in intent.patterns.enumerated() {
                let ref = PatternRef(intent: intentIndex, pattern: patternIndex)
                all.append(ref)
                let literals = RequiredLiteral.extractAll(from: regex.pattern)
                if let trigger = literals.first {
                    let others = literals.dropFirst().map(literalID)
                    patternsByLiteral[literalID(trigger)].append(Trigger(ref: ref, otherLiterals: others))
                } else if let alternatives = RequiredLiteral.requiredAlternatives(in: regex.pattern) {
                    // Any one of them is enough: the pattern runs when one occurs (once, however many do).
                    for alternative in alternatives { patternsByLiteral[literalID(alternative)].append(Trigger(ref: ref, otherLiterals: [])) }
                } else {
                    unanchored.append(ref)
                }
            }
        }
        scanner = LiteralScanner(literalIDs.sorted { $0.value < $1.value }.map(\.key))
        self.patternsByLiteral = patternsByLiteral
        unanchoredPatterns = unanchored
        allPatterns = all
    }

    /// The message for a `language` that libstemmer has no stemmer for, with the closest one.
    static func unknownLanguage(_ language: String) -> String {
        "unknown stemming language '\(language)'\(NameSuggestion.hint(for: language, in: Stemmer.languages)); "
            + "the languages are \(Stemmer.languages.joined(separator: ", "))"
    }

    /// How many patterns the pre-filter can skip: those with required literals, or with a required
    /// group of literal alternatives.
    public var prefilteredPatternCount: Int { allPatterns.count - unanchoredPatterns.count }

    /// Why `pattern` does not compile, with the location of the offending character, or nil when it compiles.
    public static func compileProblem(
        _ pattern: IntentDefinition.Pattern, intent: String, caseSensitive: Bool
    ) -> (location: SourceLocation?, message: String)? {
        do {
            _ = try RegularExpression(pattern.regex, options: caseSensitive ? [] : [.caseInsensitive])
            return nil
        } catch {
            return describe(error, in: pattern, intent: intent)
        }
    }

    private static func describe(
        _ error: RegexError, in pattern: IntentDefinition.Pattern, intent: String
    ) -> (location: SourceLocation?, message: String) {
        (
            pattern.location?.advanced(byColumns: error.offset ?? 0),
            "invalid regex in intent '\(intent)': \(error.message)" + (error.offset.map { " (at offset \($0))" } ?? "")
        )
    }

    /// The intents recognized in `text`, best first.
    ///
    /// With `quotingEvidence` false, a keyword's evidence holds the keyword as written instead of
    /// the words of the text that matched it: finding those words is a good part of the cost of a
    /// recognized intent, and the rule engine reads only names, scores and slots.
    public func recognize(_ text: String, quotingEvidence: Bool = true) -> Recognition {
        let (scores, problems) = score(text, includeAll: false, quotingEvidence: quotingEvidence)
        return Recognition(intents: scores.filter(\.isRecognized), problems: problems)
    }

    /// Every intent's score for `text`, recognized or not, best first: the breakdown `--explain` shows.
    public func explain(_ text: String) -> (scores: [IntentScore], problems: [RecognitionProblem]) {
        score(text, includeAll: true, quotingEvidence: true)
    }

    private func score(_ text: String, includeAll: Bool, quotingEvidence: Bool) -> ([IntentScore], [RecognitionProblem]) {
        // Keywords, required and excluded entries: one pass over the tokens (and their stems).
        let hits = keywordIndex.hits(in: TextTokenizer.tokens(text))

        // Patterns: only those whose required literal occurs, plus those without one.
        var runs: [PatternRef]
        if !includeAll, let found = scanner.literalIDs(in: text) {
            runs = unanchoredPatterns
            if !found.isEmpty {
                var present = [Bool](repeating: false, count: patternsByLiteral.count)
                var unique: [Int] = []
                for id in found where !present[id] {
                    present[id] = true
                    unique.append(id)
                }
                for id in unique {
                    for trigger in patternsByLiteral[id] where trigger.otherLiterals.allSatisfy({ present[$0] }) {
                        runs.append(trigger.ref)
                    }
                }
                runs.sort()
            }
        } else {
            runs = allPatterns
        }

        // The intents to score: every intent for `explain`, otherwise those with a hit or a pattern to run.
        var candidates: [Int]
        if includeAll {
            candidates = Array(intents.indices)
        } else {
            candidates = hits.map(\.intent) + runs.map(\.intent)
            candidates.sort()
        }

        var scores: [IntentScore] = []
        var problems: [RecognitionProblem] = []
        var spans: [Range<String.Index>]?
        var hitCursor = 0
        var runCursor = 0
        var previous = -1
        for intentIndex in candidates where intentIndex != previous {
            previous = intentIndex
            while hitCursor < hits.count && hits[hitCursor].intent < intentIndex { hitCursor += 1 }
            let hitsStart = hitCursor
            while hitCursor < hits.count && hits[hitCursor].intent == intentIndex { hitCursor += 1 }
            while runCursor < runs.count && runs[runCursor].intent < intentIndex { runCursor += 1 }
            let runsStart = runCursor
            while runCursor < runs.count && runs[runCursor].intent == intentIndex { runCursor += 1 }
            let (score, intentProblems) = evaluate(
                intents[intentIndex], text: text, hits: hits[hitsStart..<hitCursor], patterns: runs[runsStart..<runCursor].map(\.pattern),
                includeAll: includeAll, quotingEvidence: quotingEvidence, spans: &spans)
            problems += intentProblems
            if let score { scores.append(score) }
        }
        scores.sort { $0.score != $1.score ? $0.score > $1.score : Self.precedesInCodePointOrder($0.name, $1.name) }
        return (scores, problems)
    }

    /// True when `lhs` comes before `rhs` comparing Unicode scalar values one by one (`String`'s
    /// own `<` compares canonical forms, which puts U+212A KELVIN SIGN before `Z`).
    static func precedesInCodePointOrder(_ lhs: String, _ rhs: String) -> Bool {
        lhs.unicodeScalars.lexicographicallyPrecedes(rhs.unicodeScalars)
    }

    /// One intent's score from its keyword hits (in text order) and the patterns chosen to run
    /// (indices, ascending, possibly repeated). `spans` are the text's token spans, found on first need.
    private func evaluate(
        _ intent: CompiledIntent, text: String, hits: ArraySlice<Hit>, patterns: [Int], includeAll: Bool, quotingEvidence: Bool,
        spans: inout [Range<String.Index>]?
    ) -> (IntentScore?, [RecognitionProblem]) {
        let definition = intent.definition
        var evidence: [Evidence] = []
        var problems: [RecognitionProblem] = []
        var total = 0
        var slots: [String: String] = [:]
        var last = -1
        for patternIndex in patterns where patternIndex != last {
            last = patternIndex
            let regex = intent.patterns[patternIndex]
            do {
                guard let match = try regex.firstCapturedMatch(in: text) else { continue }
                let pattern = definition.patterns[patternIndex]
                let utf8 = text.utf8
                let matched = utf8[utf8.index(utf8.startIndex, offsetBy: match.utf8Range.lowerBound)..<utf8.index(utf8.startIndex, offsetBy: match.utf8Range.upperBound)]
                evidence.append(Evidence(kind: .pattern, source: pattern.regex, weight: pattern.weight, matched: String(decoding: matched, as: UTF8.self)))
                total += pattern.weight
                // The first pattern that captures a name sets its slot; within a pattern, the last
                // group of a repeated name (`(?J)`), as a dictionary of the groups would keep.
                for capture in match.namedCaptures.reversed() where slots[capture.name] == nil { slots[capture.name] = capture.value }
            } catch {
                problems.append(RecognitionProblem(intent: definition.name, pattern: regex.pattern, error: error))
            }
        }
        guard !evidence.isEmpty || !hits.isEmpty || includeAll else { return (nil, problems) }
        if !includeAll {
            // Fast path: most touched intents stay below threshold; decide that before allocating anything.
            var keywordTotal = 0
            var excluded = false
            var requiredSeen = 0
            for position in hits.indices {
                switch hits[position].role {
                case .keyword(let index):
                    let repeated = hits[..<position].contains { $0.role == .keyword(index) }
                    if !repeated { keywordTotal += definition.keywords[index].weight }
                case .require(let index):
                    let repeated = hits[..<position].contains { $0.role == .require(index) }
                    if !repeated { requiredSeen += 1 }
                case .exclude:
                    excluded = true
                }
            }
            if excluded || requiredSeen < definition.require.count || min(1000, total + keywordTotal) < definition.threshold {
                return (nil, problems)
            }
        }
        // The first occurrence of each keyword is its evidence (by position in `hits`: an array
        // of optional hits cost more to make than the rest of the scoring).
        var keywordHit = [Int](repeating: -1, count: definition.keywords.count)
        var requireSeen = [Bool](repeating: false, count: definition.require.count)
        var excludeSeen = [Bool](repeating: false, count: definition.exclude.count)
        for position in hits.indices {
            switch hits[position].role {
            case .keyword(let index): if keywordHit[index] < 0 { keywordHit[index] = position }
            case .require(let index): requireSeen[index] = true
            case .exclude(let index): excludeSeen[index] = true
            }
        }
        evidence.reserveCapacity(evidence.count + definition.keywords.count)
        for (index, keyword) in definition.keywords.enumerated() {
            guard keywordHit[index] >= 0 else { continue }
            let hit = hits[keywordHit[index]]
            if quotingEvidence && spans == nil { spans = TextTokenizer.spans(text) }
            let matched =
                quotingEvidence
                ? spans.map { String(text.unicodeScalars[$0[hit.start].lowerBound..<$0[hit.start + hit.count - 1].upperBound]) } ?? keyword.text
                : keyword.text
            evidence.append(
                Evidence(kind: .keyword, source: keyword.text, weight: keyword.weight, matched: matched, form: hit.form, lexiconEntry: hit.lexiconEntry))
            total += keyword.weight
        }
        let score = IntentScore(
            name: definition.name, score: min(1000, total), threshold: definition.threshold, slots: slots, evidence: evidence,
            missingRequired: definition.require.enumerated().filter { !requireSeen[$0.offset] }.map(\.element),
            presentExcluded: definition.exclude.enumerated().filter { excludeSeen[$0.offset] }.map(\.element))
        return (score, problems)
    }
}
