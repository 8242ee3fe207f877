/// How a recognizer does on labelled examples: each example's scores and predicted intent, from
/// which `metrics(threshold:)` computes accuracy, precision, recall and confusions.
///
/// The prediction for a text is its best recognized intent (the first of `recognize`), or none.
/// Scores are computed once per text (with `explain`), so metrics at other thresholds cost no
/// recognition.
public struct IntentEvaluation: Sendable {
    /// One example and what the recognizer made of it.
    public struct Outcome: Sendable, Hashable {
        /// The labelled example.
        public let example: LabelledExample
        /// Every intent's score, best first, recognized or not.
        public let scores: [IntentScore]
        /// Patterns that hit a resource limit on this text (they counted as no match).
        public let problems: [RecognitionProblem]

        /// The best intent recognized with each intent's own threshold, or with `threshold` for every
        /// intent when given (thousandths); nil when none is recognized.
        public func predicted(threshold: Int? = nil) -> IntentScore? {
            guard let threshold else { return scores.first(where: \.isRecognized) }
            return scores.first { $0.isRecognized(threshold: threshold) }
        }
    }

    /// The thresholds `--sweep` tries: 0.05 to 1 in steps of 0.05, in thousandths.
    public static let sweepThresholds = Array(stride(from: 50, through: 1000, by: 50))

    /// The examples' outcomes, in input order.
    public let outcomes: [Outcome]
    /// The names of the recognizer's intents, in definition order.
    public let intentNames: [String]

    /// Classifies every example with `recognizer`.
    public init(examples: [LabelledExample], recognizer: IntentRecognizer) {
        intentNames = recognizer.definitions.map(\.name)
        outcomes = examples.map { example in
            let (scores, problems) = recognizer.explain(example.text)
            return Outcome(example: example, scores: scores, problems: problems)
        }
    }

    /// Expected intents that the rule set does not define, each with the first example naming it.
    public var undefinedLabels: [(name: String, example: LabelledExample)] {
        let defined = Set(intentNames)
        var seen: Set<String> = []
        var undefined: [(name: String, example: LabelledExample)] = []
        for outcome in outcomes {
            guard let name = outcome.example.intent, !defined.contains(name), seen.insert(name).inserted else { continue }
            undefined.append((name, outcome.example))
        }
        return undefined
    }

    /// The figures with each intent's own threshold, or with `threshold` (thousandths) for every intent.
    public func metrics(threshold: Int? = nil) -> IntentMetrics {
        IntentMetrics(pairs: outcomes.map { ($0.example.intent, $0.predicted(threshold: threshold)?.name) }, intentNames: intentNames)
    }
}
