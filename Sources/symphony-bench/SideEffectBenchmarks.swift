import Glibc
import SymphonyAccess
import SymphonyCrypto
import SymphonyPipeline
import SymphonyRules
import SymphonyStore

/// A slow side effect next to fast rules (`symphony-bench --only sidefx`): does a program that
/// takes 100 ms, run for 1 event in 100, slow down the handling of the events around it?
///
/// Rule sets (one input file for all: `job` events, every 100th with `payload.slow: true`):
/// - **fast**: every `job` publishes a derived `job.derived`, which a second rule handles (`stop`).
/// - **slow**: the same plus a rule with `exec: [/bin/sleep, "0.1"]` for the events with
///   `payload.slow`, with the pools a rule set gets by default (exec 4, http 8, file 2 threads).
/// - **slow-idle-pools-1**: the same with `pools: {exec: 4, http: 1, file: 1}` — the same exec pool,
///   fewer idle http and file threads (a diagnostic: idle pool threads are woken too).
/// - **slow-pool-32**: the same with `pools: {exec: 32}` (a setting, shown for comparison).
///
/// Each run goes through `RunPipeline` as `symphony run` does (its queue capacity and worker
/// count, `LineEventSource` over a JSON Lines file, a `HistoryStore` and its key ring when history
/// is on, the standard side-effect runner spawning real processes), history off and on, and
/// measures from the pipeline's start:
/// - **handled**: every input and derived event handled, and (history on) their records, the side
///   effects' outbox entries included, committed. Events per second over this time are what the
///   target is about (slow: within 10% of fast): slow side effects must not hold up events.
///   These runs then stop, as SIGTERM would, leaving side effects not yet run pending.
/// - **completed** (fewer events, one round): until `finish()` returned with every side effect
///   run — what `symphony run` over a file waits for, and what its summary's events/s counts.
///
/// Three interleaved rounds; each configuration keeps its fastest handled run. Context switches
/// (the whole process, per 1,000 input events) show wake-ups the side effects cause. Every run's
/// summary is checked (every event processed, each rule fired as often as it should, every
/// drained exec succeeded), so a broken rule file cannot pass for a fast one.
struct SideEffectBenchmarks {
    let events: Int
    /// Input events of the runs that wait for every side effect (their exec drain takes about
    /// `drainedEvents / 100 × 0.1 s / exec threads`).
    let drainedEvents: Int

    static let eventsPath = ".bench/sidefx-events.jsonl"
    static let drainedEventsPath = ".bench/sidefx-events-drained.jsonl"
    static let databasePath = ".bench/sidefx.db"
    static let slowEvery = 100

    static let fastRules = """
        rules:
          - name: derive
            on: job
            actions:
              - publish: {type: job.derived, payload: {n: "{{ payload.n }}"}}
          - name: finish
            on: job.derived
            actions: [stop]

        """

    static func slowRules(pools: String? = nil) -> String {
        (pools.map { "pools: \($0)\n" } ?? "") + fastRules + """
              - name: slow
                on: job
                when: {field: payload.slow, equals: true}
                actions:
                  - exec: [/bin/sleep, "0.1"]

            """
    }

    /// `runs`: whether side effects run; `slow-no-actions` is the slow rule set with its exec
    /// rendered and recorded as skipped (`--no-actions`): the cost of the extra rule itself, so
    /// the slow runs can also be compared with what differs only by running the program.
    static let configurations: [(name: String, rules: String, slow: Bool, runs: Bool)] = [
        ("fast", fastRules, false, true),
        ("slow-no-actions", slowRules(), true, false),
        ("slow", slowRules(), true, true),
        ("slow-idle-pools-1", slowRules(pools: "{exec: 4, http: 1, file: 1}"), true, true),
        ("slow-pool-32", slowRules(pools: "{exec: 32}"), true, true),
    ]

    /// What `symphony run --policy` would have to grant: everything, exec included.
    static let access = AccessGuard(policy: AccessPolicy(roles: ["all": [.all]], principals: ["user:bench": ["all"]]))

    static func writeEvents(count: Int, to path: String) {
        let file = fopen(path, "w")!
        defer { fclose(file) }
        for index in 0..<count {
            fputs(#"{"type":"job","id":"j\#(index)","payload":{"n":\#(index),"slow":\#(index % slowEvery == slowEvery - 1)}}"# + "\n", file)
        }
    }

    struct Timing {
        var handled: Double
        var completed: Double?
        var contextSwitches: Int
        var summary: RunSummary
    }

    /// Voluntary and involuntary context switches of this process so far (every thread).
    static func contextSwitches() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_nvcsw + usage.ru_nivcsw
    }

    /// One run of `rules` over `path`; with `drain`, until every side effect ran.
    func measure(rules: String, path: String, history: Bool, drain: Bool, runsSideEffects: Bool = true) throws -> Timing {
        let (loaded, diagnostics) = RuleSetLoader.load(documents: [(file: "sidefx.yaml", text: rules)])
        guard let ruleSet = loaded else { throw BenchError("sidefx: the rule set does not load: \(diagnostics.sorted)") }
        var configuration = RunConfiguration(ruleSet: ruleSet, access: Self.access, principal: "user:bench")
        configuration.queueCapacity = 8_192  // as `symphony run`
        configuration.runsSideEffects = runsSideEffects
        var store: HistoryStore?
        if history {
            BenchProcess.removeDatabase(Self.databasePath)
            let key = try EncryptionKey(bytes: [UInt8](repeating: 3, count: 32))
            store = try HistoryStore(path: Self.databasePath, key: key)
            configuration.history = store
            configuration.encryption = .keyRing(KeyRing(active: key))
        }
        let stop = try StopRequest()
        let switches = Self.contextSwitches()
        let start = RuntimeBenchmarks.monotonicNanoseconds()
        let pipeline = try RunPipeline(configuration: configuration, output: DiscardingOutput(), stop: stop)
        try pipeline.feed(LineEventSource(paths: [path], rawLinesType: nil))
        pipeline.waitUntilIdle()
        try store?.flush()
        let handled = Double(RuntimeBenchmarks.monotonicNanoseconds() - start) / 1e9
        let handledSwitches = Self.contextSwitches() - switches
        if !drain { stop.request(because: "benchmark: every event handled") }
        let summary = pipeline.finish()
        let completed = Double(RuntimeBenchmarks.monotonicNanoseconds() - start) / 1e9
        return Timing(handled: handled, completed: drain ? completed : nil, contextSwitches: handledSwitches, summary: summary)
    }

    /// Why a run does not count, or nil when its summary is what the rule set should give.
    func problem(_ summary: RunSummary, events: Int, slow: Bool, drained: Bool, runs: Bool = true) -> String? {
        let slowEvents = events / Self.slowEvery
        let fired = 2 * events + (slow ? slowEvents : 0)
        if summary.read != events || summary.processed != 2 * events { return "read \(summary.read), processed \(summary.processed) of \(events) events" }
        if summary.rulesFired != fired { return "\(summary.rulesFired) rules fired, not \(fired)" }
        if summary.errors != 0 { return "\(summary.errors) errors" }
        let execs = summary.sideEffects.succeeded["exec", default: 0]
        if slow && runs && drained && execs != slowEvents { return "\(execs) execs succeeded, not \(slowEvents)" }
        return nil
    }

    func run(into results: inout [BenchmarkResult]) throws {
        mkdir(".bench", 0o755)
        Self.writeEvents(count: events, to: Self.eventsPath)
        Self.writeEvents(count: drainedEvents, to: Self.drainedEventsPath)
        var handled: [String: Timing] = [:]
        var completed: [String: Double] = [:]
        for round in 0..<3 {
            for history in [false, true] {
                for configuration in Self.configurations {
                    let name = "\(history ? "history-on" : "history-off")/\(configuration.name)"
                    let timing = try measure(
                        rules: configuration.rules, path: Self.eventsPath, history: history, drain: false, runsSideEffects: configuration.runs)
                    if let problem = problem(timing.summary, events: events, slow: configuration.slow, drained: false, runs: configuration.runs) {
                        throw BenchError("sidefx: \(name): \(problem); results not reported")
                    }
                    if handled[name].map({ timing.handled < $0.handled }) ?? true { handled[name] = timing }
                    guard round == 0 else { continue }  // the drained runs mostly wait for sleeps: one round
                    let drained = try measure(
                        rules: configuration.rules, path: Self.drainedEventsPath, history: history, drain: true, runsSideEffects: configuration.runs)
                    if let problem = problem(drained.summary, events: drainedEvents, slow: configuration.slow, drained: true, runs: configuration.runs) {
                        throw BenchError("sidefx: \(name), drained: \(problem); results not reported")
                    }
                    completed[name] = drained.completed
                }
            }
        }
        let size = StatefulBenchmarks.label(events)
        let drainedSize = StatefulBenchmarks.label(drainedEvents)
        for history in ["history-off", "history-on"] {
            let fast = handled["\(history)/fast"]
            let fastCompleted = completed["\(history)/fast"]
            for configuration in Self.configurations {
                let name = "\(history)/\(configuration.name)"
                if let timing = handled[name] {
                    let benchmark = "sidefx/\(size)/\(name)"
                    results.append(BenchmarkResult(benchmark: benchmark, metric: "handled_events_per_second", value: Double(events) / timing.handled, unit: "events/s"))
                    results.append(
                        BenchmarkResult(
                            benchmark: benchmark, metric: "switches_per_1k_events", value: Double(timing.contextSwitches) * 1_000 / Double(events),
                            unit: "switches"))
                    if configuration.slow, let fast {
                        let ratio = fast.handled / timing.handled
                        results.append(BenchmarkResult(benchmark: benchmark, metric: "handled_ratio_to_fast", value: ratio, unit: "ratio"))
                        results.append(BenchmarkResult(benchmark: benchmark, metric: "target_met_within_10%", value: ratio >= 0.9 ? 1 : 0, unit: "bool"))
                        if configuration.runs, let rendered = handled["\(history)/slow-no-actions"] {
                            results.append(
                                BenchmarkResult(
                                    benchmark: benchmark, metric: "handled_ratio_to_slow_no_actions", value: rendered.handled / timing.handled, unit: "ratio"))
                        }
                    }
                }
                if let seconds = completed[name] {
                    let benchmark = "sidefx/\(drainedSize)-drained/\(name)"
                    results.append(BenchmarkResult(benchmark: benchmark, metric: "completed_events_per_second", value: Double(drainedEvents) / seconds, unit: "events/s"))
                    if configuration.slow, let fastCompleted {
                        results.append(BenchmarkResult(benchmark: benchmark, metric: "completed_ratio_to_fast", value: fastCompleted / seconds, unit: "ratio"))
                    }
                }
            }
        }
    }
}

/// A benchmark that cannot measure what it should.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
