import SymphonyJSON

extension IntentMetrics {
    /// The figures as `symphony intents evaluate --format json` prints them: counts, and ratios
    /// rounded to four decimals (null when their denominator is zero), with at most `confusions`
    /// confusions; no intent is `null`.
    public func json(confusions limit: Int = .max) -> JSONValue {
        [
            "examples": .int(Int64(examples)), "correct": .int(Int64(correct)), "accuracy": Self.json(accuracy),
            "precision": Self.json(precision), "recall": Self.json(recall), "f1": Self.json(f1),
            "expecting_intent": .int(Int64(expectingIntent)), "no_intent": .int(Int64(missed)),
            "no_intent_rate": Self.json(noIntentRate),
            "expecting_none": .int(Int64(expectingNone)), "out_of_scope_hits": .int(Int64(outOfScopeHits)),
            "out_of_scope_false_positive_rate": Self.json(outOfScopeFalsePositiveRate),
            "intents": .array(
                perIntent.map { intent in
                    [
                        "name": .string(intent.name), "support": .int(Int64(intent.support)),
                        "predicted": .int(Int64(intent.predicted)), "true_positives": .int(Int64(intent.truePositives)),
                        "precision": Self.json(intent.precision), "recall": Self.json(intent.recall), "f1": Self.json(intent.f1),
                    ]
                }),
            "confusions": .array(
                confusions.prefix(limit).map { confusion in
                    [
                        "expected": confusion.expected.map { .string($0) } ?? .null,
                        "predicted": confusion.predicted.map { .string($0) } ?? .null,
                        "count": .int(Int64(confusion.count)),
                    ]
                }),
        ]
    }

    /// The headline ratios only (no counts, intents or confusions): a row of `--sweep`.
    public var summaryJSON: JSONValue {
        [
            "accuracy": Self.json(accuracy), "precision": Self.json(precision), "recall": Self.json(recall), "f1": Self.json(f1),
            "no_intent_rate": Self.json(noIntentRate), "out_of_scope_false_positive_rate": Self.json(outOfScopeFalsePositiveRate),
        ]
    }

    /// A ratio rounded to four decimals, or null.
    private static func json(_ ratio: Double?) -> JSONValue {
        ratio.map { .double(($0 * 10_000).rounded() / 10_000) } ?? .null
    }
}
