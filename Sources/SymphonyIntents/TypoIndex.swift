/// The keywords of intents with `typos: true`, found in a text with one typo per word: one
/// insertion, deletion, substitution or swap of two neighbouring characters (Damerau–Levenshtein
/// distance 1), in words of at least `minimumLength` characters as written.
///
/// Candidates are found without comparing every keyword with every token: each keyword's first
/// word (and its stem) is indexed under itself and every string made by deleting one of its
/// characters, and each token of a text (and its stem) is looked up the same way. Two words within
/// one edit always share one of those strings; each candidate is then checked word by word. The
/// strings are never built: they are keyed by a 64-bit hash of their characters (a collision only
/// adds a candidate, which the check rejects).
struct TypoIndex: Sendable {
    /// Words shorter than this (as written in the keyword) must match without a typo.
    static let minimumLength = 5

    /// A keyword that tolerates typos.
    struct Entry: Sendable {
        let intent: Int
        let role: KeywordIndex.Role
        /// Its words as written (lowercase tokens).
        let written: [String]
        /// Their stems, and the index of the stemmer, when the intent stems.
        let stems: [String]?
        let stemmer: Int?
        let lexiconEntry: String?
    }

    private var entries: [Entry] = []
    private var candidates: [UInt64: [Int]] = [:]

    /// True when no intent tolerates typos (then texts are not looked up at all).
    var isEmpty: Bool { entries.isEmpty }

    /// Adds a keyword.
    mutating func add(_ entry: Entry) {
        let id = entries.count
        entries.append(entry)
        let eligible = entry.written[0].unicodeScalars.count >= Self.minimumLength
        var keys: Set<UInt64> = []
        Self.forEachKey(of: entry.written[0], deletions: eligible) { keys.insert($0) }
        if let stems = entry.stems { Self.forEachKey(of: stems[0], deletions: eligible) { keys.insert($0) } }
        for key in keys { candidates[key, default: []].append(id) }
    }

    /// Appends the keywords found in `tokens` with at least one typo; `stems[i]` are the tokens' stems by stemmer `i`.
    func hits(in tokens: [String], stems: [[String]], into hits: inout [KeywordIndex.Hit]) {
        var ids: [Int] = []
        for position in tokens.indices {
            ids.removeAll(keepingCapacity: true)
            func lookUp(_ word: String) {
                let deletions = word.unicodeScalars.count >= Self.minimumLength - 1
                Self.forEachKey(of: word, deletions: deletions) { key in
                    for id in candidates[key] ?? [] where !ids.contains(id) { ids.append(id) }
                }
            }
            lookUp(tokens[position])
            for stemmed in stems where stemmed[position] != tokens[position] { lookUp(stemmed[position]) }
            ids.sort()
            for id in ids {
                let entry = entries[id]
                if match(entry, tokens: tokens, stems: entry.stemmer.map { stems[$0] }, at: position) {
                    hits.append(
                        KeywordIndex.Hit(
                            intent: entry.intent, role: entry.role, start: position, count: entry.written.count, form: .typo,
                            lexiconEntry: entry.lexiconEntry))
                }
            }
        }
    }

    /// True when every word of `entry` matches at `position` — as written, by stem, or (for words
    /// long enough) within one edit — and at least one only within one edit.
    private func match(_ entry: Entry, tokens: [String], stems textStems: [String]?, at position: Int) -> Bool {
        guard position + entry.written.count <= tokens.count else { return false }
        var typo = false
        for (offset, word) in entry.written.enumerated() {
            let token = tokens[position + offset]
            if token == word { continue }
            let stem = entry.stems?[offset]
            let textStem = textStems?[position + offset]
            if let stem, stem == textStem { continue }
            guard word.unicodeScalars.count >= Self.minimumLength else { return false }
            if Self.withinOneEdit(token, word) || (stem != nil && textStem != nil && Self.withinOneEdit(textStem!, stem!)) {
                typo = true
                continue
            }
            return false
        }
        return typo
    }

    /// Calls `body` with the hash of `word` and, with `deletions`, of every string made by deleting
    /// one of its characters (FNV-1a over the Unicode scalar values).
    static func forEachKey(of word: String, deletions: Bool, _ body: (UInt64) -> Void) {
        var values: [UInt32] = []
        values.reserveCapacity(16)
        for scalar in word.unicodeScalars { values.append(scalar.value) }
        func hash(skipping skipped: Int) -> UInt64 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for (index, value) in values.enumerated() where index != skipped {
                hash = (hash ^ UInt64(value)) &* 0x100_0000_01b3
            }
            return hash
        }
        body(hash(skipping: -1))
        guard deletions else { return }
        for index in values.indices { body(hash(skipping: index)) }
    }

    /// True when `a` and `b` differ by at most one insertion, deletion, substitution or swap of neighbours.
    static func withinOneEdit(_ a: String, _ b: String) -> Bool {
        let x = Array(a.unicodeScalars)
        let y = Array(b.unicodeScalars)
        if abs(x.count - y.count) > 1 { return false }
        var i = 0
        while i < min(x.count, y.count) && x[i] == y[i] { i += 1 }
        if i == x.count && i == y.count { return true }
        if x.count == y.count {
            // One substitution, or one swap of neighbours.
            if x[(i + 1)...] == y[(i + 1)...] { return true }
            return i + 1 < x.count && x[i] == y[i + 1] && x[i + 1] == y[i] && x[(i + 2)...] == y[(i + 2)...]
        }
        // One insertion into the shorter.
        return x.count > y.count ? x[(i + 1)...] == y[i...] : x[i...] == y[(i + 1)...]
    }
}
