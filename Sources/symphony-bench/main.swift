import Glibc

// symphony-bench: runtime and intent benchmarks. Usage: symphony-bench [--output PATH] [--quick] [--only PREFIX] [--shape-events N]
// --quick runs a tenth of the work (for smoke tests); numbers are then noisier. --shape-events sets
// the input size of the held-out-shape workload (default 1,000,000, a tenth with --quick).

var outputPath = ".bench/results.json"
var scale = 1.0
var only = ""
var shapeEvents: Int?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--output": outputPath = arguments.popFirst() ?? outputPath
    case "--quick": scale = 0.1
    case "--only": only = arguments.popFirst() ?? ""
    case "--shape-events":
        guard let count = arguments.popFirst().flatMap({ Int($0) }), count >= 1_000 else {
            print("symphony-bench: --shape-events needs a whole number of at least 1000")
            exit(64)
        }
        shapeEvents = count
    default:
        print(
            "usage: symphony-bench [--output PATH] [--quick] [--only peak-rss-check|throughput|latency|scheduler|intents|e2e|workload|workload-10m|shape|stateful|sidefx|history|scale|serve|cluster] [--shape-events N]"
        )
        exit(64)
    }
}

/// True when the group `name` runs: every group with no `--only`, else the one named (a prefix is enough).
@MainActor func selected(_ name: String) -> Bool { name.hasPrefix(only) || only.hasPrefix(name) }

/// The `symphony` binary next to this one (both are built into the same folder).
let binary: String = {
    let directory = CommandLine.arguments[0].split(separator: "/").dropLast().joined(separator: "/")
    return (CommandLine.arguments[0].hasPrefix("/") ? "/" : "") + (directory.isEmpty ? "." : directory) + "/symphony"
}()

var benchmarks = RuntimeBenchmarks(scale: scale)
/// Runs one benchmark group and records the CPU steal next to its results.
@MainActor func group(_ name: String, _ body: () throws -> Void) rethrows {
    guard selected(name) else { return }
    let start = CPUSteal()
    try body()
    benchmarks.results.append(BenchmarkResult(benchmark: "host/\(name)", metric: "cpu_steal", value: CPUSteal.percent(since: start), unit: "%"))
}
do {
    group("peak-rss-check") {
        // A child that uses little memory must report little (the parent's size must not leak into it).
        if let run = BenchProcess.measure(["/bin/sleep", "0.2"]) {
            benchmarks.results.append(BenchmarkResult(benchmark: "peak-rss-check/sleep", metric: "peak_rss", value: run.peakMiB, unit: "MiB"))
        }
    }
    try group("throughput") {
        for encrypted in [false, true] {
            for workers in [1, 2] { try benchmarks.throughput(workers: workers, encrypted: encrypted) }
        }
    }
    try group("latency") {
        for encrypted in [true, false] { try benchmarks.latency(encrypted: encrypted) }
    }
    try group("scheduler") { try benchmarks.schedulerLateness() }
    try group("e2e") { try EndToEndBenchmarks(scale: scale).run(binary: binary, into: &benchmarks.results) }
    try group("scale") { try ScalingBenchmarks(scale: scale).run(binary: binary, into: &benchmarks.results) }
    try group("workload") {
        // `--only workload-10m` runs only the 10M-event memory run (several minutes); `make bench` runs the 1M runs.
        let long = only == "workload-10m" ? Int(10_000_000 * scale) : 0
        try WorkloadBenchmarks(events: only == "workload-10m" ? 0 : Int(1_000_000 * scale), longEvents: long)
            .run(binary: binary, into: &benchmarks.results)
    }
    group("shape") { ShapeBenchmarks(events: shapeEvents ?? Int(1_000_000 * scale)).run(binary: binary, into: &benchmarks.results) }
    group("stateful") {
        StatefulBenchmarks(events: Int(1_000_000 * scale), keys: Int(100_000 * scale)).run(binary: binary, into: &benchmarks.results)
    }
    try group("sidefx") { try SideEffectBenchmarks(events: Int(200_000 * scale), drainedEvents: Int(20_000 * scale)).run(into: &benchmarks.results) }
    try group("cluster") {
        try ClusterBenchmarks(events: Int(300_000 * scale)).run(binary: binary, into: &benchmarks.results)
        try ClusterBenchmarks(events: Int(300_000 * scale), memory: true).run(binary: binary, into: &benchmarks.results)
    }
    try group("serve") { try ServeBenchmarks(scale: scale, binary: binary).run(into: &benchmarks.results) }
    try group("history") { try HistoryBenchmarks(scale: scale).run(into: &benchmarks.results) }
    try group("intents") { try IntentBenchmarks(scale: scale).run(intentCounts: [10, 100, 1_000], into: &benchmarks.results) }
} catch {
    print("symphony-bench: \(error)")
    exit(1)
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

print(pad("benchmark", 64) + pad("metric", 28) + "value")
for result in benchmarks.results {
    // Two decimals below 10 (ratios, per-event rates), one above.
    let rounded = abs(result.value) < 10 ? (result.value * 100).rounded() / 100 : (result.value * 10).rounded() / 10
    print(pad(result.benchmark, 64) + pad(result.metric, 28) + "\(rounded) \(result.unit)")
}

let json = "[\n" + benchmarks.results.map { "  " + $0.json }.joined(separator: ",\n") + "\n]\n"
let file = fopen(outputPath, "w")
if let file {
    fputs(json, file)
    fclose(file)
    print("wrote \(outputPath)")
} else {
    print("symphony-bench: cannot write \(outputPath)")
    exit(1)
}
