import SymphonyDiagnostics
import SymphonyRegex
import SymphonyStemming

/// Reads the `intents:` sections of rule files into intent definitions, collecting every error.
///
/// The format is in docs/reference/intents.md. A file's top level may also hold `rules:` and `owner:` (read
/// by the rule loader); any other top-level key is an error.
public enum IntentSetLoader {
    /// Top-level keys a rule file may have.
    public static let topLevelKeys = ["intents", "lexicons", "rules", "owner", "patterns", "lines", "pools", "targets"]
    static let intentKeys = [
        "name", "description", "patterns", "keywords", "require", "exclude", "threshold", "case_sensitive", "language", "stemming", "typos",
    ]

    /// Loads the intents of every YAML file named by `paths` (files, or directories of files).
    public static func load(paths: [String]) -> (definitions: [IntentDefinition], diagnostics: Diagnostics) {
        var diagnostics = Diagnostics()
        var roots: [YAMLNode] = []
        for file in SourceFiles.yamlFiles(in: paths, into: &diagnostics) {
            if let root = YAMLSource.load(path: file, into: &diagnostics) { roots.append(root) }
        }
        return (definitions(in: roots, into: &diagnostics), diagnostics)
    }

    /// Loads the intents of already-read documents (file name for messages, text).
    public static func load(documents: [(file: String, text: String)]) -> (definitions: [IntentDefinition], diagnostics: Diagnostics) {
        var diagnostics = Diagnostics()
        let roots = documents.compactMap { YAMLSource.parse($0.text, file: $0.file, into: &diagnostics) }
        return (definitions(in: roots, into: &diagnostics), diagnostics)
    }

    /// The intents of already-parsed files, with duplicate names across files reported. Lexicons
    /// (`lexicons:` in any of the files) are shared by the intents of all of them.
    public static func definitions(in roots: [YAMLNode], into diagnostics: inout Diagnostics) -> [IntentDefinition] {
        var definitions: [IntentDefinition] = []
        var seen: [String: SourceLocation] = [:]
        let tops = roots.filter { !$0.isNull }.compactMap { $0.fields(of: "the rule file", allowed: topLevelKeys, into: &diagnostics) }
        var lexicons = LexiconSet(tops, into: &diagnostics)
        defer { lexicons.reportUnused(into: &diagnostics) }
        for top in tops {
            guard let section = top["intents"], !section.isNull else { continue }
            guard let items = section.list("'intents'", into: &diagnostics) else { continue }
            for item in items {
                let definition = definition(from: item, lexicons: &lexicons, into: &diagnostics)
                // Names count for duplicate detection even when the intent has other errors.
                if let nameNode = item.entries?.first(where: { $0.key == "name" })?.value, let name = nameNode.scalarText {
                    if let first = seen[name] {
                        diagnostics.error(at: nameNode.location, "duplicate intent name '\(name)'; it is first defined at \(first)")
                        continue
                    }
                    seen[name] = nameNode.location
                }
                if let definition { definitions.append(definition) }
            }
        }
        return definitions
    }

    /// One intent from its YAML mapping, or nil after reporting why not.
    static func definition(from node: YAMLNode, lexicons: inout LexiconSet, into diagnostics: inout Diagnostics) -> IntentDefinition? {
        let errorsBefore = diagnostics.errors.count
        let label = node.entries?.first(where: { $0.key == "name" })?.value.scalarText.map { "intent '\($0)'" } ?? "an intent"
        guard let fields = node.fields(of: label, allowed: intentKeys, required: ["name"], into: &diagnostics) else { return nil }
        guard let nameNode = fields["name"], let name = nameNode.string("the intent name", into: &diagnostics) else { return nil }
        if !isValidName(name) {
            diagnostics.error(at: nameNode.location, "intent name '\(name)' must be letters, digits, '_', '-' or '.'")
        }
        if let description = fields["description"] { _ = description.string("'description'", into: &diagnostics) }

        var definition = IntentDefinition(name: name, location: nameNode.location)
        if let threshold = fields["threshold"], let value = threshold.number("'threshold'", in: 0.001...1, into: &diagnostics) {
            definition.threshold = thousandths(value, at: threshold, into: &diagnostics)
        }
        if let flag = fields["case_sensitive"], let value = flag.bool("'case_sensitive'", into: &diagnostics) {
            definition.caseSensitive = value
        }
        if let flag = fields["stemming"], let value = flag.bool("'stemming'", into: &diagnostics) {
            definition.stemming = value
        }
        if let flag = fields["typos"], let value = flag.bool("'typos'", into: &diagnostics) {
            definition.typos = value
        }
        if let languageNode = fields["language"], let language = languageNode.string("'language'", into: &diagnostics) {
            if Stemmer(language: language) == nil {
                diagnostics.error(at: languageNode.contentLocation, IntentRecognizer.unknownLanguage(language))
            } else {
                definition.language = language
            }
        }
        if let patterns = fields["patterns"], let items = patterns.list("'patterns'", into: &diagnostics) {
            for item in items {
                guard let pattern = weighted(item, key: "regex", what: "pattern", defaultWeight: IntentDefinition.defaultPatternWeight, into: &diagnostics) else { continue }
                let compiled = IntentDefinition.Pattern(regex: pattern.text, weight: pattern.weight, location: pattern.location)
                if let problem = IntentRecognizer.compileProblem(compiled, intent: name, caseSensitive: definition.caseSensitive) {
                    diagnostics.error(at: problem.location, problem.message)
                    continue
                }
                definition.patterns.append(compiled)
            }
        }
        if let keywords = fields["keywords"], let items = keywords.list("'keywords'", into: &diagnostics) {
            // What each keyword matches: its words, or their stems; a second keyword matching the same is dropped.
            let stemmer = definition.stemming ? Stemmer(language: definition.language) : nil
            var seenKeywords: [KeywordKey: String] = [:]
            for item in items {
                guard let keyword = weighted(item, key: "keyword", what: "keyword", defaultWeight: IntentDefinition.defaultKeywordWeight, into: &diagnostics) else { continue }
                let key: KeywordKey
                switch KeywordIndex.term(keyword.text) {
                case .lexicon(let lexicon):
                    guard lexicons.checkReference(lexicon, in: keyword.text, at: keyword.location, intent: name, into: &diagnostics) else { continue }
                    key = KeywordKey(words: [keyword.text], stemmed: false)
                case .phrase(let tokens, let exact):
                    if tokens.isEmpty {
                        diagnostics.error(at: keyword.location, "keyword '\(keyword.text)' has no letters or digits to match")
                        continue
                    }
                    let stems = exact ? nil : stemmer?.stems(tokens)
                    key = KeywordKey(words: stems ?? tokens, stemmed: stems != nil)
                }
                if let first = seenKeywords[key] {
                    if TextTokenizer.tokens(first) == TextTokenizer.tokens(keyword.text) {
                        diagnostics.warning(at: keyword.location, "keyword '\(keyword.text)' appears twice in intent '\(name)'; it counts once")
                    } else {
                        diagnostics.warning(
                            at: keyword.location,
                            "keyword '\(keyword.text)' matches the same words as '\(first)' in intent '\(name)' (the same stems, '\(key.words.joined(separator: " "))'); it counts once")
                    }
                    continue
                }
                seenKeywords[key] = keyword.text
                definition.keywords.append(IntentDefinition.Keyword(text: keyword.text, weight: keyword.weight, location: keyword.location))
            }
        }
        for (key, keyPath) in [("require", \IntentDefinition.require), ("exclude", \IntentDefinition.exclude)] {
            guard let node = fields[key], let entries = node.stringList("'\(key)'", into: &diagnostics) else { continue }
            for (text, entryNode) in entries {
                if case .lexicon(let lexicon) = KeywordIndex.term(text) {
                    if lexicons.checkReference(lexicon, in: text, at: entryNode.contentLocation, intent: name, into: &diagnostics) {
                        definition[keyPath: keyPath].append(text)
                    }
                } else if TextTokenizer.tokens(text).isEmpty {
                    diagnostics.error(at: entryNode.location, "'\(key)' entry '\(text)' has no letters or digits to match")
                } else {
                    definition[keyPath: keyPath].append(text)
                }
            }
        }
        // The lexicons this intent refers to travel with it.
        for text in definition.keywords.map(\.text) + definition.require + definition.exclude {
            if case .lexicon(let lexicon) = KeywordIndex.term(text) { definition.lexicons[lexicon] = lexicons.entries[lexicon] }
        }
        if definition.patterns.isEmpty && definition.keywords.isEmpty && diagnostics.errors.count == errorsBefore {
            diagnostics.error(at: nameNode.location, "intent '\(name)' has no patterns or keywords, so it can never be recognized")
        }
        return diagnostics.errors.count == errorsBefore ? definition : nil
    }

    /// What a keyword matches: its words as written, or their stems.
    private struct KeywordKey: Hashable {
        let words: [String]
        let stemmed: Bool
    }

    private static func weighted(
        _ node: YAMLNode, key: String, what: String, defaultWeight: Int, into diagnostics: inout Diagnostics
    ) -> (text: String, weight: Int, location: SourceLocation)? {
        if node.entries == nil {
            guard let text = node.string("a \(what)", into: &diagnostics) else { return nil }
            return (text, defaultWeight, node.contentLocation)
        }
        guard let fields = node.fields(of: "a \(what)", allowed: [key, "weight"], required: [key], into: &diagnostics),
            let textNode = fields[key], let text = textNode.string("'\(key)'", into: &diagnostics)
        else { return nil }
        var weight = defaultWeight
        if let weightNode = fields["weight"] {
            guard let value = weightNode.number("'weight'", in: 0.001...1, into: &diagnostics) else { return nil }
            weight = thousandths(value, at: weightNode, into: &diagnostics)
        }
        return (text, weight, textNode.contentLocation)
    }

    private static func thousandths(_ value: Double, at node: YAMLNode, into diagnostics: inout Diagnostics) -> Int {
        let rounded = Int((value * 1000).rounded())
        if abs(Double(rounded) - value * 1000) > 1e-6 {
            diagnostics.warning(at: node.location, "\(value) has more than three decimals; it is rounded to \(Double(rounded) / 1000)")
        }
        return rounded
    }

    /// A valid intent or rule name: letters, digits, `_`, `-` and `.` (the rule loader uses this too).
    package static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-" || scalar == "."
        }
    }
}
