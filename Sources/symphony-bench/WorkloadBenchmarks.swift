import Glibc

/// The end-to-end workload of the speed issue: `symphony run` over a seeded, mixed JSON Lines
/// stream (~200 bytes per event) with a ~20-rule set — regex conditions with captures, intents in
/// several languages, publish, delay, audit, emit and stop — with encryption and history each on
/// and off. Reports events/s, CPU time, peak RSS and the share of time per stage.
struct WorkloadBenchmarks {
    /// Events in the main runs (1,000,000 at full scale).
    let events: Int
    /// Events in the long memory run (`--only workload-10m`: 10,000,000), or 0 to skip it.
    let longEvents: Int

    static let rulesPath = ".bench/workload-rules.yaml"
    static let eventsPath = ".bench/workload-events.jsonl"

    func run(binary: String, into results: inout [BenchmarkResult]) throws {
        mkdir(".bench", 0o755)
        let key = ".bench/workload.key"
        BenchProcess.ensureKey(binary: binary, at: key)
        BenchProcess.write(Self.rules, to: Self.rulesPath)
        if events > 0 {
            let bytes = Self.writeEvents(count: events, to: Self.eventsPath)
            results.append(
                BenchmarkResult(benchmark: "workload/input", metric: "bytes_per_event", value: Double(bytes) / Double(events), unit: "bytes"))
            let configurations: [(name: String, arguments: [String])] = [
                ("encryption-on/history-on", ["--db", ".bench/workload.db", "--key-file", key]),
                ("encryption-on/history-off", ["--no-history"]),
                ("encryption-off/history-on", ["--db", ".bench/workload.db", "--key-file", key, "--no-encryption"]),
                ("encryption-off/history-off", ["--no-history", "--no-encryption"]),
            ]
            for configuration in configurations {
                let arguments = self.arguments(binary, Self.eventsPath) + configuration.arguments
                guard let best = BenchProcess.best(of: 2, arguments, before: { BenchProcess.removeDatabase(".bench/workload.db") }) else { continue }
                // A run that fires no rule would be fast and wrong: the history-on runs must have recorded actions.
                if configuration.arguments.contains("--db") {
                    guard let mix = HistoryFloorBenchmark.rowMix(of: ".bench/workload.db"), mix.events >= events, mix.executions > 0 else {
                        print("symphony-bench: workload \(configuration.name): the history-on run did not record every input event and some actions; not reported")
                        continue
                    }
                }
                let name = "workload/\(events / 1_000_000 > 0 ? "\(events / 1_000_000)M" : "\(events / 1_000)k")/\(configuration.name)"
                results.append(BenchmarkResult(benchmark: name, metric: "events_per_second", value: Double(events) / best.seconds, unit: "events/s"))
                results.append(BenchmarkResult(benchmark: name, metric: "cpu_microseconds_per_event", value: best.cpuSeconds * 1e6 / Double(events), unit: "µs"))
                results.append(BenchmarkResult(benchmark: name, metric: "peak_rss", value: best.peakMiB, unit: "MiB"))
            }
            stageShares(binary: binary, key: key, into: &results)
            try historyFloor(into: &results)
        }
        if longEvents > 0 {
            let long = ".bench/workload-long.jsonl"
            _ = Self.writeEvents(count: longEvents, to: long)
            for (name, extra) in [("history-on", ["--db", ".bench/workload-long.db", "--key-file", key]), ("history-off", ["--no-history"])] {
                BenchProcess.removeDatabase(".bench/workload-long.db")
                guard let run = BenchProcess.best(of: 1, arguments(binary, long) + extra) else { continue }
                let label = "workload/\(longEvents / 1_000_000)M/encryption-on/\(name)"
                results.append(BenchmarkResult(benchmark: label, metric: "events_per_second", value: Double(longEvents) / run.seconds, unit: "events/s"))
                results.append(BenchmarkResult(benchmark: label, metric: "peak_rss", value: run.peakMiB, unit: "MiB"))
            }
            unlink(long)
            BenchProcess.removeDatabase(".bench/workload-long.db")
        }
    }

    private func arguments(_ binary: String, _ events: String) -> [String] {
        [binary, "run", "--rules", Self.rulesPath, "--events", events, "--output", "quiet"]
    }

    /// The CPU SQLite alone needs for the rows the stage-times run wrote (`HistoryFloorBenchmark`),
    /// against the whole CPU budget of the 300,000 events/s target on two cores (6.7 µs per event).
    private func historyFloor(into results: inout [BenchmarkResult]) throws {
        guard let mix = HistoryFloorBenchmark.rowMix(of: ".bench/workload.db") else {
            print("symphony-bench: could not read the row counts of .bench/workload.db")
            return
        }
        guard let seconds = try HistoryFloorBenchmark.cpuSeconds(inserting: mix, at: ".bench/workload-floor.db", indexes: true) else { return }
        results.append(
            BenchmarkResult(
                benchmark: "workload/history/sqlite-floor/schema", metric: "cpu_us_per_event", value: seconds * 1e6 / Double(events), unit: "µs"))
    }

    /// One more run with encryption and history on and `--stage-times`; each stage's share.
    private func stageShares(binary: String, key: String, into results: inout [BenchmarkResult]) {
        let report = ".bench/workload-stages.txt"
        BenchProcess.removeDatabase(".bench/workload.db")
        guard BenchProcess.measure(arguments(binary, Self.eventsPath) + ["--db", ".bench/workload.db", "--key-file", key, "--stage-times"], stderrPath: report) != nil,
            let file = fopen(report, "r")
        else {
            print("symphony-bench: the --stage-times run failed")
            return
        }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // stage <name> <ms> ms <µs> µs/event <share>%
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 7, fields[0] == "stage", let micros = Double(fields[4]),
                let share = Double(fields[6].trimmingSuffix("%\n"))
            else { continue }
            results.append(BenchmarkResult(benchmark: "workload/stages/\(fields[1])", metric: "share", value: share, unit: "%"))
            results.append(BenchmarkResult(benchmark: "workload/stages/\(fields[1])", metric: "microseconds_per_event", value: micros, unit: "µs"))
        }
    }

    // MARK: - The rule set

    static let rules = """
        # The speed issue's workload rules (symphony-bench --only workload): 20 rules over 6 input types.
        intents:
          - name: refund_request
            patterns: ['(?:refund|money back|rembours|Rückerstattung|reembolso)\\w*\\b.*?(?:order|commande|Bestellung|pedido)\\s*#?\\s*(?<order>\\d{3,})']
            keywords: [refund, {keyword: money back, weight: 0.4}, remboursé, Rückerstattung, reembolso]
          - name: password_reset
            keywords: [password, {keyword: reset, weight: 0.3}, passwort, mot de passe, contraseña, {keyword: locked out, weight: 0.4}]
          - name: shipping_status
            patterns: ['(?:where is|track|arrived|livraison|Lieferung|envío)\\b.*?(?<order>\\d{4,})']
            keywords: [package, parcel, delivery, tracking, colis, Paket, paquete]
          - name: cancellation
            keywords: [cancel, {keyword: cancellation, weight: 0.6}, annuler, kündigen, cancelar]
            exclude: [refund]
          - name: complaint
            keywords: [terrible, awful, unacceptable, {keyword: worst, weight: 0.6}, inacceptable, unzumutbar, inaceptable]
        rules:
          - name: ignore-probes
            on: http.request
            priority: 50
            when: {field: payload.path, in: ["/health", "/metrics", "/ready"]}
            actions: [stop]
          - name: http-5xx
            on: http.request
            when: {field: payload.status, gte: 500}
            actions:
              - publish: {type: http.error, payload: {path: "{{ payload.path }}", status: "{{ payload.status }}"}}
          - name: http-slow
            on: http.request
            when: {field: payload.latency_ms, gt: 1200}
            actions: [{audit: "slow {{ payload.method }} {{ payload.path }}"}]
          - name: http-scan
            on: http.request
            when:
              all:
                - {field: payload.status, equals: 404}
                - {field: payload.path, matches: '\\.(?<ext>php|env|git)\\b'}
            actions:
              - publish: {type: security.scan, payload: {ext: "{{ captures.ext }}", client: "{{ payload.client }}"}}
          - name: checkout-down
            on: http.error
            when: {field: payload.path, matches: '^/api/(?<area>checkout|payments)'}
            actions:
              - emit: {type: alert.page, payload: {area: "{{ captures.area }}"}}
              - delay: {after: 1h, type: http.recheck, payload: {area: "{{ captures.area }}"}}
          - name: ssh-failed
            on: ssh.log
            when: {field: payload.message, matches: 'Failed password for (?:invalid user )?(?<user>\\S+) from (?<ip>[\\d.]+)'}
            actions:
              - publish: {type: security.failed_login, payload: {user: "{{ captures.user }}", ip: "{{ captures.ip }}"}}
          - name: ssh-invalid-user
            on: ssh.log
            when: {field: payload.message, matches: 'Invalid user (?<user>\\S+) from (?<ip>[\\d.]+)'}
            actions:
              - publish: {type: security.invalid_user, payload: {user: "{{ captures.user }}", ip: "{{ captures.ip }}"}}
          - name: ssh-root-login
            on: ssh.log
            when: {field: payload.message, matches: 'Accepted (?<method>\\w+) for root from (?<ip>[\\d.]+)'}
            actions:
              - audit: "root login by {{ captures.method }} from {{ captures.ip }}"
              - emit: {type: alert.root_login, payload: {ip: "{{ captures.ip }}"}}
          - name: failed-root
            on: security.failed_login
            when: {field: payload.user, equals: root}
            actions: [{audit: "failed root login from {{ payload.ip }}"}]
          - name: refund
            on: ticket.created
            when: {intent: refund_request}
            actions:
              - publish: {type: billing.refund, payload: {order: "{{ intent.slots.order }}", customer: "{{ payload.customer }}"}}
          - name: password-reset
            on: ticket.created
            when: {intent: password_reset}
            actions:
              - publish: {type: account.reset_link, payload: {customer: "{{ payload.customer }}"}}
          - name: shipping
            on: ticket.created
            when: {intent: shipping_status}
            actions:
              - publish: {type: logistics.lookup, payload: {order: "{{ intent.slots.order }}"}}
          - name: cancellation
            on: ticket.created
            when: {intent: cancellation}
            actions:
              - delay: {after: 24h, type: ticket.follow_up, payload: {customer: "{{ payload.customer }}"}}
          - name: complaint
            on: ticket.created
            when: {intent: complaint}
            actions:
              - publish: {type: ticket.escalate, priority: 1, payload: {customer: "{{ payload.customer }}"}}
          - name: escalated
            on: ticket.escalate
            actions: [{audit: "escalated ticket of {{ payload.customer }}"}]
          - name: big-payment
            on: payment.charged
            when: {field: payload.amount, gt: 5000}
            actions: [{audit: "large charge for {{ payload.customer }}"}]
          - name: foreign-payment
            on: payment.charged
            when:
              all:
                - {field: payload.amount, gt: 1000}
                - not: {field: payload.card_country, in: [US, CA, GB]}
            actions:
              - publish: {type: fraud.review, payload: {customer: "{{ payload.customer }}", country: "{{ payload.card_country }}"}}
          - name: oom
            on: k8s.pod
            when: {field: payload.reason, equals: OOMKilled}
            actions:
              - publish: {type: ops.oom, payload: {pod: "{{ payload.pod }}", namespace: "{{ payload.namespace }}"}}
          - name: crashloop
            on: k8s.pod
            when:
              all:
                - {field: payload.reason, matches: '^CrashLoop'}
                - {field: payload.restarts, gte: 5}
            actions:
              - emit: {type: alert.page, payload: {pod: "{{ payload.pod }}"}}
          - name: main-broken
            on: build.finished
            when:
              all:
                - {field: payload.status, equals: failed}
                - {field: payload.branch, equals: main}
            actions:
              - publish: {type: ci.broken, payload: {repo: "{{ payload.repo }}"}}
        """

    // MARK: - The event stream

    /// Writes `count` seeded events; returns the bytes written.
    @discardableResult
    static func writeEvents(count: Int, to path: String) -> Int {
        var rng = SplitMix64(seed: 7_2026)
        func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
        let paths = [
            "/api/orders", "/api/search?q=shoes", "/api/checkout", "/api/payments", "/health", "/api/users/42/profile", "/metrics",
            "/static/app.js", "/wp-login.php", "/.env", "/api/cart", "/ready",
        ]
        let agents = ["Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0", "Go-http-client/2.0", "okhttp/4.12"]
        let texts = [
            "Hello, I would like a refund for order 48213, the item arrived broken and I want my money back",
            "Where is my package? Tracking says order 77120 was shipped a week ago but nothing has arrived",
            "Je veux être remboursé pour la commande 5521, le produit ne correspond pas à la description",
            "Mein Passwort funktioniert nicht mehr und ich bin aus meinem Konto ausgesperrt, bitte helfen",
            "Please cancel my subscription before the next billing date, I no longer need the service",
            "This is the worst service I have ever had, totally unacceptable, nobody answers my emails",
            "¿Dónde está mi paquete? El pedido 90412 no ha llegado y el envío estaba previsto para ayer",
            "Just wanted to say thanks, the new dashboard looks great and works well on my phone",
            "I forgot my password and the reset link in the email does not work, I am locked out",
            "Quiero cancelar mi suscripción y solicitar un reembolso del pedido 33019 por favor",
        ]
        let users = ["root", "admin", "alice", "deploy", "oracle", "git"]
        let reasons = ["Started", "Started", "Started", "OOMKilled", "CrashLoopBackOff", "Completed"]
        let file = fopen(path, "w")!
        defer { fclose(file) }
        var bytes = 0
        for index in 0..<count {
            let priority = rng.next() % 10
            let ip = "\(rng.next() % 223 + 1).\(rng.next() % 256).\(rng.next() % 256).\(rng.next() % 256)"
            let line: String
            switch rng.next() % 100 {
            case 0..<35:
                let roll = rng.next() % 100
                let status = roll < 3 ? 503 : roll < 7 ? 404 : 200
                let latency = Double(rng.next() % 1_500) + 0.25
                line = #"{"type":"http.request","priority":\#(priority),"source":"web-\#(rng.next() % 4)","payload":{"method":"\#(pick(["GET", "GET", "POST", "PUT"]))","path":"\#(pick(paths))","status":\#(status),"latency_ms":\#(latency),"client":"\#(ip)","agent":"\#(pick(agents))"}}"#
            case 35..<55:
                let message: String
                switch rng.next() % 4 {
                case 0: message = "sshd[\(index % 65_536)]: Failed password for \(pick(users)) from \(ip) port \(rng.next() % 60_000 + 1_024) ssh2"
                case 1: message = "sshd[\(index % 65_536)]: Invalid user \(pick(users))\(rng.next() % 100) from \(ip) port \(rng.next() % 60_000 + 1_024)"
                case 2: message = "sshd[\(index % 65_536)]: Accepted publickey for \(pick(users)) from \(ip) port \(rng.next() % 60_000 + 1_024) ssh2: ED25519 SHA256:Qm9x"
                default: message = "sshd[\(index % 65_536)]: Connection closed by authenticating user \(pick(users)) \(ip) port \(rng.next() % 60_000 + 1_024) [preauth]"
                }
                line = #"{"type":"ssh.log","priority":\#(priority),"source":"bastion-\#(rng.next() % 3)","payload":{"host":"bastion-\#(rng.next() % 3)","message":"\#(message)"}}"#
            case 55..<75:
                line = #"{"type":"ticket.created","priority":\#(priority),"source":"helpdesk","payload":{"customer":"c\#(rng.next() % 100_000)","channel":"\#(pick(["email", "chat", "web"]))","text":"\#(pick(texts))"}}"#
            case 75..<85:
                let amount = Double(rng.next() % 800_000) / 100
                line = #"{"type":"payment.charged","priority":\#(priority),"source":"payments","payload":{"customer":"c\#(rng.next() % 100_000)","amount":\#(amount),"currency":"\#(pick(["USD", "EUR", "GBP"]))","card_country":"\#(pick(["US", "US", "GB", "CA", "DE", "BR", "NG"]))","order":"o-\#(index)"}}"#
            case 85..<93:
                line = #"{"type":"k8s.pod","priority":\#(priority),"source":"kubelet","payload":{"namespace":"\#(pick(["shop", "search", "billing"]))","pod":"api-\#(rng.next() % 50)-\#(rng.next() % 100_000)","reason":"\#(pick(reasons))","restarts":\#(rng.next() % 9),"node":"node-\#(rng.next() % 12)"}}"#
            default:
                line = #"{"type":"build.finished","priority":\#(priority),"source":"ci","payload":{"repo":"\#(pick(["shop", "search", "billing", "infra"]))","branch":"\#(pick(["main", "main", "feature/x", "release/1.4"]))","status":"\#(pick(["passed", "passed", "passed", "failed"]))","duration_s":\#(rng.next() % 1_800),"commit":"\#(String(rng.next(), radix: 16))"}}"#
            }
            fputs(line + "\n", file)
            bytes += line.utf8.count + 1
        }
        return bytes
    }
}

extension String {
    fileprivate func trimmingSuffix(_ characters: String) -> String {
        var text = Substring(self)
        while let last = text.last, characters.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
