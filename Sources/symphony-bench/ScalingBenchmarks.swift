import Glibc

/// How `symphony run`'s cost per event grows with the number of rules (20, 200, 2,000), and its
/// peak memory on a long input — the measurements the end-to-end speed issue asks for.
///
/// Rules are spread over 100 event types (`svc<k>.event`), one in five with a regex condition and
/// capture, the rest with numeric conditions; every event type has the same share of rules, so
/// with more rules each event meets proportionally more candidate rules of its own type.
struct ScalingBenchmarks {
    let scale: Double

    static func rules(count: Int) -> String {
        var text = "rules:\n"
        for index in 0..<count {
            let type = "svc\(index % 100).event"
            if index % 5 == 0 {
                text += """
                      - name: r\(index)
                        on: \(type)
                        when: {field: payload.message, matches: 'code (?<code>\\d+) from (?<host>\\S+)'}
                        actions: [{emit: {type: out.r\(index), payload: {code: "{{ captures.code }}"}}}]

                    """
            } else {
                text += """
                      - name: r\(index)
                        on: \(type)
                        when: {field: payload.n, gt: \(990 + index % 10)}
                        actions: [{emit: {type: out.r\(index)}}]

                    """
            }
        }
        return text
    }

    /// Writes `count` events; `padding` adds a `body` string of about that many bytes of words.
    static func writeEvents(count: Int, to path: String, padding: Int = 0) {
        var rng = SplitMix64(seed: 99)
        let file = fopen(path, "w")!
        defer { fclose(file) }
        let words = ["lorem", "ipsum", "dolor", "sit", "amet", "status", "host", "request", "latency", "order"]
        for _ in 0..<count {
            let n = rng.next() % 1000
            var body = ""
            while body.utf8.count < padding { body += words[Int(rng.next() % UInt64(words.count))] + " " }
            let extra = padding > 0 ? #","body":"\#(body)""# : ""
            fputs(#"{"type":"svc\#(rng.next() % 100).event","payload":{"n":\#(n),"message":"status code \#(n) from host-\#(rng.next() % 20)"\#(extra)}}"# + "\n", file)
        }
    }

    func run(binary: String, into results: inout [BenchmarkResult]) throws {
        mkdir(".bench", 0o755)
        let events = Int(200_000 * scale)
        let eventsPath = ".bench/scale-events.jsonl"
        Self.writeEvents(count: events, to: eventsPath)
        for count in [20, 200, 2_000] {
            let rulesPath = ".bench/scale-rules-\(count).yaml"
            BenchProcess.write(Self.rules(count: count), to: rulesPath)
            guard let best = BenchProcess.best(of: 3, [binary, "run", "--rules", rulesPath, "--events", eventsPath, "--no-history"])?.seconds
            else { continue }
            results.append(
                BenchmarkResult(benchmark: "scale/\(count)-rules/no-history", metric: "events_per_second", value: Double(events) / best, unit: "events/s"))
            results.append(
                BenchmarkResult(benchmark: "scale/\(count)-rules/no-history", metric: "microseconds_per_event", value: best * 1e6 / Double(events), unit: "µs"))
        }
        // Cost per event against event size: the 20-rule set over events padded to ~200 B, 2 KB and 20 KB.
        BenchProcess.ensureKey(binary: binary, at: ".bench/e2e.key")
        for (size, count) in [(200, 100_000), (2_000, 40_000), (20_000, 8_000)] {
            let sized = ".bench/scale-size-\(size).jsonl"
            let events = max(1, Int(Double(count) * scale))
            Self.writeEvents(count: events, to: sized, padding: max(0, size - 110))
            for (name, extra) in [("no-history", ["--no-history"]), ("history", ["--db", ".bench/scale.db", "--key-file", ".bench/e2e.key"])] {
                let arguments = [binary, "run", "--rules", ".bench/scale-rules-20.yaml", "--events", sized] + extra
                guard let best = BenchProcess.best(of: 2, arguments, before: { BenchProcess.removeDatabase(".bench/scale.db") })?.seconds
                else { continue }
                results.append(
                    BenchmarkResult(
                        benchmark: "size/\(size)-bytes/\(name)", metric: "microseconds_per_event", value: best * 1e6 / Double(events), unit: "µs"))
            }
            unlink(sized)
        }
        // Peak memory on a long input (10× the events above), history off and on.
        let long = ".bench/scale-long.jsonl"
        Self.writeEvents(count: events * 10, to: long)
        for (name, extra) in [("no-history", ["--no-history"]), ("history", ["--db", ".bench/scale.db", "--key-file", ".bench/e2e.key"])] {
            BenchProcess.removeDatabase(".bench/scale.db")
            if let run = BenchProcess.measure([binary, "run", "--rules", ".bench/scale-rules-20.yaml", "--events", long] + extra) {
                results.append(BenchmarkResult(benchmark: "rss/\(events * 10)-events/\(name)", metric: "peak_rss", value: run.peakMiB, unit: "MiB"))
                results.append(BenchmarkResult(benchmark: "rss/\(events * 10)-events/\(name)", metric: "events_per_second", value: Double(events * 10) / run.seconds, unit: "events/s"))
            }
        }
    }
}
