import SymphonyDiagnostics
import SymphonyIntents
import Testing

@Suite struct IntentEvaluationTests {
    @Test("CSV examples: quoted commas, doubled quotes, line breaks in quotes, CRLF, blank lines, none labels")
    func csvExamples() {
        let text = "intent,text,source\r\nrefund,\"refund, please\",a\r\n\r\nnone,\"say \"\"hi\"\"\",b\n,\"two\nlines\",c\noos,bye,d\n"
        let (examples, diagnostics) = LabelledExampleReader.read(
            text, file: "ex.csv", format: .csv, noneLabels: LabelledExampleReader.defaultNoneLabels.union(["oos"]))
        #expect(diagnostics.all.isEmpty)
        #expect(examples.map(\.text) == ["refund, please", "say \"hi\"", "two\nlines", "bye"])
        #expect(examples.map(\.intent) == ["refund", nil, nil, nil])
        #expect(examples.map(\.location.line) == [2, 4, 5, 7])
    }

    @Test("malformed CSV records are reported with file, line and column; the others are read")
    func malformedCSV() {
        let text = "text,intent\nfine,a\ntoo,many,fields\n\"unterminated,b\nok,c\n"
        let (_, open) = LabelledExampleReader.read(text, file: "ex.csv", format: .csv)
        #expect(
            open.all.map(\.description) == [
                "ex.csv:4:1: error: the quoted field that starts here is never closed",
                "ex.csv:3:1: error: this row has 3 fields but the header has 2; quote a text that contains a comma",
            ])
        let (examples, diagnostics) = LabelledExampleReader.read(
            "text,intent\nsay \"hi\",a\n\"x\"y,b\n,c\ngood,d\n", file: "ex.csv", format: .csv)
        #expect(
            diagnostics.sorted.map(\.description) == [
                "ex.csv:2:5: error: a quote inside an unquoted field; quote the whole field and write the quote as \"\"",
                "ex.csv:3:4: error: unexpected character after a closing quote; a quote inside a quoted field is written \"\"",
                "ex.csv:4:1: error: the text is empty",
            ])
        #expect(examples.map(\.text) == ["good"])
        let (_, header) = LabelledExampleReader.read("text,category\nx,y\n", file: "ex.csv", format: .csv)
        #expect(header.all.map(\.description) == ["ex.csv:1:1: error: the header row must name the columns 'text' and 'intent' (found 'text', 'category')"])
        let (_, empty) = LabelledExampleReader.read("text,intent\n", file: "ex.csv", format: .csv)
        #expect(empty.all.map(\.description) == ["ex.csv:1:1: error: the file has no examples"])
    }

    @Test("JSON Lines examples: null, absent and 'none' intents expect none; malformed lines are reported with their line")
    func jsonLines() {
        let text = """
            {"text": "refund please", "intent": "refund", "split": "test"}
            {"text": "hello", "intent": null}

            {"text": "bye"}
            {"text": "hmm", "intent": "none"}
            {"text": "x", "intent": 3}
            [1, 2]
            {"intent": "a"}
            {"text": ""}
            {"text": "broken"
            """
        let (examples, diagnostics) = LabelledExampleReader.read(text, file: "ex.jsonl", format: .jsonLines)
        #expect(examples.map(\.intent) == ["refund", nil, nil, nil])
        #expect(examples.map(\.location.line) == [1, 2, 4, 5])
        #expect(diagnostics.all.map { $0.location?.line } == [6, 7, 8, 9, 10])
        #expect(diagnostics.all[0].message == "\"intent\" must be a string, null or absent")
        #expect(diagnostics.all[1].message == "expected a JSON object such as {\"text\": \"…\", \"intent\": \"…\"}")
        #expect(diagnostics.all[2].message == "the object has no \"text\" member")
        #expect(diagnostics.all[3].message == "\"text\" must be a non-empty string")
        #expect(diagnostics.all[4].message.hasPrefix("not valid JSON: "))
    }

    @Test("metrics: accuracy, micro precision and recall, per-intent figures, no-intent and out-of-scope rates, confusions")
    func metrics() {
        let metrics = IntentMetrics(
            pairs: [
                ("a", "a"), ("a", "a"), ("a", nil), ("a", "b"), ("b", "b"), ("b", "a"), (nil, nil), (nil, "a"), ("c", nil),
            ], intentNames: ["b", "a", "unused"])
        #expect(metrics.examples == 9)
        #expect(metrics.correct == 4)
        #expect(metrics.truePositives == 3)
        #expect(metrics.predictedIntent == 6)
        #expect(metrics.expectingIntent == 7)
        #expect(metrics.precision == 0.5)
        #expect(metrics.recall == 3.0 / 7)
        #expect(metrics.noIntentRate == 2.0 / 7)
        #expect(metrics.outOfScopeFalsePositiveRate == 0.5)
        #expect(metrics.perIntent.map(\.name) == ["b", "a", "unused", "c"])
        let a = metrics.perIntent[1]
        #expect((a.support, a.predicted, a.truePositives) == (4, 4, 2))
        #expect(a.precision == 0.5 && a.recall == 0.5 && a.f1 == 0.5)
        #expect(metrics.perIntent[2].precision == nil && metrics.perIntent[2].recall == nil && metrics.perIntent[2].f1 == nil)
        #expect(metrics.perIntent[3].recall == 0 && metrics.perIntent[3].f1 == nil)
        #expect(metrics.confusions.map { "\($0.expected ?? "-")>\($0.predicted ?? "-"):\($0.count)" } == ["->a:1", "a>-:1", "a>b:1", "b>a:1", "c>-:1"])
    }

    @Test("a global threshold overrides each intent's own; excluded and required entries still rule an intent out")
    func thresholdOverride() throws {
        let recognizer = try IntentRecognizer([
            IntentDefinition(name: "low", keywords: [.init(text: "alpha", weight: 300)], threshold: 200),
            IntentDefinition(name: "high", keywords: [.init(text: "beta", weight: 600)], exclude: ["gamma"], threshold: 700),
        ])
        let evaluation = IntentEvaluation(
            examples: [
                LabelledExample(text: "alpha", intent: "low", location: SourceLocation(file: "f", line: 1, column: 1)),
                LabelledExample(text: "beta", intent: "high", location: SourceLocation(file: "f", line: 2, column: 1)),
                LabelledExample(text: "beta gamma", intent: nil, location: SourceLocation(file: "f", line: 3, column: 1)),
            ], recognizer: recognizer)
        #expect(evaluation.outcomes.map { $0.predicted()?.name } == ["low", nil, nil])
        #expect(evaluation.outcomes.map { $0.predicted(threshold: 500)?.name } == [nil, "high", nil])
        #expect(evaluation.metrics().correct == 2)
        #expect(evaluation.metrics(threshold: 500).correct == 2)
        #expect(evaluation.metrics(threshold: 100).correct == 3)
        #expect(evaluation.undefinedLabels.isEmpty)
    }
}
