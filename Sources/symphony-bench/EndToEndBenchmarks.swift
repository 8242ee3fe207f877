import Glibc

/// End-to-end `symphony run` over a generated JSON Lines file: history on and off, encryption on.
///
/// The workload is seeded and mixed: HTTP requests (status and latency, ~3% 5xx, some slow, a few
/// probes), support tickets with free text in several languages, and sshd-like log events; the
/// rule set is `rules/http` plus `rules/support` shape rules written to `.bench/`.
struct EndToEndBenchmarks {
    let scale: Double

    static let rules = """
        intents:
          - name: refund_request
            patterns: ['(?:money back|refund)\\w*\\b.*?\\border\\s*#?\\s*(?<order>\\d{3,})']
            keywords: [refund, {keyword: money back, weight: 0.4}]
        rules:
          - name: ignore-probes
            on: http.request
            priority: 50
            when: {field: payload.path, in: ["/health", "/metrics"]}
            actions: [stop]
          - name: server-error
            on: http.request
            when: {field: payload.status, gte: 500}
            actions:
              - publish: {type: http.error, payload: {path: "{{ payload.path }}", status: "{{ payload.status }}"}}
          - name: slow
            on: http.request
            when: {field: payload.latency_ms, gt: 1000}
            actions: [{audit: "slow {{ payload.path }}"}]
          - name: checkout-down
            on: http.error
            when: {field: payload.path, matches: '^/api/(?<area>checkout|payments)'}
            actions:
              - emit: {type: alert.page, payload: {area: "{{ captures.area }}"}}
              - delay: {after: 1h, type: http.recheck}
          - name: refund
            on: ticket.created
            when: {intent: refund_request}
            actions:
              - publish: {type: billing.refund, payload: {order: "{{ intent.slots.order }}"}}
          - name: ssh-failed
            on: ssh.log
            when: {field: payload.message, matches: 'Failed password for (?<user>\\S+) from (?<ip>\\S+)'}
            actions:
              - publish: {type: security.failed_login, payload: {user: "{{ captures.user }}", ip: "{{ captures.ip }}"}}
        """

    static func writeEvents(count: Int, to path: String) {
        var rng = SplitMix64(seed: 2026)
        let paths = ["/api/orders", "/api/search", "/api/checkout", "/api/payments", "/health", "/api/users/42", "/metrics"]
        let texts = [
            "I want my money back for order 1234", "Where is my package? Order 77120 has not arrived",
            "Je veux être remboursé pour la commande 5521", "Mein Passwort funktioniert nicht", "Hello, just saying hi",
        ]
        let users = ["root", "admin", "alice", "deploy"]
        let file = fopen(path, "w")!
        defer { fclose(file) }
        for index in 0..<count {
            let line: String
            switch rng.next() % 10 {
            case 0..<6:
                let status = rng.next() % 100 < 3 ? 503 : 200
                let latency = Double(rng.next() % 1500) + 0.5
                line = #"{"type":"http.request","priority":\#(rng.next() % 10),"source":"web-\#(rng.next() % 4)","payload":{"method":"GET","path":"\#(paths[Int(rng.next() % 7)])","status":\#(status),"latency_ms":\#(latency)}}"#
            case 6..<8:
                line = #"{"type":"ticket.created","payload":{"customer":"c\#(index)","text":"\#(texts[Int(rng.next() % 5)])"}}"#
            default:
                line = #"{"type":"ssh.log","payload":{"message":"sshd[\#(index)]: Failed password for \#(users[Int(rng.next() % 4)]) from 203.0.113.\#(rng.next() % 255) port 22 ssh2"}}"#
            }
            fputs(line + "\n", file)
        }
    }

    func run(binary: String, into results: inout [BenchmarkResult]) throws {
        let count = Int(500_000 * scale)
        mkdir(".bench", 0o755)
        let events = ".bench/e2e-events.jsonl"
        let rules = ".bench/e2e-rules.yaml"
        Self.writeEvents(count: count, to: events)
        BenchProcess.write(Self.rules, to: rules)
        let key = ".bench/e2e.key"
        BenchProcess.ensureKey(binary: binary, at: key)
        var best: [String: BenchProcess.Run] = [:]
        let rounds = 3
        for round in 0..<rounds {
            let database = ".bench/e2e-\(round).db"
            for (name, extra) in [("history-off", ["--no-history"]), ("history-on", ["--db", database, "--key-file", key])] {
                BenchProcess.removeDatabase(database)
                guard let run = BenchProcess.best(of: 1, [binary, "run", "--rules", rules, "--events", events] + extra) else { continue }
                if best[name].map({ run.seconds < $0.seconds }) ?? true { best[name] = run }
            }
        }
        // A run that fires no rule (a broken rule file, a renamed field) would be fast and wrong.
        let database = ".bench/e2e-\(rounds - 1).db"  // the last round's history-on run
        guard let mix = HistoryFloorBenchmark.rowMix(of: database), mix.events >= count, mix.executions > 0 else {
            print("symphony-bench: e2e: the history-on run did not record every input event and some actions; results not reported")
            return
        }
        for (name, run) in best.sorted(by: { $0.key < $1.key }) {
            let benchmark = "e2e/symphony-run/\(name)"
            results.append(BenchmarkResult(benchmark: benchmark, metric: "events_per_second", value: Double(count) / run.seconds, unit: "events/s"))
            results.append(BenchmarkResult(benchmark: benchmark, metric: "cpu_seconds", value: run.cpuSeconds, unit: "s"))
        }
        if let on = best["history-on"]?.seconds, let off = best["history-off"]?.seconds {
            results.append(BenchmarkResult(benchmark: "e2e/symphony-run/history-overhead", metric: "percent", value: (on / off - 1) * 100, unit: "%"))
        }
        if let on = best["history-on"], let off = best["history-off"] {
            try historyBudget(on: on, off: off, count: count, mix: mix, into: &results)
        }
    }

    /// What history may cost for the run to stay within 25% of `--no-history`, what it costs, and
    /// the floor: SQLite alone inserting the rows the run wrote (`HistoryFloorBenchmark`). All in
    /// CPU µs per input event.
    ///
    /// The budget is generous: a history-on run that keeps both cores busy the whole time finishes in
    /// (C_off + H) / 2 seconds, so H may be up to 2 × 1.25 × W_off − C_off (W: wall, C: CPU seconds).
    private func historyBudget(
        on: BenchProcess.Run, off: BenchProcess.Run, count: Int, mix: HistoryFloorBenchmark.RowMix, into results: inout [BenchmarkResult]
    ) throws {
        let perEvent = 1e6 / Double(count)
        let budget = (2 * 1.25 * off.seconds - off.cpuSeconds) * perEvent
        results.append(BenchmarkResult(benchmark: "e2e/history/budget-within-25%", metric: "cpu_us_per_event", value: budget, unit: "µs"))
        results.append(
            BenchmarkResult(benchmark: "e2e/history/cost", metric: "cpu_us_per_event", value: (on.cpuSeconds - off.cpuSeconds) * perEvent, unit: "µs"))
        // The schema as it is, and with no secondary index at all (the bare tables).
        let variants: [(name: String, mix: HistoryFloorBenchmark.RowMix, indexes: Bool)] = [
            ("schema", mix, true), ("no-secondary-indexes", mix, false),
        ]
        for (name, mix, indexes) in variants {
            guard let seconds = try HistoryFloorBenchmark.cpuSeconds(inserting: mix, at: ".bench/e2e-floor.db", indexes: indexes) else { continue }
            results.append(
                BenchmarkResult(benchmark: "e2e/history/sqlite-floor/\(name)", metric: "cpu_us_per_event", value: seconds * perEvent, unit: "µs"))
        }
    }
}
