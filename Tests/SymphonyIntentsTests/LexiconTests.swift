import SymphonyDiagnostics
import SymphonyIntents
import SymphonyJSON
import Testing

/// `lexicons:`: named word lists shared by a rule set's intents, used as `@name`.
@Suite struct LexiconTests {
    static let rules = """
        lexicons:
          currency: [money, cash, funds, moola, money back]
          order_words: [order, purchase, =item]
        intents:
          - name: refund_request
            keywords:
              - { keyword: '@currency', weight: 0.3 }
              - { keyword: refund, weight: 0.3 }
            require: ['@order_words']
          - name: billing_question
            keywords: ['@currency', invoice]
            exclude: ['@order_words']
            threshold: 0.3
        """

    func recognizer(_ text: String = LexiconTests.rules) throws -> IntentRecognizer {
        let (definitions, diagnostics) = IntentSetLoader.load(documents: [("a.yaml", text)])
        #expect(diagnostics.all.isEmpty, "\(diagnostics)")
        return try IntentRecognizer(definitions)
    }

    @Test("a '@name' keyword fires for any word or phrase of the lexicon, by stem, and counts once")
    func keywordFromLexicon() throws {
        let recognizer = try recognizer()
        let refund = try #require(recognizer.recognize("Refund the cash and funds for my purchases").intents.first)
        #expect(refund.name == "refund_request")
        #expect(refund.score == 600)  // '@currency' once (cash, funds), 'refund' once
        #expect(refund.evidence.map(\.summary) == ["keyword '@currency' ← cash +0.3", "keyword 'refund' +0.3"])
        #expect(refund.evidence.first?.lexiconEntry == "cash")
        #expect(
            IntentReport.json(try #require(refund.evidence.first)).jsonText
                == #"{"kind":"keyword","lexicon_entry":"cash","matched":"cash","source":"@currency","weight":0.3}"#)
        let phrase = try #require(recognizer.explain("I want my Money Back").scores.first { $0.name == "billing_question" })
        #expect(phrase.evidence.map(\.summary) == ["keyword '@currency' ← Money Back +0.3"])  // the first found; there, the longest
    }

    @Test("'@name' in require needs one of the lexicon's words; in exclude, any of them rules the intent out; '=' entries keep their form")
    func requireAndExclude() throws {
        let recognizer = try recognizer()
        #expect(recognizer.recognize("refund my moola").intents.map(\.name) == ["billing_question"])
        #expect(recognizer.recognize("refund my moola for the item").intents.map(\.name) == ["refund_request"])
        #expect(recognizer.recognize("refund my moola for the items").intents.map(\.name) == ["billing_question"])  // '=item'
        #expect(recognizer.explain("cash for the order").scores.first { $0.name == "billing_question" }?.rejection == "excluded '@order_words' is present")
    }

    @Test("lexicons are shared by every file of the rule set")
    func acrossFiles() throws {
        let (definitions, diagnostics) = IntentSetLoader.load(documents: [
            ("words.yaml", "lexicons:\n  greeting: [hello, hi, good morning]\n"),
            ("intents.yaml", "intents:\n  - name: hello\n    keywords: [{ keyword: '@greeting', weight: 0.6 }]\n"),
        ])
        #expect(diagnostics.all.isEmpty, "\(diagnostics)")
        #expect(definitions.first?.lexicons == ["greeting": ["hello", "hi", "good morning"]])
        #expect(try IntentRecognizer(definitions).recognize("Good mornings!").intents.map(\.name) == ["hello"])
    }

    @Test("lexicon errors are located, with the closest name; an unused lexicon is a warning")
    func diagnostics() {
        let (_, diagnostics) = IntentSetLoader.load(documents: [
            (
                "a.yaml",
                """
                lexicons:
                  currency: [money, cash]
                  nested: [money, '@currency', '!!!']
                  spare: [x]
                  bad name: [y]
                  empty: []
                intents:
                  - name: refund
                    keywords: ['@curency', refund]
                    require: ['@nowhere']
                    exclude: ['@nested']
                """
            ),
            ("b.yaml", "lexicons:\n  currency: [euro]\n"),
            ("c.yaml", "lexicons: [a, b]\n"),
        ])
        #expect(
            diagnostics.sorted.map(\.description) == [
                "a.yaml:2:3: warning: lexicon 'currency' is not used by any intent",
                "a.yaml:3:20: error: lexicon 'nested' refers to '@currency'; a lexicon lists words and phrases, not other lexicons",
                "a.yaml:3:33: error: lexicon 'nested' entry '!!!' has no letters or digits to match",
                "a.yaml:4:3: warning: lexicon 'spare' is not used by any intent",
                "a.yaml:5:3: error: lexicon name 'bad name' must be letters, digits, '_', '-' or '.'",
                "a.yaml:6:3: warning: lexicon 'empty' is not used by any intent",
                "a.yaml:6:10: error: lexicon 'empty' is empty",
                "a.yaml:9:17: error: unknown lexicon 'curency' in '@curency' of intent 'refund'; did you mean 'currency'?",
                "a.yaml:10:16: error: unknown lexicon 'nowhere' in '@nowhere' of intent 'refund'",
                "b.yaml:2:3: error: duplicate lexicon 'currency'; it is first defined at a.yaml:2:3",
                "c.yaml:1:11: error: 'lexicons' must be a mapping of names to lists of words, not a list",
            ])
    }

    @Test("an unquoted '@name' is a YAML syntax error that says to quote it")
    func unquoted() {
        let (_, diagnostics) = IntentSetLoader.load(documents: [("a.yaml", "intents:\n  - name: x\n    keywords: [@currency]\n")])
        #expect(diagnostics.all.count == 1)
        #expect(diagnostics.all.first?.description.hasPrefix("a.yaml:3:16: error: YAML syntax error: ") == true)
        #expect(diagnostics.all.first?.description.hasSuffix("\n  hint: a value that starts with '@' must be quoted, as in '@currency'") == true)
    }

    @Test("the Swift API: a definition carries the lexicons it uses; an unknown one is an error")
    func swiftAPI() throws {
        let keyword = IntentDefinition.Keyword(text: "@greeting", weight: 600)
        let known = IntentDefinition(name: "hello", keywords: [keyword], lexicons: ["greeting": ["hello", "hi"]])
        #expect(try IntentRecognizer([known]).recognize("hi there").intents.map(\.name) == ["hello"])
        #expect(throws: DiagnosticsError.self) { try IntentRecognizer([IntentDefinition(name: "hello", keywords: [keyword])]) }
    }
}
