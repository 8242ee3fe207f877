import SymphonyDiagnostics

/// A rule set's `lexicons:`: named lists of words and phrases, defined once and used by any intent
/// as `@name` in keywords, `require` and `exclude` (see docs/reference/intents.md).
struct LexiconSet {
    /// Each lexicon's words and phrases, as written.
    private(set) var entries: [String: [String]] = [:]
    private var locations: [String: SourceLocation] = [:]
    private var used: Set<String> = []

    /// The lexicons of every file's top-level mapping, reporting malformed ones and names defined twice.
    init(_ tops: [[String: YAMLNode]], into diagnostics: inout Diagnostics) {
        for top in tops {
            guard let section = top["lexicons"], !section.isNull else { continue }
            guard let mapping = section.entries else {
                diagnostics.error(at: section.location, "'lexicons' must be a mapping of names to lists of words, not \(section.kindDescription)")
                continue
            }
            for (name, keyNode, value) in mapping {
                if !IntentSetLoader.isValidName(name) {
                    diagnostics.error(at: keyNode.location, "lexicon name '\(name)' must be letters, digits, '_', '-' or '.'")
                    continue
                }
                if let first = locations[name] {
                    diagnostics.error(at: keyNode.location, "duplicate lexicon '\(name)'; it is first defined at \(first)")
                    continue
                }
                locations[name] = keyNode.location
                guard let items = value.stringList("lexicon '\(name)'", into: &diagnostics) else { continue }
                var words: [String] = []
                for (text, node) in items {
                    switch KeywordIndex.term(text) {
                    case .lexicon:
                        diagnostics.error(at: node.contentLocation, "lexicon '\(name)' refers to '\(text)'; a lexicon lists words and phrases, not other lexicons")
                    case .phrase(let tokens, _) where tokens.isEmpty:
                        diagnostics.error(at: node.contentLocation, "lexicon '\(name)' entry '\(text)' has no letters or digits to match")
                    case .phrase:
                        words.append(text)
                    }
                }
                if items.isEmpty { diagnostics.error(at: value.location, "lexicon '\(name)' is empty") }
                entries[name] = words
            }
        }
    }

    /// Records that `text` (`@name`) refers to lexicon `name`; reports an unknown name, with the closest one.
    mutating func checkReference(
        _ name: String, in text: String, at location: SourceLocation, intent: String, into diagnostics: inout Diagnostics
    ) -> Bool {
        guard locations[name] != nil else {
            let hint = NameSuggestion.hint(for: name, in: locations.keys)
            diagnostics.error(
                at: location,
                "unknown lexicon '\(name)' in '\(text)' of intent '\(intent)'"
                    + (hint.isEmpty ? (locations.isEmpty ? "; define it under the top-level 'lexicons:'" : "") : hint))
            return false
        }
        used.insert(name)
        return true
    }

    /// Warns about each lexicon no intent refers to.
    func reportUnused(into diagnostics: inout Diagnostics) {
        for (name, location) in locations.sorted(by: { $0.value < $1.value }) where !used.contains(name) {
            diagnostics.warning(at: location, "lexicon '\(name)' is not used by any intent")
        }
    }
}
