import SymphonyIntents
import SymphonyStemming
import Testing

@Suite struct UnicodeOrderingTests {
    typealias Keyword = IntentDefinition.Keyword

    @Test("ties are broken by intent name in code-point order: U+212A KELVIN SIGN sorts after 'Z'")
    func tiesInCodePointOrder() throws {
        let names = ["\u{212A}elvin", "Zulu", "alpha", "Kilo", "\u{00C5}ngström", "A\u{030A}ngström"]
        let recognizer = try IntentRecognizer(names.map { IntentDefinition(name: $0, keywords: [Keyword(text: "tie", weight: 600)]) })
        let ranked = recognizer.recognize("a tie").intents.map(\.name)
        #expect(ranked == ["A\u{030A}ngström", "Kilo", "Zulu", "alpha", "\u{00C5}ngström", "\u{212A}elvin"])
        #expect(recognizer.explain("a tie").scores.map(\.name) == ranked)
    }

    @Test("Greek final sigma: ς and σ are the same letter in tokens, so ΛΟΓΟΣ matches λογος")
    func finalSigma() throws {
        #expect(TextTokenizer.tokens("ΛΟΓΟΣ λογος λογοσ") == ["λογοσ", "λογοσ", "λογοσ"])
        #expect(TextTokenizer.tokens("ΣΟΦΟΣ σοφός") == ["σοφοσ", "σοφόσ"])
        let exact = IntentDefinition(name: "word", keywords: [Keyword(text: "λόγος", weight: 600)], stemming: false)
        let recognizer = try IntentRecognizer([exact])
        for text in ["ΛΌΓΟΣ", "λόγος", "Λόγοσ!"] {
            #expect(recognizer.recognize(text).intents.map(\.name) == ["word"], "\(text)")
        }
        // Greek stemming works on the folded form as well.
        let stemmed = IntentDefinition(name: "road", keywords: [Keyword(text: "δρόμος", weight: 600)], language: "greek")
        let greek = try IntentRecognizer([stemmed])
        #expect(greek.recognize("ΔΡΌΜΟΣ").intents.map(\.name) == ["road"])
        #expect(greek.recognize("οι δρόμοι").intents.map(\.name) == ["road"])
    }
}
