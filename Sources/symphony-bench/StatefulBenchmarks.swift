import Glibc

/// What a `count:` gate costs (`symphony-bench --only stateful`): CPU per matching event and the
/// memory of its per-key state, measured on `symphony run --no-history` as child processes.
///
/// - **CPU**: 1,000,000 events over 100,000 distinct keys (`payload.ip`, each key 10 times, in
///   seeded random order, event times 1 ms apart). Run (a) has a stateless rule whose condition
///   holds for every event and audits; run (b) is the same rule with
///   `count: {key: "{{ payload.ip }}", at_least: 5, within: 10m}`. The overhead is (b)'s CPU
///   minus (a)'s, per matching event (every event matches). Target ≤ 2 µs. Since (b) audits only
///   when its gate fires (about a fifth of the events), the audits it saves offset part of the
///   gate's cost; the same pair with `actions: [stop]` measures the gate almost alone.
/// - **Memory**: 1,000,000 events with 1,000,000 distinct keys, under the stateless rule and under
///   `count: {…, at_least: 5, within: 24h, max_keys: 2000000}`, where every event is held and every
///   key keeps a window to the end. State memory is the peak RSS (`VmHWM`) of the second minus
///   the first. Target < 200 MB.
///
/// Each configuration runs three times, interleaved; CPU keeps the lowest, peak RSS the lowest
/// (the least disturbed run). The runs' summary lines are checked: (a) must fire every event,
/// (b) must have its gate hold events, and the distinct-key run must hold all of them.
struct StatefulBenchmarks {
    let events: Int
    let keys: Int

    static let repeatedPath = ".bench/stateful-repeated-keys.jsonl"
    static let distinctPath = ".bench/stateful-distinct-keys.jsonl"

    static let audit = #"[{audit: "failure for {{ payload.user }} from {{ payload.ip }}"}]"#

    static func rules(gate: String?, actions: String = audit) -> String {
        "rules:\n  - name: failures\n    on: auth.failure\n    when: {field: payload.result, equals: failure}\n    actions: \(actions)\n"
            + (gate.map { "    count: \($0)\n" } ?? "")
    }

    /// An IPv4 address for key number `key` (distinct for every key below 2²⁴).
    static func address(_ key: Int) -> String { "10.\(key >> 16).\((key >> 8) & 255).\(key & 255)" }

    /// RFC 3339 for `milliseconds` after 2026-12-01T00:00:00Z (less than a day).
    static func time(_ milliseconds: Int) -> String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let seconds = milliseconds / 1000
        let fraction = milliseconds % 1000
        let millis = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return "2026-12-01T\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60)).\(millis)Z"
    }

    /// Writes `count` events, event `i` with key `keyOf(i)`, 1 ms apart.
    static func writeEvents(count: Int, to path: String, keyOf: (Int) -> Int) {
        let file = fopen(path, "w")!
        defer { fclose(file) }
        for index in 0..<count {
            let key = keyOf(index)
            fputs(
                #"{"type":"auth.failure","time":"\#(time(index))","payload":{"ip":"\#(address(key))","user":"u\#(key % 50)","result":"failure"}}"#
                    + "\n", file)
        }
    }

    /// One summary number: the integer before `label` in the run's stderr ("1,000,000 rules fired").
    static func summaryCount(_ text: String, before label: String) -> Int? {
        guard let range = text.range(of: label) else { return nil }
        let digits = text[..<range.lowerBound].reversed().prefix { $0.isNumber || $0 == "," }.reversed().filter(\.isNumber)
        return Int(String(digits))
    }

    /// "1M", "100k": how results name a count.
    static func label(_ count: Int) -> String { count >= 1_000_000 && count % 1_000_000 == 0 ? "\(count / 1_000_000)M" : "\(count / 1_000)k" }

    func run(binary: String, into results: inout [BenchmarkResult]) {
        let size = Self.label(events)
        let keyed = "\(Self.label(keys))-keys"
        mkdir(".bench", 0o755)
        // Every key `events / keys` times, in a seeded random order (a Fisher–Yates shuffle).
        var order = (0..<events).map { $0 % keys }
        var rng = SplitMix64(seed: 13)
        for index in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(index, Int(rng.next() % UInt64(index + 1)))
        }
        Self.writeEvents(count: events, to: Self.repeatedPath) { order[$0] }
        Self.writeEvents(count: events, to: Self.distinctPath) { $0 }
        let count = #"{key: "{{ payload.ip }}", at_least: 5, within: 10m}"#
        // The stop-only pair runs the same gate with an action that costs next to nothing, so the
        // audits the gate saves (it fires for about a fifth of the events) do not offset its cost.
        let configurations: [(name: String, events: String, gate: String?, actions: String)] = [
            ("\(keyed)/stateless", Self.repeatedPath, nil, Self.audit),
            ("\(keyed)/count", Self.repeatedPath, count, Self.audit),
            ("\(keyed)/stateless-stop", Self.repeatedPath, nil, "[stop]"),
            ("\(keyed)/count-stop", Self.repeatedPath, count, "[stop]"),
            ("distinct-keys/stateless", Self.distinctPath, nil, Self.audit),
            ("distinct-keys/count", Self.distinctPath, #"{key: "{{ payload.ip }}", at_least: 5, within: 24h, max_keys: 2000000}"#, Self.audit),
        ]
        var best: [String: BenchProcess.Run] = [:]
        var summaries: [String: String] = [:]
        for round in 0..<3 {
            for configuration in configurations {
                let rules = ".bench/stateful-\(configuration.name.replacingOccurrences(of: "/", with: "-")).yaml"
                if round == 0 { BenchProcess.write(Self.rules(gate: configuration.gate, actions: configuration.actions), to: rules) }
                let stderr = ".bench/stateful-stderr.txt"
                guard
                    let run = BenchProcess.measure(
                        [binary, "run", "--rules", rules, "--events", configuration.events, "--no-history"], stderrPath: stderr)
                else {
                    print("symphony-bench: stateful: \(configuration.name) failed: \(BenchProcess.read(stderr))")
                    return
                }
                summaries[configuration.name] = BenchProcess.read(stderr)
                let previous = best[configuration.name]
                best[configuration.name] = BenchProcess.Run(
                    seconds: min(run.seconds, previous?.seconds ?? .infinity), peakMiB: min(run.peakMiB, previous?.peakMiB ?? .infinity),
                    cpuSeconds: min(run.cpuSeconds, previous?.cpuSeconds ?? .infinity))
            }
        }
        // A run whose rule fired or held the wrong events would measure something else.
        let fired = summaries.mapValues { Self.summaryCount($0, before: " rules fired") ?? -1 }
        let held = summaries.mapValues { Self.summaryCount($0, before: " matching events") ?? 0 }
        guard fired["\(keyed)/stateless"] == events, fired["\(keyed)/stateless-stop"] == events, fired["distinct-keys/stateless"] == events,
            let countFired = fired["\(keyed)/count"], countFired > 0, countFired + (held["\(keyed)/count"] ?? 0) == events,
            let stopFired = fired["\(keyed)/count-stop"], stopFired > 0, stopFired + (held["\(keyed)/count-stop"] ?? 0) == events,
            fired["distinct-keys/count"] == 0, held["distinct-keys/count"] == events
        else {
            print("symphony-bench: stateful: the runs did not fire and hold what they should; results not reported: \(summaries)")
            return
        }
        for (name, run) in best.sorted(by: { $0.key < $1.key }) {
            let benchmark = "stateful/\(size)/\(name)"
            results.append(BenchmarkResult(benchmark: benchmark, metric: "cpu_us_per_event", value: run.cpuSeconds * 1e6 / Double(events), unit: "µs"))
            results.append(BenchmarkResult(benchmark: benchmark, metric: "peak_rss", value: run.peakMiB, unit: "MiB"))
        }
        results.append(
            BenchmarkResult(
                benchmark: "stateful/\(size)/\(keyed)/count", metric: "fired_per_event", value: Double(countFired) / Double(events), unit: "ratio"))
        if let gated = best["\(keyed)/count"], let plain = best["\(keyed)/stateless"] {
            let overhead = (gated.cpuSeconds - plain.cpuSeconds) * 1e6 / Double(events)
            results.append(BenchmarkResult(benchmark: "stateful/count-overhead", metric: "cpu_us_per_matching_event", value: overhead, unit: "µs"))
            results.append(BenchmarkResult(benchmark: "stateful/count-overhead", metric: "target_met_le_2us", value: overhead <= 2 ? 1 : 0, unit: "bool"))
        }
        if let gated = best["\(keyed)/count-stop"], let plain = best["\(keyed)/stateless-stop"] {
            let overhead = (gated.cpuSeconds - plain.cpuSeconds) * 1e6 / Double(events)
            results.append(
                BenchmarkResult(benchmark: "stateful/count-overhead-stop-only", metric: "cpu_us_per_matching_event", value: overhead, unit: "µs"))
        }
        if let gated = best["distinct-keys/count"], let plain = best["distinct-keys/stateless"] {
            let mebibytes = gated.peakMiB - plain.peakMiB
            results.append(BenchmarkResult(benchmark: "stateful/state-memory-\(size)-keys", metric: "peak_rss_delta", value: mebibytes, unit: "MiB"))
            results.append(
                BenchmarkResult(benchmark: "stateful/state-memory-\(size)-keys", metric: "bytes_per_key", value: mebibytes * 1_048_576 / Double(events), unit: "B"))
            let megabytes = mebibytes * 1_048_576 / 1e6
            results.append(
                BenchmarkResult(benchmark: "stateful/state-memory-\(size)-keys", metric: "target_met_lt_200MB", value: megabytes < 200 ? 1 : 0, unit: "bool"))
        }
    }
}
