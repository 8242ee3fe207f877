import SymphonyDiagnostics
import SymphonyIntents
import SymphonyJSON
import Testing

/// `typos: true`: keyword words of five or more characters also match with one typo.
@Suite struct TypoToleranceTests {
    typealias Keyword = IntentDefinition.Keyword

    static func intent(typos: Bool = true, stemming: Bool = true) -> IntentDefinition {
        IntentDefinition(
            name: "refund",
            keywords: [
                Keyword(text: "refund", weight: 300), Keyword(text: "money back", weight: 300), Keyword(text: "bug", weight: 300),
                Keyword(text: "=invoice", weight: 300), Keyword(text: "password reset", weight: 300),
            ],
            exclude: ["cancel"], threshold: 100, stemming: stemming, typos: typos)
    }

    func evidence(_ text: String, typos: Bool = true, stemming: Bool = true) throws -> [String] {
        try IntentRecognizer([Self.intent(typos: typos, stemming: stemming)]).explain(text).scores.first?.evidence.map(\.summary) ?? []
    }

    @Test(
        "one insertion, deletion, substitution or swap of neighbours is tolerated, and named in the evidence",
        arguments: [
            ("refnud", "refnud"), ("rfund", "rfund"), ("refuund", "refuund"), ("refumd", "refumd"), ("REFUDN", "REFUDN"),
        ])
    func oneEdit(text: String, matched: String) throws {
        #expect(try evidence(text) == ["keyword 'refund' ← \(matched) (typo) +0.3"])
    }

    @Test("two edits, short words, '=' keywords, exclude entries and intents without typos: true are not tolerated")
    func notTolerated() throws {
        #expect(try evidence("rfnud") == [])  // two edits
        #expect(try evidence("bgu") == [])  // 'bug' is shorter than five characters
        #expect(try evidence("mony bakc") == [])  // 'back' is too short for a typo
        #expect(try evidence("invocie") == [])  // '=invoice' keeps its written form
        #expect(try evidence("refnud", typos: false) == [])
        let recognizer = try IntentRecognizer([Self.intent()])
        #expect(recognizer.recognize("cancle my refund").intents.map(\.name) == ["refund"])  // 'cancel' is excluded only as written or by stem
        #expect(recognizer.recognize("cancel my refund").intents.isEmpty)
    }

    @Test("phrases tolerate a typo in any long word; stems tolerate one too (refnuds → refnud ≈ refund)")
    func phrasesAndStems() throws {
        #expect(try evidence("moeny back") == ["keyword 'money back' ← moeny back (typo) +0.3"])
        #expect(try evidence("pasword reset") == ["keyword 'password reset' ← pasword reset (typo) +0.3"])
        #expect(try evidence("pasword resets") == ["keyword 'password reset' ← pasword resets (typo) +0.3"])
        #expect(try evidence("refnuds") == ["keyword 'refund' ← refnuds (typo) +0.3"])
        #expect(try evidence("refnuds", stemming: false) == [])  // two edits from 'refund' as written
        #expect(try evidence("refund") == ["keyword 'refund' +0.3"])  // an exact match is not a typo
    }

    @Test("typo evidence in JSON; the loader reads 'typos'")
    func jsonAndLoader() throws {
        let score = try #require(try IntentRecognizer([Self.intent()]).recognize("refnud").intents.first)
        #expect(
            IntentReport.json(try #require(score.evidence.first)).jsonText
                == #"{"form":"typo","kind":"keyword","matched":"refnud","source":"refund","weight":0.3}"#)
        let (definitions, diagnostics) = IntentSetLoader.load(documents: [
            ("a.yaml", "intents:\n  - name: a\n    typos: true\n    keywords: [refund]\n  - name: b\n    typos: sometimes\n    keywords: [x]\n")
        ])
        #expect(definitions.map(\.typos) == [true])
        #expect(diagnostics.all.map(\.description) == ["a.yaml:6:12: error: 'typos' must be true or false, not a string"])
    }
}
