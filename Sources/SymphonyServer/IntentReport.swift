import SymphonyIntents
import SymphonyJSON

/// The JSON of one text's intent analysis, as `symphony intents --format json` prints it:
/// `{"text", "intents": [{"name", "score", "slots", "evidence"}]}`, best intent first.
public enum IntentReport {
    /// The analysis of `text` by `recognizer`, at most `top` intents.
    public static func json(text: String, recognizer: IntentRecognizer, top: Int? = nil) -> JSONValue {
        let (scores, _) = recognizer.explain(text)
        var recognized = scores.filter(\.isRecognized)
        if let top { recognized = Array(recognized.prefix(top)) }
        return [
            "text": .string(text),
            "intents": .array(
                recognized.map { score in
                    [
                        "name": .string(score.name), "score": .double(score.value),
                        "slots": .object(score.slots.mapValues { .string($0) }),
                        "evidence": .array(
                            score.evidence.map { evidence in
                                [
                                    "kind": .string(evidence.kind.rawValue), "source": .string(evidence.source),
                                    "weight": .double(Double(evidence.weight) / 1000), "matched": .string(evidence.matched),
                                ]
                            }),
                    ]
                }),
        ]
    }
}
