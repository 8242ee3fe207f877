import SymphonyStemming

/// Every keyword, `require` and `exclude` entry of every intent, indexed by its first word, so
/// that finding them in a text costs one lookup per token and index, however many intents there are.
///
/// Entries of intents with `stemming` on are indexed by the stems of their words, in one index
/// per language; the text's tokens are stemmed once per language, not once per entry. Entries
/// written with a leading `=`, and those of intents with `stemming: false`, are indexed as written.
/// Keywords of intents with `typos: true` are also in a `TypoIndex`.
/// An entry `@name` stands for every word or phrase of the intent's lexicon `name`, each indexed
/// like an entry of its own under the same role.
struct KeywordIndex: Sendable {
    /// Which entry of its intent an index entry is.
    enum Role: Sendable, Hashable {
        case keyword(Int)
        case require(Int)
        case exclude(Int)
    }

    /// One occurrence of an entry in a text: tokens `start..<start + count`.
    struct Hit: Sendable {
        let intent: Int
        let role: Role
        let start: Int
        let count: Int
        let form: Evidence.Form
        /// For a lexicon entry, the lexicon's word or phrase that matched.
        let lexiconEntry: String?
    }

    /// What an entry as written stands for.
    enum Term: Equatable {
        /// Words to find consecutively; `exact` (a leading `=`) when only the form written matches.
        case phrase(words: [String], exact: Bool)
        /// `@name`: any word or phrase of the lexicon `name`.
        case lexicon(String)
    }

    private struct Entry: Sendable {
        let intent: Int
        let role: Role
        /// The words compared with the text's tokens (or with their stems, in a stem index).
        let words: [String]
        /// The words as written (lowercase tokens), to tell an exact match from another form.
        let written: [String]
        /// For a lexicon entry, the lexicon's word or phrase.
        let lexiconEntry: String?
    }

    private let exact: WordTable<[Entry]>
    private let stemmers: [Stemmer]
    /// Per stemmer, the entries indexed by the stem of their first word.
    private let stemmed: [WordTable<[Entry]>]
    private let typos: TypoIndex
    /// Per stemmer, whether any entry is matched by its stems (a stemmed entry, or a typo entry
    /// of an intent that stems): texts are stemmed only by the stemmers some entry needs.
    private let stemmerNeeded: [Bool]

    /// A keyword, `require` or `exclude` entry (or a lexicon's word) as written: `@name` refers to
    /// a lexicon; a leading `=` asks for the exact form written.
    static func term(_ text: String) -> Term {
        switch text.unicodeScalars.first {
        case "@": .lexicon(String(text.unicodeScalars.dropFirst()))
        case "=": .phrase(words: TextTokenizer.tokens(String(text.unicodeScalars.dropFirst())), exact: true)
        default: .phrase(words: TextTokenizer.tokens(text), exact: false)
        }
    }

    /// Indexes every entry of `definitions`; the languages of intents that stem must be in
    /// `Stemmer.languages`, and lexicons they refer to must be in their `lexicons`.
    init(_ definitions: [IntentDefinition]) {
        var exact = WordTable<[Entry]>()
        var stemmers: [Stemmer] = []
        var stemmed: [WordTable<[Entry]>] = []
        var typos = TypoIndex()
        var typoStemmers: Set<Int> = []
        for (intentIndex, definition) in definitions.enumerated() {
            var stemmerIndex: Int?
            if definition.stemming, let stemmer = Stemmer(language: definition.language) {
                if let existing = stemmers.firstIndex(of: stemmer) {
                    stemmerIndex = existing
                } else {
                    stemmers.append(stemmer)
                    stemmed.append(WordTable())
                    stemmerIndex = stemmers.count - 1
                }
            }
            func add(_ text: String, _ role: Role, lexiconEntry: String? = nil) {
                switch Self.term(text) {
                case .lexicon(let name):
                    guard lexiconEntry == nil else { return }  // lexicons do not nest
                    for entry in definition.lexicons[name] ?? [] { add(entry, role, lexiconEntry: entry) }
                case .phrase(let words, let isExact):
                    guard let first = words.first else { return }
                    if definition.typos, !isExact, case .keyword = role {
                        if let stemmerIndex { typoStemmers.insert(stemmerIndex) }
                        typos.add(
                            TypoIndex.Entry(
                                intent: intentIndex, role: role, written: words, stems: stemmerIndex.map { stemmers[$0].stems(words) },
                                stemmer: stemmerIndex, lexiconEntry: lexiconEntry))
                    }
                    if let stemmerIndex, !isExact {
                        let stems = stemmers[stemmerIndex].stems(words)
                        stemmed[stemmerIndex].modify(stems[0], default: []) {
                            $0.append(Entry(intent: intentIndex, role: role, words: stems, written: words, lexiconEntry: lexiconEntry))
                        }
                    } else {
                        exact.modify(first, default: []) {
                            $0.append(Entry(intent: intentIndex, role: role, words: words, written: words, lexiconEntry: lexiconEntry))
                        }
                    }
                }
            }
            for (index, keyword) in definition.keywords.enumerated() { add(keyword.text, .keyword(index)) }
            for (index, text) in definition.require.enumerated() { add(text, .require(index)) }
            for (index, text) in definition.exclude.enumerated() { add(text, .exclude(index)) }
        }
        self.exact = exact
        self.stemmers = stemmers
        self.stemmed = stemmed
        self.typos = typos
        stemmerNeeded = stemmed.indices.map { !stemmed[$0].isEmpty || typoStemmers.contains($0) }
    }

    /// Every entry occurring in `tokens` (a text's `TextTokenizer.tokens`), sorted by intent, then position.
    func hits(in tokens: [String]) -> [Hit] {
        var hits: [Hit] = []
        if !exact.isEmpty {
            for position in tokens.indices {
                guard let entries = exact[tokens[position]] else { continue }
                for entry in entries where Self.words(tokens, at: position, startWith: entry.words) {
                    hits.append(
                        Hit(intent: entry.intent, role: entry.role, start: position, count: entry.words.count, form: .exact, lexiconEntry: entry.lexiconEntry))
                }
            }
        }
        // A stemmer no entry needs is not run: its "stems" are the tokens themselves, which match nothing new.
        let allStems = stemmers.indices.map { stemmerNeeded[$0] ? stemmers[$0].stems(tokens) : tokens }
        for (stemmerIndex, stems) in allStems.enumerated() {
            let index = stemmed[stemmerIndex]
            if index.isEmpty { continue }
            for position in stems.indices {
                guard let entries = index[stems[position]] else { continue }
                for entry in entries where Self.words(stems, at: position, startWith: entry.words) {
                    let form: Evidence.Form = Self.words(tokens, at: position, startWith: entry.written) && tokens[position] == entry.written[0] ? .exact : .stem
                    hits.append(
                        Hit(intent: entry.intent, role: entry.role, start: position, count: entry.words.count, form: form, lexiconEntry: entry.lexiconEntry))
                }
            }
        }
        if !typos.isEmpty { typos.hits(in: tokens, stems: allStems, into: &hits) }
        // By intent, then in text order; at one position the longest entry first (it is the evidence).
        hits.sort { ($0.intent, $0.start, $1.count) < ($1.intent, $1.start, $0.count) }
        return hits
    }

    /// True when `words` occur in `tokens` at `position` (the first word is known to match).
    private static func words(_ tokens: [String], at position: Int, startWith words: [String]) -> Bool {
        guard position + words.count <= tokens.count else { return false }
        for offset in 1..<max(1, words.count) where tokens[position + offset] != words[offset] { return false }
        return true
    }
}
