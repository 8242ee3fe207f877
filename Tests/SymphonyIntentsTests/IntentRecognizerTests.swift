import Foundation
import SymphonyDiagnostics
@testable import SymphonyIntents
import SymphonyRegex
import Testing

@Suite struct IntentRecognizerTests {
    typealias Pattern = IntentDefinition.Pattern
    typealias Keyword = IntentDefinition.Keyword

    static let refund = IntentDefinition(
        name: "refund_request",
        patterns: [Pattern(regex: "refund.*order\\s*(?<order>\\d+)", weight: 600)],
        keywords: [Keyword(text: "refund", weight: 300), Keyword(text: "money back", weight: 400)],
        exclude: ["no refund needed"])

    @Test("scores add the weights that fired, each once, capped at 1 (worked examples of docs/reference/intents.md)")
    func handComputedScores() throws {
        let recognizer = try IntentRecognizer([Self.refund])
        // pattern 0.6 + keyword 'refund' 0.3 = 0.9 ('refund' twice still counts once)
        let first = try #require(recognizer.recognize("Refund, refund! order 1234").intents.first)
        #expect(first.score == 900)
        #expect(first.value == 0.9)
        #expect(first.slots == ["order": "1234"])
        #expect(first.evidence.map(\.source) == ["refund.*order\\s*(?<order>\\d+)", "refund"])
        // 0.6 + 0.3 + 0.4 = 1.3, capped at 1.0
        #expect(recognizer.recognize("I want my money back: refund order 77").intents.first?.score == 1000)
        // 'money back' alone: 0.4 < 0.5 threshold → no intent; explain still shows 0.4
        #expect(recognizer.recognize("money back please").intents.isEmpty)
        #expect(recognizer.explain("money back please").scores.first?.score == 400)
        #expect(recognizer.explain("money back please").scores.first?.rejection == "score 0.4 is below the threshold 0.5")
    }

    @Test("keywords match whole words and phrases, case-insensitively, across accents and scripts")
    func keywordMatching() throws {
        let intent = IntentDefinition(
            name: "mixed",
            keywords: [
                Keyword(text: "café", weight: 200), Keyword(text: "MONEY BACK", weight: 200), Keyword(text: "返金", weight: 200),
                Keyword(text: "журнал", weight: 200), Keyword(text: "£", weight: 200),
            ], threshold: 100, stemming: false)
        let recognizer = try IntentRecognizer([intent])
        func score(_ text: String) -> Int { recognizer.explain(text).scores.first?.score ?? 0 }
        #expect(score("CAFÉ au lait") == 200)
        #expect(score("cafe au lait") == 0)  // accents are kept
        #expect(score("cafés") == 0)  // whole words only (without stemming; WordFormTests has it on)
        #expect(score("Money   back, now") == 200)
        #expect(score("money-back") == 200)  // punctuation separates words
        #expect(score("返金してください") == 200)  // each ideograph is a token
        #expect(score("Открыть ЖУРНАЛ") == 200)
        #expect(score("it cost £5") == 0)  // '£' is not a word character: use a pattern for symbols
    }

    @Test("currency symbols are matched by patterns, with the amount as a slot")
    func currencyPatterns() throws {
        let intent = IntentDefinition(
            name: "billing", patterns: [Pattern(regex: "(?<amount>[£€$]\\s?\\d+(?:[.,]\\d{2})?)", weight: 600)])
        let recognizer = try IntentRecognizer([intent])
        #expect(recognizer.recognize("charged £12.50 twice").intents.first?.slots == ["amount": "£12.50"])
        #expect(recognizer.recognize("une facture de €99").intents.first?.slots == ["amount": "€99"])
    }

    @Test("require blocks an intent until every entry appears; exclude blocks it when any appears")
    func requireAndExclude() throws {
        var cancel = IntentDefinition(name: "cancel", keywords: [Keyword(text: "cancel", weight: 600)], require: ["subscription"])
        cancel.exclude = ["do not cancel"]
        let recognizer = try IntentRecognizer([cancel, Self.refund])
        #expect(recognizer.recognize("cancel it").intents.isEmpty)
        #expect(recognizer.explain("cancel it").scores.first?.rejection == "required 'subscription' is missing")
        #expect(recognizer.recognize("cancel my subscription").intents.map(\.name) == ["cancel"])
        #expect(recognizer.recognize("Do NOT cancel my subscription").intents.isEmpty)
        #expect(recognizer.explain("Do NOT cancel my subscription").scores.first?.presentExcluded == ["do not cancel"])
        #expect(recognizer.recognize("refund order 5, no refund needed").intents.isEmpty)
    }

    @Test("slots come from the first pattern (in definition order) that captures each name")
    func slotPrecedence() throws {
        let intent = IntentDefinition(
            name: "order",
            patterns: [
                Pattern(regex: "order (?<order>\\d+)", weight: 300), Pattern(regex: "#(?<order>\\d+) by (?<who>\\w+)", weight: 300),
            ])
        let result = try IntentRecognizer([intent]).recognize("order 11, also #22 by ada")
        #expect(result.intents.first?.slots == ["order": "11", "who": "ada"])
        // Within one pattern, the last group of a repeated name that took part.
        let repeated = IntentDefinition(name: "pair", patterns: [Pattern(regex: "(?J)(?<n>\\d+)-(?<n>\\d+)", weight: 900)])
        #expect(try IntentRecognizer([repeated]).recognize("pages 3-9").intents.first?.slots == ["n": "9"])
    }

    @Test("ties rank by name; higher scores come first")
    func ranking() throws {
        let intents = ["zeta", "alpha", "mid"].map { name in
            IntentDefinition(name: name, keywords: [Keyword(text: "help", weight: name == "mid" ? 900 : 600)])
        }
        #expect(try IntentRecognizer(intents).recognize("help").intents.map(\.name) == ["mid", "alpha", "zeta"])
    }

    @Test("text that reaches no threshold gets no intent")
    func nothingRecognized() throws {
        #expect(try IntentRecognizer([Self.refund]).recognize("hello there").intents.isEmpty)
        #expect(try IntentRecognizer([]).recognize("anything").intents.isEmpty)
    }

    @Test("a pattern that does not compile is reported at its location plus the offset")
    func badPattern() throws {
        let location = SourceLocation(file: "intents.yaml", line: 4, column: 17)
        let intent = IntentDefinition(name: "broken", patterns: [Pattern(regex: "order (\\d+", weight: 600, location: location)])
        let error = #expect(throws: DiagnosticsError.self) { try IntentRecognizer([intent]) }
        #expect(
            error?.diagnostics.description
                == "intents.yaml:4:27: error: invalid regex in intent 'broken': Missing closing parenthesis. (at offset 10)")
    }

    @Test("a catastrophic pattern is reported as a problem, counts as no match, and the other signals still score")
    func catastrophicPattern() throws {
        let intent = IntentDefinition(
            name: "evil", patterns: [Pattern(regex: "(a+)+$", weight: 600)], keywords: [Keyword(text: "help", weight: 500)])
        let recognizer = try IntentRecognizer([intent])
        let result = recognizer.recognize("help " + String(repeating: "a", count: 40) + "b")
        #expect(result.intents.map(\.score) == [500])
        #expect(result.problems.map(\.error.code) == [.matchLimitExceeded])
        #expect(result.problems.first?.pattern == "(a+)+$")
    }

    @Test("many threads recognizing at once get the same answers as one thread")
    func concurrentRecognition() throws {
        let recognizer = try IntentRecognizer([Self.refund])
        let texts = (0..<200).map { "refund order \($0) or my money back" }
        let expected = texts.map { recognizer.recognize($0) }
        let mismatches = Counter()
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            for (index, text) in texts.enumerated() where recognizer.recognize(text) != expected[index] {
                mismatches.increment()
            }
        }
        #expect(mismatches.value == 0)
        #expect(expected[7].intents.first?.slots == ["order": "7"])
    }
}

@Suite struct PrefilterEquivalenceTests {
    @Test("pre-filtered recognition gives exactly the answers of running every pattern")
    func equivalence() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (definitions, diagnostics) = IntentSetLoader.load(paths: [root.appendingPathComponent("rules/support").path])
        #expect(!diagnostics.hasErrors)
        let recognizer = try IntentRecognizer(definitions)
        #expect(recognizer.prefilteredPatternCount > 0)
        let fragments = [
            "refund", "REFUND", "order", "#4411", "password", "Reset", "forgot my", "cancel", "subscription", "where is",
            "package", "not arrived", "€12.50", "error E503", "app crashes", "update", "email", "thanks", "Kelvin \u{212A}",
            "remboursé", "返金", "the", "and", "money back", "locked out", "hasn't", "shipped",
        ]
        var generator = SystemRandomNumberGenerator()
        var keywordEvidence = 0
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 1...8, using: &generator)).map { _ in fragments.randomElement(using: &generator)! }
                .joined(separator: " ")
            let fast = recognizer.recognize(text).intents
            let full = recognizer.explain(text).scores.filter(\.isRecognized)
            #expect(fast == full, "text: \(text)")
            // Without quoting (the rule engine's reading), only the keywords' matched text differs.
            let unquoted = recognizer.recognize(text, quotingEvidence: false).intents
            #expect(unquoted.map(\.name) == fast.map(\.name) && unquoted.map(\.score) == fast.map(\.score) && unquoted.map(\.slots) == fast.map(\.slots))
            #expect(unquoted.flatMap(\.evidence).map(\.source) == fast.flatMap(\.evidence).map(\.source))
            #expect(unquoted.flatMap(\.evidence).allSatisfy { $0.kind == .pattern || $0.matched == $0.source })
            keywordEvidence += fast.flatMap(\.evidence).count { $0.kind == .keyword && $0.matched != $0.source }
        }
        #expect(keywordEvidence > 0, "no keyword matched in another form: the unquoted reading was not put to the test")
    }
}

@Suite struct AlternationPrefilterTests {
    /// Patterns whose only literals are a group's alternatives run when one alternative occurs;
    /// groups that may be skipped, assertions and short alternatives keep a pattern unfiltered.
    @Test("patterns pre-filtered by a group's alternatives give exactly the answers of running every pattern")
    func equivalence() throws {
        let text = #"""
            intents:
              - name: plan
                threshold: 0.5
                patterns:
                  - '(?:upgrad|downgrad|switch)\w*\s+(?:us\s+)?(?:to|from)\s+(?<plan>basic|pro|team)'
                  - '\b(?<verb>add|remove)\s+\d+\s+seats'
                  - '(?:annual|yearly)\s+(?:plan|billing)'
              - name: access
                threshold: 0.5
                patterns:
                  - '(?:cannot|unable to)\s+(?:log\s*in|sign\s*in)'
                  - '(?:two|2)[- ]?factor\s+(?:code|token)'
                  - '(?<=locked )(?:up|away)'
                  - '(?:please|kindly)?\s*reset\b'
                  - '(?P<what>password|passcode)'
            """#
        let (definitions, diagnostics) = IntentSetLoader.load(documents: [(file: "intents.yaml", text: text)])
        #expect(!diagnostics.hasErrors)
        let recognizer = try IntentRecognizer(definitions)
        // Every pattern but '(?<=locked )(?:up|away)' ('up' is too short): by alternatives, or by a literal ('seats', 'factor', 'reset').
        #expect(recognizer.prefilteredPatternCount == 7)
        let fragments = [
            "upgrade", "UPGRADING", "switch", "us", "to", "from", "pro", "team", "basic", "add", "remove", "3", "seats", "annual",
            "Yearly", "plan", "billing", "cannot", "unable to", "log in", "signin", "2-factor", "two factor", "code", "token",
            "locked", "up", "away", "please", "reset", "password", "PASSCODE", "\u{212A}ind", "sei\u{017F}", "café",
        ]
        var state: UInt64 = 11
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var recognized = 0
        for _ in 0..<3_000 {
            let text = (0..<(1 + next(8))).map { _ in fragments[next(fragments.count)] }.joined(separator: " ")
            let fast = recognizer.recognize(text).intents
            let full = recognizer.explain(text).scores.filter(\.isRecognized)
            #expect(fast == full, "text: \(text)")
            recognized += fast.count
            // Without quoting, only the keywords' matched text differs: it is the keyword as written.
            let unquoted = recognizer.recognize(text, quotingEvidence: false).intents
            #expect(unquoted.map(\.name) == fast.map(\.name) && unquoted.map(\.score) == fast.map(\.score) && unquoted.map(\.slots) == fast.map(\.slots))
            #expect(unquoted.flatMap(\.evidence).map(\.source) == fast.flatMap(\.evidence).map(\.source))
            #expect(unquoted.flatMap(\.evidence).allSatisfy { $0.kind == .pattern || $0.matched == $0.source })
        }
        #expect(recognized > 100, "too few texts were recognized for the comparison to say anything")
    }
}

@Suite struct TextTokenizerTests {
    @Test("ASCII text is split byte by byte into exactly the tokens and spans the scalar-by-scalar reading gives, on 2,000 random texts")
    func asciiMatchesScalars() {
        var state: UInt64 = 3
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        // Every ASCII character (those next to the word ranges, such as `/`, `:`, `@`, `[`, `` ` `` and
        // `{`, included), with letters twice as likely.
        let alphabet = (0..<128).map { Character(Unicode.Scalar(UInt8($0))) } + Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        for _ in 0..<2_000 {
            let text = String((0..<next(40)).map { _ in alphabet[next(alphabet.count)] })
            #expect(TextTokenizer.tokens(text) == TextTokenizer.scalarTokens(text), "\(text.debugDescription)")
            let spans = TextTokenizer.spans(text)
            #expect(spans == TextTokenizer.scalarSpans(text), "\(text.debugDescription)")
            #expect(spans.map { String(text.unicodeScalars[$0]).lowercased() } == TextTokenizer.tokens(text), "\(text.debugDescription)")
        }
        #expect(TextTokenizer.tokens("Refund ORDER #12 NOW") == ["refund", "order", "12", "now"])
    }

    @Test("tokens are lowercased words; punctuation and symbols separate them", arguments: [
        ("I want my MONEY back!", ["i", "want", "my", "money", "back"]),
        ("Où est mon colis? Straße", ["où", "est", "mon", "colis", "straße"]),
        ("order_id=42, can't", ["order_id", "42", "can", "t"]),
        ("返金 please", ["返", "金", "please"]),
        ("£5 €10 — ok", ["5", "10", "ok"]),
        ("", []),
    ])
    func tokens(text: String, expected: [String]) {
        #expect(TextTokenizer.tokens(text) == expected)
        // The spans are where those tokens are written in the text.
        #expect(TextTokenizer.spans(text).map { String(text.unicodeScalars[$0]).lowercased() } == expected)
    }
}

/// A counter for worker threads in tests.
final class Counter: @unchecked Sendable {
    // @unchecked Sendable: `count` is only touched while holding `lock`.
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
