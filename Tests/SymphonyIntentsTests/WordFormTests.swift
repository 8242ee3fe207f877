import Foundation
import SymphonyDiagnostics
import SymphonyIntents
import SymphonyJSON
import SymphonyStemming
import Testing

/// Keywords, `require` and `exclude` entries match inflected forms through Snowball stemmers.
@Suite struct WordFormTests {
    typealias Keyword = IntentDefinition.Keyword

    static let cancel = IntentDefinition(
        name: "cancel", keywords: [Keyword(text: "cancel", weight: 300), Keyword(text: "reset password", weight: 300)], threshold: 100)

    func evidence(_ recognizer: IntentRecognizer, _ text: String) -> [String] {
        recognizer.explain(text).scores.first?.evidence.map(\.summary) ?? []
    }

    @Test("libstemmer's English stemmer: inflected forms share a stem; unknown languages have no stemmer")
    func stemmer() throws {
        let english = try #require(Stemmer(language: "english"))
        #expect(english.stems(["cancel", "cancelled", "cancels", "cancelling", "passwords", "refunded"]) == [
            "cancel", "cancel", "cancel", "cancel", "password", "refund",
        ])
        #expect(Stemmer.languages.contains("french"))
        #expect(Stemmer(language: "klingon") == nil)
    }

    @Test("remembered stems are the stems: words stemmed again, past the memo's limit and back, stem as before")
    func rememberedStems() throws {
        let english = try #require(Stemmer(language: "english"))
        let french = try #require(Stemmer(language: "french"))
        let words = (0..<10_000).map { ["cancelled", "running", "connections", "généralement"][$0 % 4] + String($0 % 2_500) } + ["cancelled", "généralement"]
        let first = english.stems(words)
        #expect(english.stems(words) == first)
        #expect(english.stem("cancelled") == "cancel")
        // The same word in another language has its own stem, not the English one remembered.
        #expect(french.stem("généralement") == "général")
        #expect(english.stem("généralement") == first.last)
    }

    @Test("a keyword matches a word spelled with other code points that are canonically equivalent, with stemming and without", arguments: [true, false])
    func canonicallyEquivalentSpellings(stemming: Bool) throws {
        for (keyword, text) in [("caf\u{E9}", "Best cafe\u{301} in town"), ("cafe\u{301}", "Best CAF\u{C9} in town"), ("na\u{EF}ve", "a NAI\u{308}VE guess")] {
            let recognizer = try IntentRecognizer([
                IntentDefinition(name: "word", keywords: [Keyword(text: keyword, weight: 300)], threshold: 100, stemming: stemming)
            ])
            #expect(recognizer.recognize(text).intents.map(\.name) == ["word"], "\(keyword) in \(text)")
            #expect(recognizer.recognize("Best cafe in town").intents.isEmpty)
        }
    }

    @Test("with stemming (the default) a keyword matches its inflected forms; the evidence names the form found")
    func inflectedForms() throws {
        let recognizer = try IntentRecognizer([Self.cancel])
        #expect(evidence(recognizer, "Cancelled!") == ["keyword 'cancel' ← Cancelled +0.3"])
        #expect(evidence(recognizer, "he cancels") == ["keyword 'cancel' ← cancels +0.3"])
        #expect(evidence(recognizer, "CANCEL it") == ["keyword 'cancel' +0.3"])  // the form written, in another case
        #expect(evidence(recognizer, "Resetting PASSWORDS") == ["keyword 'reset password' ← Resetting PASSWORDS +0.3"])
        #expect(evidence(recognizer, "cancellation") == ["keyword 'cancel' ← cancellation +0.3"])  // Snowball's English stems it so
        #expect(evidence(recognizer, "I can, can't you?") == [])  // another word, another stem
        let score = try #require(recognizer.recognize("cancelling").intents.first)
        #expect(score.evidence.first?.form == .stem)
        #expect(score.evidence.first?.matched == "cancelling")
        #expect(
            IntentReport.json(try #require(score.evidence.first)).jsonText
                == #"{"form":"stem","kind":"keyword","matched":"cancelling","source":"cancel","weight":0.3}"#)
    }

    @Test("stemming: false, and a leading '=' on one keyword, match the form written only")
    func exactForms() throws {
        var off = Self.cancel
        off.stemming = false
        #expect(evidence(try IntentRecognizer([off]), "cancelled") == [])
        #expect(evidence(try IntentRecognizer([off]), "Cancel") == ["keyword 'cancel' +0.3"])
        let marked = IntentDefinition(name: "login", keywords: [Keyword(text: "=login", weight: 300), Keyword(text: "account", weight: 300)], threshold: 100)
        let recognizer = try IntentRecognizer([marked])
        #expect(evidence(recognizer, "logins and accounts") == ["keyword 'account' ← accounts +0.3"])
        #expect(evidence(recognizer, "Login") == ["keyword '=login' +0.3"])
    }

    @Test("require and exclude entries match inflected forms too, unless marked with '='")
    func requireAndExclude() throws {
        let intent = IntentDefinition(
            name: "refund", keywords: [Keyword(text: "money back", weight: 600)], require: ["order"], exclude: ["refuse", "=no"])
        let recognizer = try IntentRecognizer([intent])
        #expect(recognizer.recognize("money back for my orders").intents.map(\.name) == ["refund"])
        #expect(recognizer.recognize("money back").intents.isEmpty)
        #expect(recognizer.explain("money back, order refused").scores.first?.rejection == "excluded 'refuse' is present")
        #expect(recognizer.recognize("money back for my order, nos 1 and 2").intents.map(\.name) == ["refund"])
    }

    @Test("each intent stems in its own language; one recognizer mixes languages")
    func languages() throws {
        let recognizer = try IntentRecognizer([
            IntentDefinition(name: "fr", keywords: [Keyword(text: "remboursement", weight: 600)], language: "french"),
            IntentDefinition(name: "de", keywords: [Keyword(text: "Erstattung", weight: 600)], language: "german"),
            IntentDefinition(name: "en", keywords: [Keyword(text: "refund", weight: 600)]),
        ])
        #expect(recognizer.recognize("les remboursements").intents.map(\.name) == ["fr"])
        #expect(recognizer.recognize("Erstattungen bitte").intents.map(\.name) == ["de"])
        #expect(recognizer.recognize("refunds").intents.map(\.name) == ["en"])
    }

    @Test("an unknown language is an error: from the loader at its line with a suggestion, and from the recognizer")
    func unknownLanguage() throws {
        let (_, diagnostics) = IntentSetLoader.load(documents: [
            (
                "a.yaml",
                "intents:\n  - name: x\n    language: englsh\n    stemming: maybe\n    keywords: [a]\n"
            )
        ])
        let lines = diagnostics.sorted.map(\.description)
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("a.yaml:3:15: error: unknown stemming language 'englsh'; did you mean 'english'?; the languages are ") == true)
        #expect(lines.last == "a.yaml:4:15: error: 'stemming' must be true or false, not a string")
        #expect(throws: DiagnosticsError.self) {
            try IntentRecognizer([IntentDefinition(name: "x", keywords: [Keyword(text: "a", weight: 600)], language: "klingon")])
        }
        // A language is not needed when stemming is off.
        _ = try IntentRecognizer([IntentDefinition(name: "x", keywords: [Keyword(text: "a", weight: 600)], language: "klingon", stemming: false)])
    }

    @Test("the loader reads language and stemming; the defaults are english and on")
    func loaderFields() throws {
        let (definitions, diagnostics) = IntentSetLoader.load(documents: [
            (
                "a.yaml",
                "intents:\n  - name: fr\n    language: french\n    keywords: [remboursement]\n  - name: off\n    stemming: false\n    keywords: [a]\n"
            )
        ])
        #expect(diagnostics.all.isEmpty, "\(diagnostics)")
        #expect(definitions.map(\.language) == ["french", "english"])
        #expect(definitions.map(\.stemming) == [true, false])
    }

    @Test("two keywords with the same stems are a warning and count once; '=' and stemming: false keep forms apart")
    func sameStemKeywords() throws {
        let (definitions, diagnostics) = IntentSetLoader.load(documents: [
            (
                "a.yaml",
                """
                intents:
                  - name: refund
                    keywords: [refund, refunds, =refunds, { keyword: Refunding, weight: 0.5 }]
                  - name: exact
                    stemming: false
                    keywords: [refund, refunds]
                """
            )
        ])
        #expect(
            diagnostics.sorted.map(\.description) == [
                "a.yaml:3:24: warning: keyword 'refunds' matches the same words as 'refund' in intent 'refund' (the same stems, 'refund'); it counts once",
                "a.yaml:3:54: warning: keyword 'Refunding' matches the same words as 'refund' in intent 'refund' (the same stems, 'refund'); it counts once",
            ])
        #expect(definitions.map { $0.keywords.map(\.text) } == [["refund", "=refunds"], ["refund", "refunds"]])
    }

    @Test("many threads stemming at once get the same stems as one thread")
    func concurrentStemming() throws {
        let recognizer = try IntentRecognizer([Self.cancel])
        let texts = (0..<200).map { "we cancelled \($0) orders and are resetting passwords" }
        let expected = texts.map { recognizer.explain($0).scores.first?.score }
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for (index, text) in texts.enumerated() where recognizer.explain(text).scores.first?.score != expected[index] {
                failures.increment()
            }
        }
        #expect(failures.value == 0)
        #expect(expected.first == 600)
    }
}
