import SymphonyJSON

/// One text's intent analysis as JSON, the shape `symphony intents --format json` prints and
/// `POST /v1/intents` answers: `{"text", "intents": [{"name", "score", "slots", "evidence"}]}`,
/// best intent first.
public enum IntentReport {
    /// The analysis of `text` by `recognizer`, at most `top` intents.
    public static func json(text: String, recognizer: IntentRecognizer, top: Int? = nil) -> JSONValue {
        let (scores, _) = recognizer.explain(text)
        var recognized = scores.filter(\.isRecognized)
        if let top { recognized = Array(recognized.prefix(top)) }
        return .object(object(text: text, recognized: recognized))
    }

    /// The report's members for `text` and its `recognized` intents (callers may add to it).
    public static func object(text: String, recognized: [IntentScore]) -> [String: JSONValue] {
        [
            "text": .string(text),
            "intents": .array(
                recognized.map { score in
                    [
                        "name": .string(score.name), "score": .double(score.value),
                        "slots": .object(score.slots.mapValues { .string($0) }),
                        "evidence": .array(score.evidence.map(json)),
                    ]
                }),
        ]
    }

    /// One piece of evidence: what matched, from which pattern or keyword, with what weight;
    /// `form` when a keyword matched another form than the one written, and `lexicon_entry` when
    /// a lexicon's word or phrase matched.
    public static func json(_ evidence: Evidence) -> JSONValue {
        var object: [String: JSONValue] = [
            "kind": .string(evidence.kind.rawValue), "source": .string(evidence.source),
            "weight": .double(Double(evidence.weight) / 1000), "matched": .string(evidence.matched),
        ]
        if evidence.form != .exact { object["form"] = .string(evidence.form.rawValue) }
        if let entry = evidence.lexiconEntry { object["lexicon_entry"] = .string(entry) }
        return .object(object)
    }

    /// One intent's score breakdown, recognized or not: the rows of `symphony intents --explain`.
    public static func explanation(_ score: IntentScore) -> JSONValue {
        [
            "name": .string(score.name), "score": .double(score.value),
            "threshold": .double(Double(score.threshold) / 1000), "recognized": .bool(score.isRecognized),
            "reason": score.rejection.map { .string($0) } ?? .null,
            "evidence": .array(score.evidence.map(json)),
        ]
    }
}
