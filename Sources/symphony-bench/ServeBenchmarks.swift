import CSQLite
import Glibc

/// `symphony serve` under a real load generator (`wrk`, on loopback; `symphony-bench --only serve`).
///
/// The server runs the shipped `rules/http` rule set (a third of the requests are errors, which
/// publish derived alerts that a second rule emits) with history on, as a service would, and
/// its emitted lines go to /dev/null. wrk shares the machine's cores with it, as a sender on the
/// same host would. Scenarios:
/// - **batch100**: `POST /v1/events` with JSON Lines bodies of 100 events, as fast as 16
///   connections go (history on, and off for comparison): events accepted per second. Every
///   accepted event is durably recorded before its answer.
/// - **single**: one event per request, as fast as 32 connections go: requests per second.
/// - **single-5k**: one event per request paced to about 5,000 requests/s (50 connections, each
///   waiting 10 ms on average between requests): the latency percentiles at that rate.
/// - **overload**: batches of 100 offered at twice the rate batch100 sustained, for 60 s, from
///   128 connections (twice `--max-in-flight`): peak memory, the share answered 503, and whether
///   every event an answer counted as accepted is in the history once the server has stopped.
struct ServeBenchmarks {
    let scale: Double
    let binary: String

    static let directory = ".bench/serve"

    /// One wrk run: what its own report and the script's counts say.
    struct Load {
        var requestsPerSecond = 0.0
        var seconds = 0.0
        var accepted = 0
        var ok = 0
        var busy = 0
        var other = 0
        var percentiles: [String: Double] = [:]  // "50%" → milliseconds
    }

    func run(into results: inout [BenchmarkResult]) throws {
        guard let wrk = BenchProcess.executable("wrk") else {
            print("symphony-bench: serve benchmarks skipped: wrk is not installed (make bench installs it)")
            return
        }
        mkdir(".bench", 0o755)
        mkdir(Self.directory, 0o755)
        let key = Self.directory + "/key"
        BenchProcess.ensureKey(binary: binary, at: key)
        let batch = Self.writeScript(name: "batch", body: Self.events(100), delayMilliseconds: nil)
        let single = Self.writeScript(name: "single", body: Self.events(1), delayMilliseconds: nil)
        let paced = Self.writeScript(name: "single-5k", body: Self.events(1), delayMilliseconds: 10)
        let seconds = max(3, Int(10 * scale))

        var sustained = 0.0
        for history in [true, false] {
            let label = history ? "history" : "no-history"
            guard let load = measure(wrk: wrk, script: batch, connections: 16, seconds: seconds, history: history, key: key, into: &results, name: "serve/batch100-\(label)") else { continue }
            let eventsPerSecond = Double(load.accepted) / load.seconds
            if history { sustained = eventsPerSecond }
            results.append(BenchmarkResult(benchmark: "serve/batch100-\(label)", metric: "events_per_second", value: eventsPerSecond, unit: "events/s"))
            results.append(BenchmarkResult(benchmark: "serve/batch100-\(label)", metric: "target_ratio", value: eventsPerSecond / 150_000, unit: "x"))
        }
        if let load = measure(wrk: wrk, script: single, connections: 32, seconds: seconds, history: true, key: key, into: &results, name: "serve/single") {
            results.append(BenchmarkResult(benchmark: "serve/single", metric: "requests_per_second", value: load.requestsPerSecond, unit: "req/s"))
            results.append(BenchmarkResult(benchmark: "serve/single", metric: "target_ratio", value: load.requestsPerSecond / 20_000, unit: "x"))
        }
        if let load = measure(wrk: wrk, script: paced, connections: 50, seconds: seconds, history: true, key: key, into: &results, name: "serve/single-5k") {
            results.append(BenchmarkResult(benchmark: "serve/single-5k", metric: "requests_per_second", value: load.requestsPerSecond, unit: "req/s"))
            results.append(BenchmarkResult(benchmark: "serve/single-5k", metric: "latency_p90", value: load.percentiles["90%"] ?? .nan, unit: "ms"))
        }
        if sustained > 0 { overload(wrk: wrk, sustained: sustained, key: key, into: &results) }
    }

    /// Twice the sustained rate for 60 s (a tenth with --quick): memory, refusals, and no loss.
    private func overload(wrk: String, sustained: Double, key: String, into results: inout [BenchmarkResult]) {
        let connections = 128
        let requestsPerSecond = 2 * sustained / 100
        let delay = max(1, Int((Double(connections) * 1_000 / requestsPerSecond).rounded()))
        let script = Self.writeScript(name: "overload", body: Self.events(100), delayMilliseconds: delay)
        let database = Self.directory + "/overload.db"
        BenchProcess.removeDatabase(database)
        guard let server = BenchServer(serverArguments(history: true, database: database, key: key), stderrPath: Self.directory + "/overload.err") else { return }
        var peakResident = 0.0
        var tick = 0
        let seconds = max(6, Int(60 * scale))
        let load = runWrk(wrk, script: script, connections: connections, seconds: seconds, port: server.port) {
            tick += 1
            if tick % 50 == 0 { peakResident = max(peakResident, server.memory.residentMiB) }
        }
        peakResident = max(peakResident, server.memory.residentMiB)
        let peak = server.memory.peakMiB
        let (status, summary) = server.stop()
        guard let load, status == 143 else {
            print("symphony-bench: overload run failed (server exit \(status)): \(summary)")
            return
        }
        let recorded = Self.inputEvents(in: database)
        let name = "serve/overload-2x"
        let answered = Double(load.ok + load.busy + load.other)
        results.append(BenchmarkResult(benchmark: name, metric: "offered_events_per_second", value: answered * 100 / load.seconds, unit: "events/s"))
        results.append(BenchmarkResult(benchmark: name, metric: "accepted_events_per_second", value: Double(load.accepted) / load.seconds, unit: "events/s"))
        results.append(BenchmarkResult(benchmark: name, metric: "answered_503_share", value: Double(load.busy) / max(1, answered) * 100, unit: "%"))
        results.append(BenchmarkResult(benchmark: name, metric: "other_statuses", value: Double(load.other), unit: "requests"))
        results.append(BenchmarkResult(benchmark: name, metric: "peak_rss_sampled", value: peakResident, unit: "MiB"))
        results.append(BenchmarkResult(benchmark: name, metric: "peak_rss_hwm", value: peak, unit: "MiB"))
        // wrk stops with requests in flight: the server may accept events whose answers wrk never
        // reads, so the history can hold more than the answers counted, never fewer.
        results.append(BenchmarkResult(benchmark: name, metric: "accepted_in_answers", value: Double(load.accepted), unit: "events"))
        results.append(BenchmarkResult(benchmark: name, metric: "input_events_in_history", value: Double(recorded), unit: "events"))
        results.append(BenchmarkResult(benchmark: name, metric: "accepted_not_in_history", value: Double(max(0, load.accepted - recorded)), unit: "events"))
    }

    /// Starts a server, runs wrk against it, stops the server (checking it drained and exited as
    /// SIGTERM asks), and reports the server's peak memory and the latency percentiles.
    private func measure(
        wrk: String, script: String, connections: Int, seconds: Int, history: Bool, key: String, into results: inout [BenchmarkResult], name: String
    ) -> Load? {
        let database = Self.directory + "/serve.db"
        BenchProcess.removeDatabase(database)
        guard let server = BenchServer(serverArguments(history: history, database: database, key: key), stderrPath: Self.directory + "/serve.err") else { return nil }
        let load = runWrk(wrk, script: script, connections: connections, seconds: seconds, port: server.port)
        let peak = server.memory.peakMiB
        let (status, summary) = server.stop()
        guard let load, status == 143 else {
            print("symphony-bench: \(name) failed (server exit \(status)): \(summary)")
            return nil
        }
        if load.other > 0 { print("symphony-bench: \(name): \(load.other) answers were neither 200 nor 503") }
        results.append(BenchmarkResult(benchmark: name, metric: "latency_p50", value: load.percentiles["50%"] ?? .nan, unit: "ms"))
        results.append(BenchmarkResult(benchmark: name, metric: "latency_p99", value: load.percentiles["99%"] ?? .nan, unit: "ms"))
        results.append(BenchmarkResult(benchmark: name, metric: "answered_503", value: Double(load.busy), unit: "requests"))
        results.append(BenchmarkResult(benchmark: name, metric: "peak_rss", value: peak, unit: "MiB"))
        return load
    }

    private func serverArguments(history: Bool, database: String, key: String) -> [String] {
        [binary, "serve", "--rules", "rules/http", "--listen", "127.0.0.1:0", "--key-file", key] + (history ? ["--db", database] : ["--no-history"])
    }

    /// Runs wrk (2 threads) and reads its report.
    private func runWrk(_ wrk: String, script: String, connections: Int, seconds: Int, port: Int, whileRunning: () -> Void = {}) -> Load? {
        let output = Self.directory + "/wrk.out"
        let arguments = [wrk, "-t2", "-c\(connections)", "-d\(seconds)s", "--latency", "--timeout", "10s", "-s", script, "http://127.0.0.1:\(port)/v1/events"]
        guard BenchProcess.measure(arguments, stdoutPath: output, whileRunning: whileRunning) != nil else {
            print("symphony-bench: wrk failed: \(BenchProcess.read(output).suffix(300))")
            return nil
        }
        var load = Load()
        load.seconds = Double(seconds)
        var inDistribution = false
        for line in BenchProcess.read(output).split(separator: "\n") {
            let words = line.split(separator: " ")
            if line.hasPrefix("Requests/sec:"), let value = words.last.flatMap({ Double($0) }) { load.requestsPerSecond = value }
            if line.contains("Latency Distribution") { inDistribution = true; continue }
            if inDistribution, words.count == 2, words[0].hasSuffix("%") {
                load.percentiles[String(words[0])] = Self.milliseconds(String(words[1]))
            } else {
                inDistribution = false
            }
            if words.first == "SYMPHONY", words.count == 5 {
                let numbers = words.dropFirst().compactMap { Int($0.split(separator: "=").last ?? "") }
                if numbers.count == 4 { (load.accepted, load.ok, load.busy, load.other) = (numbers[0], numbers[1], numbers[2], numbers[3]) }
            }
        }
        return load
    }

    /// wrk's duration text (`812.00us`, `1.23ms`, `2.01s`) in milliseconds.
    static func milliseconds(_ text: String) -> Double {
        for (suffix, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1_000.0), ("m", 60_000.0)] where text.hasSuffix(suffix) {
            return (Double(text.dropLast(suffix.count)) ?? .nan) * factor
        }
        return .nan
    }

    /// `count` http.request events as JSON Lines: statuses 200, 404, 500 and 503 in a fixed mix.
    static func events(_ count: Int) -> String {
        let statuses = [200, 200, 200, 404, 500, 503]
        return (0..<count).map { index in
            let status = statuses[index % statuses.count]
            return #"{"type":"http.request","payload":{"method":"GET","path":"/api/orders/\#(index)","status":\#(status),"latency_ms":\#(index % 300).5}}"#
        }.joined(separator: "\n") + "\n"
    }

    /// A wrk script posting `body` as JSON Lines, counting answers by status and summing the
    /// accepted counts; with `delayMilliseconds`, each connection waits that long on average
    /// (randomised) between requests. Returns its path.
    static func writeScript(name: String, body: String, delayMilliseconds: Int?) -> String {
        let pacing = delayMilliseconds.map { "function delay() return math.random(0, \(2 * $0)) end\n" } ?? ""
        let script = """
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/x-ndjson"
            wrk.body = [==[\(body)]==]
            local threads = {}
            function setup(thread) table.insert(threads, thread) end
            function init(args) accepted = 0; ok = 0; busy = 0; other = 0 end
            function response(status, headers, body)
              if status == 200 then ok = ok + 1 elseif status == 503 or status == 429 then busy = busy + 1 else other = other + 1 end
              local n = body:match('"accepted":(%d+)')
              if n then accepted = accepted + tonumber(n) end
            end
            \(pacing)function done(summary, latency, requests)
              local a, o, b, x = 0, 0, 0, 0
              for _, t in ipairs(threads) do
                a = a + t:get("accepted"); o = o + t:get("ok"); b = b + t:get("busy"); x = x + t:get("other")
              end
              io.write(string.format("SYMPHONY accepted=%d ok=%d busy=%d other=%d\\n", a, o, b, x))
            end

            """
        let path = "\(directory)/\(name).lua"
        BenchProcess.write(script, to: path)
        return path
    }

    /// Input events (no parent) recorded in the history database at `path`; -1 when it cannot be read.
    static func inputEvents(in path: String) -> Int {
        var database: OpaquePointer?
        guard sqlite3_open_v2(path, &database, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else { return -1 }
        defer { sqlite3_close(database) }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(database, "SELECT count(*) FROM events WHERE parent_id IS NULL", -1, &statement, nil) == SQLITE_OK else { return -1 }
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW else { return -1 }
        return Int(sqlite3_column_int64(statement, 0))
    }
}
