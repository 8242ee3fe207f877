/// Accuracy, precision, recall and confusions of predicted intents against expected ones.
///
/// A prediction is one intent or none per text. Precision and recall are over intents: a text
/// that expects no intent can only lower precision (when something is recognized), and a text
/// that expects one and gets none lowers recall. Ratios are nil when their denominator is zero.
public struct IntentMetrics: Sendable, Hashable {
    /// One intent's figures.
    public struct PerIntent: Sendable, Hashable {
        /// The intent's name.
        public let name: String
        /// Texts expecting this intent.
        public let support: Int
        /// Texts for which it was predicted.
        public let predicted: Int
        /// Texts expecting it for which it was predicted.
        public let truePositives: Int
        /// truePositives / predicted.
        public var precision: Double? { ratio(truePositives, predicted) }
        /// truePositives / support.
        public var recall: Double? { ratio(truePositives, support) }
        /// The harmonic mean of precision and recall.
        public var f1: Double? { harmonicMean(precision, recall) }
    }

    /// How often one expected intent (or none) was taken for another.
    public struct Confusion: Sendable, Hashable {
        /// The expected intent, nil for none.
        public let expected: String?
        /// The predicted intent, nil for none.
        public let predicted: String?
        /// How many texts.
        public let count: Int
    }

    /// Number of examples.
    public let examples: Int
    /// Examples whose prediction equals the expectation (none for none counts).
    public let correct: Int
    /// Examples that expect an intent.
    public let expectingIntent: Int
    /// Examples that expect an intent and got none.
    public let missed: Int
    /// Examples that expect no intent.
    public let expectingNone: Int
    /// Examples that expect no intent and got one.
    public let outOfScopeHits: Int
    /// Examples for which some intent was predicted.
    public let predictedIntent: Int
    /// Examples that expect an intent and got exactly it.
    public let truePositives: Int
    /// Per intent: every intent of the rule set, then expected intents it does not define, by name.
    public let perIntent: [PerIntent]
    /// Every (expected, predicted) pair that differs, most frequent first, then by names (none first).
    public let confusions: [Confusion]

    /// correct / examples.
    public var accuracy: Double? { ratio(correct, examples) }
    /// Over intents: truePositives / predictedIntent.
    public var precision: Double? { ratio(truePositives, predictedIntent) }
    /// Over intents: truePositives / expectingIntent.
    public var recall: Double? { ratio(truePositives, expectingIntent) }
    /// The harmonic mean of `precision` and `recall`.
    public var f1: Double? { harmonicMean(precision, recall) }
    /// missed / expectingIntent: texts that should have an intent but got none.
    public var noIntentRate: Double? { ratio(missed, expectingIntent) }
    /// outOfScopeHits / expectingNone: texts that should have no intent but got one.
    public var outOfScopeFalsePositiveRate: Double? { ratio(outOfScopeHits, expectingNone) }

    /// The figures of (expected, predicted) pairs; `intentNames` lists the rule set's intents in order.
    public init(pairs: [(expected: String?, predicted: String?)], intentNames: [String]) {
        var support: [String: Int] = [:]
        var predictedCounts: [String: Int] = [:]
        var hits: [String: Int] = [:]
        var confusions: [Pair: Int] = [:]
        var correct = 0
        var missed = 0
        var expectingNone = 0
        var outOfScopeHits = 0
        var predictedIntent = 0
        for (expected, predicted) in pairs {
            if let expected { support[expected, default: 0] += 1 } else { expectingNone += 1 }
            if let predicted {
                predictedCounts[predicted, default: 0] += 1
                predictedIntent += 1
            }
            if expected == predicted {
                correct += 1
                if let expected { hits[expected, default: 0] += 1 }
                continue
            }
            confusions[Pair(expected: expected, predicted: predicted), default: 0] += 1
            if expected == nil { outOfScopeHits += 1 }
            if predicted == nil { missed += 1 }
        }
        examples = pairs.count
        self.correct = correct
        self.missed = missed
        self.expectingNone = expectingNone
        self.outOfScopeHits = outOfScopeHits
        self.predictedIntent = predictedIntent
        expectingIntent = pairs.count - expectingNone
        truePositives = hits.values.reduce(0, +)
        let defined = Set(intentNames)
        let names = intentNames + Set(support.keys).subtracting(defined).sorted()
        perIntent = names.map { name in
            PerIntent(name: name, support: support[name] ?? 0, predicted: predictedCounts[name] ?? 0, truePositives: hits[name] ?? 0)
        }
        self.confusions = confusions.map { Confusion(expected: $0.key.expected, predicted: $0.key.predicted, count: $0.value) }
            .sorted { lhs, rhs in
                if lhs.count != rhs.count { return lhs.count > rhs.count }
                if lhs.expected != rhs.expected { return (lhs.expected ?? "") < (rhs.expected ?? "") }
                return (lhs.predicted ?? "") < (rhs.predicted ?? "")
            }
    }

    private struct Pair: Hashable {
        let expected: String?
        let predicted: String?
    }
}

private func ratio(_ numerator: Int, _ denominator: Int) -> Double? {
    denominator == 0 ? nil : Double(numerator) / Double(denominator)
}

private func harmonicMean(_ precision: Double?, _ recall: Double?) -> Double? {
    guard let precision, let recall else { return nil }
    return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
}
