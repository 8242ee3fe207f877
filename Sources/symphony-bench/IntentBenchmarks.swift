import Glibc
import SymphonyIntents

/// Intent recognition throughput: texts per second (and µs per text) on one thread for 10, 100 and
/// 1,000 intents, with stemming on and off, and with typo tolerance.
///
/// Each synthetic intent has one regex pattern (a literal word, a gap and a named capture, like
/// the shipped triage intents) and four keywords drawn from a 2,000-word vocabulary; texts are
/// ~100 bytes of vocabulary words, a few of which hit some intent.
struct IntentBenchmarks {
    let scale: Double

    static func words(_ count: Int) -> [String] {
        var rng = SplitMix64(seed: 7)
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        return (0..<count).map { _ in
            String((0..<(4 + Int(rng.next() % 5))).map { _ in letters[Int(rng.next() % 26)] })
        }
    }

    func run(intentCounts: [Int], into results: inout [BenchmarkResult]) throws {
        let vocabulary = Self.words(2_000)
        var rng = SplitMix64(seed: 11)
        func word() -> String { vocabulary[Int(rng.next() % UInt64(vocabulary.count))] }
        var texts: [String] = []
        var recognized = 0
        for _ in 0..<1_000 {
            var text = ""
            while text.utf8.count < 90 { text += (text.isEmpty ? "" : " ") + word() }
            texts.append(text + " order 1234")
        }
        for count in intentCounts {
            let definitions = (0..<count).map { index in
                IntentDefinition(
                    name: "intent_\(index)",
                    patterns: [.init(regex: "\\b\(word())\\b.{0,40}?order\\s*(?<order>\\d+)", weight: 600)],
                    keywords: (0..<4).map { _ in .init(text: word(), weight: 300) })
            }
            // Stemming on (the default: every token is stemmed once per text), off, and on with typo tolerance.
            for (variant, stemming, typos) in [("stemming-on", true, false), ("stemming-off", false, false), ("typos-on", true, true)] {
                let recognizer = try IntentRecognizer(definitions.map { definition in
                    var definition = definition
                    definition.stemming = stemming
                    definition.typos = typos
                    return definition
                })
                let iterations = max(1, Int(200.0 * scale))
                let start = RuntimeBenchmarks.monotonicNanoseconds()
                for _ in 0..<iterations {
                    for text in texts { recognized &+= recognizer.recognize(text).intents.count }
                }
                let seconds = Double(RuntimeBenchmarks.monotonicNanoseconds() - start) / 1e9
                let name = "intents/\(count)-intents/1-thread/\(variant)"
                let perSecond = Double(iterations * texts.count) / seconds
                results.append(BenchmarkResult(benchmark: name, metric: "texts_per_second", value: perSecond, unit: "texts/s"))
                results.append(BenchmarkResult(benchmark: name, metric: "cost_per_text", value: 1e6 / perSecond, unit: "µs"))
            }
            if recognized < 0 { print(recognized) }  // keep the work observable
        }
    }
}
