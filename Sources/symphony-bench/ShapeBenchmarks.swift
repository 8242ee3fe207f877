import Glibc

/// The held-out-shape workload of the event-path speed issue (`symphony-bench --only shape`):
/// a seeded stream of five event types — sshd log lines, HTTP requests, support tickets with free
/// text, metrics and deploys, ~224 bytes per line — under a 21-rule set of its own (different
/// types, fields and regexes from the `workload` group), whose publish and delay actions re-enter
/// the rules so that about 1.46 events are processed per input line.
///
/// Measured in one run against a floor: one `pcre2grep` pass of every regex of the rule set (the
/// eight `matches` regexes and the intents' patterns) over the same file. Reports events/s, CPU
/// µs per input event, peak RSS and CPU steal for the floor, `symphony run --no-history` and
/// `symphony run` with history (encryption on in both), each best of two; the ratio of each run's
/// rate to the floor's; the processed-to-input ratio and action rates from the runs' summary
/// lines; and the per-stage times of one `--stage-times` run of each configuration.
struct ShapeBenchmarks {
    /// Input events (1,000,000 at full scale; `--shape-events N` overrides).
    let events: Int

    static let eventsPath = ".bench/shape-events.jsonl"
    static let rulesPath = ".bench/shape-rules.yaml"
    static let patternsPath = ".bench/shape-patterns.txt"
    static let databasePath = ".bench/shape.db"
    static let keyPath = ".bench/shape.key"

    /// Ratio of `symphony run`'s events/s to the floor's that the issue asks for.
    static let targets: [(name: String, ratio: Double)] = [("history-off", 0.5), ("history-on", 0.3)]

    // MARK: - The rule set

    /// The rule set's eight `matches` regexes, by the rule that uses them (the floor runs the same text).
    static let fieldRegexes: [(rule: String, regex: String)] = [
        ("ssh-pam-failure", #"authentication failure;.*\brhost=(?<rhost>[0-9.]+)\s+user=(?<account>[\w.-]+)"#),
        ("ssh-invalid-disconnect", #"Disconnected from invalid user (?<login>\S+) (?<addr>[0-9.]+) port (?<port>\d+)"#),
        ("ssh-max-attempts", #"maximum authentication attempts exceeded for (?:invalid user )?(?<who>\S+) from (?<src>[0-9.]+) port \d+"#),
        ("web-api-error", #"^/v(?<ver>[0-9])/(?<resource>accounts|invoices|exports)/(?<rid>[0-9]+)"#),
        ("web-scanner", #"(?<tool>sqlmap|nikto|masscan|zgrab|Nuclei)/(?<toolver>[0-9][0-9.]*)"#),
        ("metric-saturation", #"^(?<subsystem>disk|mem)\.(?<metric>[a-z_]+)\.p99$"#),
        ("deploy-candidate", #"^v(?<major>[0-9]+)\.(?<minor>[0-9]+)\.(?<patch>[0-9]+)-(?<channel>rc|hotfix)[0-9]*$"#),
        ("sec-internal", #"^(?<net>10|192\.168|172\.(?:1[6-9]|2[0-9]|3[01]))\."#),
    ]

    /// Five intents, each with 3–5 phrase patterns and 8–15 keywords (on the tickets' `body`).
    static let intents: [(name: String, patterns: [String], keywords: [String])] = [
        (
            "billing_dispute",
            [
                #"charged\s+(?:me\s+)?(?:twice|two times|double)"#,
                #"(?:invoice|bill)\s*(?:no\.?|number|#)\s*(?<invoice>[a-z]{2}-\d{4,})"#,
                #"disput\w*\s+(?:the|this|a)\s+(?:charge|payment|transaction)"#,
                #"unauthori[sz]ed\s+(?:charge|transaction|payment)"#,
            ],
            ["invoice", "charge", "charged", "billing", "overcharged", "dispute", "credit card", "statement", "refund", "fee", "receipt", "chargeback"]
        ),
        (
            "account_access",
            [
                #"(?:can ?not|can't|unable to)\s+(?:log\s*in|sign\s*in|access)"#,
                #"(?:two[- ]factor|2fa|mfa)\s+(?:code|token|prompt)"#,
                #"(?:locked|kicked)\s+out\s+of\s+(?:my\s+|the\s+)?account"#,
                #"reset\s+link\s+(?:expired|never arrived|does not work)"#,
            ],
            ["login", "log in", "sign in", "locked", "password", "authenticator", "sso", "username", "verification code", "session", "account"]
        ),
        (
            "data_export",
            [
                #"export\w*\s+(?:all\s+)?(?:of\s+)?(?:my\s+|our\s+)?(?<what>data|records|contacts|history|invoices)"#,
                #"(?:gdpr|data portability)\s+request"#,
                #"download\s+(?:a\s+)?(?:full\s+)?(?:copy|archive|backup)\s+of"#,
            ],
            ["export", "csv", "download", "archive", "gdpr", "backup", "portability", "json", "spreadsheet", "bulk"]
        ),
        (
            "outage_report",
            [
                #"(?:is|are|seems)\s+(?:completely\s+)?(?:down|unreachable|not loading)"#,
                #"(?:error|status)\s+(?:code\s+)?(?<errcode>5\d\d)"#,
                #"tim(?:es|ed|ing)\s+out\s+(?:again|every time|constantly)"#,
                #"since\s+(?<since>\d{1,2}(?::\d\d)?\s*(?:am|pm|utc))"#,
            ],
            ["down", "outage", "unreachable", "timeout", "error", "broken", "crash", "slow", "offline", "unavailable", "incident", "status page"]
        ),
        (
            "plan_change",
            [
                #"(?:upgrad|downgrad|switch)\w*\s+(?:us\s+|me\s+)?(?:to|from)\s+(?:the\s+)?(?<plan>basic|pro|team|enterprise)"#,
                #"(?:add|remove)\s+(?<seats>\d+)\s+(?:more\s+)?(?:seats|users|licen[cs]es)"#,
                #"annual\s+(?:plan|billing|contract)"#,
                #"change\s+(?:our|my)\s+(?:plan|subscription|tier)"#,
            ],
            ["upgrade", "downgrade", "plan", "seats", "pricing", "tier", "enterprise", "license", "licence", "annual", "quote", "discount"]
        ),
    ]

    /// A YAML single-quoted scalar.
    private static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    private static func regex(_ rule: String) -> String { quoted(fieldRegexes.first { $0.rule == rule }!.regex) }

    static var rules: String {
        var text = "# The held-out-shape workload's rules (symphony-bench --only shape): 21 rules over 5 input types.\nintents:\n"
        for intent in intents {
            text += "  - name: \(intent.name)\n    patterns:\n"
            for pattern in intent.patterns { text += "      - \(quoted(pattern))\n" }
            text += "    keywords: [\(intent.keywords.joined(separator: ", "))]\n"
        }
        text += """
            rules:
              - name: ssh-pam-failure
                on: auth.sshd
                when: {field: payload.line, matches: \(regex("ssh-pam-failure"))}
                actions:
                  - publish: {type: sec.auth.failure, payload: {addr: "{{ captures.rhost }}", account: "{{ captures.account }}", node: "{{ payload.node }}"}}
              - name: ssh-invalid-disconnect
                on: auth.sshd
                when: {field: payload.line, matches: \(regex("ssh-invalid-disconnect"))}
                actions:
                  - publish: {type: sec.auth.probe, payload: {addr: "{{ captures.addr }}", login: "{{ captures.login }}", port: "{{ captures.port }}"}}
              - name: ssh-max-attempts
                on: auth.sshd
                when: {field: payload.line, matches: \(regex("ssh-max-attempts"))}
                actions:
                  - delay: {after: 0s, type: sec.block.review, payload: {addr: "{{ captures.src }}", who: "{{ captures.who }}", node: "{{ payload.node }}"}}
              - name: web-api-error
                on: web.access
                when:
                  all:
                    - {field: payload.uri, matches: \(regex("web-api-error"))}
                    - {field: payload.code, gte: 500}
                actions:
                  - publish: {type: ops.api_error, priority: 1, payload: {resource: "{{ captures.resource }}", id: "{{ captures.rid }}", code: "{{ payload.code }}"}}
              - name: web-scanner
                on: web.access
                when: {field: payload.ua, matches: \(regex("web-scanner"))}
                actions:
                  - publish: {type: sec.scanner, payload: {addr: "{{ payload.remote }}", tool: "{{ captures.tool }}", version: "{{ captures.toolver }}"}}
              - name: web-denied
                on: web.access
                when:
                  any:
                    - {field: payload.code, equals: 401}
                    - {field: payload.code, equals: 403}
                actions:
                  - publish: {type: sec.denied, payload: {addr: "{{ payload.remote }}", uri: "{{ payload.uri }}", code: "{{ payload.code }}"}}
              - name: web-slow
                on: web.access
                when: {field: payload.duration_ms, gt: 2500}
                actions: [{audit: "slow {{ payload.verb }} {{ payload.uri }} ({{ payload.duration_ms }} ms)"}]
              - name: metric-saturation
                on: telemetry.metric
                when: {field: payload.name, matches: \(regex("metric-saturation"))}
                actions:
                  - publish: {type: ops.capacity, payload: {host: "{{ payload.host }}", subsystem: "{{ captures.subsystem }}", value: "{{ payload.value }}"}}
              - name: metric-outside-prod
                on: telemetry.*
                when: {not: {field: payload.env, equals: prod}}
                actions: [{audit: "{{ payload.env }} metric {{ payload.name }} from {{ payload.host }}"}]
              - name: deploy-candidate
                on: release.deploy
                when: {field: payload.version, matches: \(regex("deploy-candidate"))}
                actions:
                  - delay: {after: 0s, type: release.verify, payload: {service: "{{ payload.service }}", channel: "{{ captures.channel }}", version: "{{ payload.version }}"}}
              - name: deploy-failed
                on: release.deploy
                when: {field: payload.result, equals: failed}
                actions:
                  - publish: {type: ops.rollback, payload: {service: "{{ payload.service }}", version: "{{ payload.version }}", actor: "{{ payload.actor }}"}}
              - name: billing-dispute
                on: helpdesk.ticket
                when: {intent: {name: billing_dispute, field: payload.body}}
                actions:
                  - publish: {type: support.billing, payload: {account: "{{ payload.account }}", tier: "{{ payload.tier }}", invoice: "{{ intent.slots.invoice }}"}}
              - name: account-access
                on: helpdesk.ticket
                when: {intent: {name: account_access, field: payload.body}}
                actions:
                  - publish: {type: support.access, payload: {account: "{{ payload.account }}", tier: "{{ payload.tier }}"}}
              - name: data-export
                on: helpdesk.ticket
                when: {intent: {name: data_export, field: payload.body}}
                actions:
                  - publish: {type: support.export, payload: {account: "{{ payload.account }}", tier: "{{ payload.tier }}", what: "{{ intent.slots.what }}"}}
              - name: outage-report
                on: helpdesk.ticket
                when: {intent: {name: outage_report, field: payload.body}}
                actions:
                  - publish: {type: support.outage, payload: {account: "{{ payload.account }}", tier: "{{ payload.tier }}", code: "{{ intent.slots.errcode }}"}}
              - name: plan-change
                on: helpdesk.ticket
                when: {intent: {name: plan_change, field: payload.body}}
                actions:
                  - delay: {after: 0s, type: support.plan_review, payload: {account: "{{ payload.account }}", tier: "{{ payload.tier }}", plan: "{{ intent.slots.plan }}"}}
              - name: sec-internal
                on: sec.**
                when: {field: payload.addr, matches: \(regex("sec-internal"))}
                actions: [{audit: "{{ type }} from internal network {{ captures.net }} ({{ payload.addr }})"}]
              - name: ops-page
                on: ops.*
                when: {field: priority, lte: 1}
                actions: [{audit: "page: {{ type }} {{ payload }}"}]
              - name: support-enterprise
                on: support.*
                when: {field: payload.tier, equals: enterprise}
                actions: [{audit: "enterprise {{ type }} for {{ payload.account }}"}]
              - name: release-hotfix
                on: release.verify
                when: {field: payload.channel, equals: hotfix}
                actions: [{audit: "verify hotfix {{ payload.version }} of {{ payload.service }}"}]
              - name: p0-trail
                on: "**"
                when: {field: priority, equals: 0}
                actions: [{audit: "p0 {{ type }} {{ id }}"}]

            """
        return text
    }

    /// The floor's patterns, one a line, compiled as the rule set compiles them: UTF (`-u`) with
    /// Unicode properties (`(*UCP)`), intent patterns caseless.
    static var floorPatterns: String {
        let field = fieldRegexes.map { "(*UCP)" + $0.regex }
        let intent = intents.flatMap(\.patterns).map { "(*UCP)(?i)" + $0 }
        return (field + intent).joined(separator: "\n") + "\n"
    }

    // MARK: - The event stream

    /// Writes `count` seeded events; returns the bytes written.
    @discardableResult
    static func writeEvents(count: Int, to path: String) -> Int {
        var rng = SplitMix64(seed: 224_1_46)
        func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
        func percent() -> UInt64 { rng.next() % 100 }
        func address() -> String {
            switch percent() {
            case 0..<12: "10.\(rng.next() % 256).\(rng.next() % 256).\(rng.next() % 254 + 1)"
            case 12..<20: "192.168.\(rng.next() % 256).\(rng.next() % 254 + 1)"
            case 20..<25: "172.\(16 + rng.next() % 16).\(rng.next() % 256).\(rng.next() % 254 + 1)"
            default: "\(rng.next() % 223 + 1).\(rng.next() % 256).\(rng.next() % 256).\(rng.next() % 254 + 1)"
            }
        }
        let users = ["admin", "ubuntu", "oracle", "postgres", "test", "jenkins", "pi", "support", "ftpuser", "git"]
        let uris = [
            "/v2/accounts/", "/v1/invoices/", "/v2/exports/", "/v3/accounts/", "/static/js/vendor.3f9a1c.js", "/login", "/v2/search?q=blue+widgets&page=",
            "/api/graphql", "/favicon.ico", "/v1/reports/monthly?format=pdf&id=",
        ]
        let agents = [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) Safari/605.1.15",
            "okhttp/4.12.0", "python-requests/2.31.0", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)",
        ]
        let scanners = ["sqlmap/1.7.11#stable", "Mozilla/5.0 (compatible; Nuclei/3.1.4)", "masscan/1.3.2", "Mozilla/5.0 zgrab/0.x", "Nikto nikto/2.5.0"]
        let texts = [
            "Hello, you charged me twice this month for the same subscription, please check invoice no. AB-20931 and fix it",
            "I cannot log in since this morning, the 2FA code prompt never shows up and the chat widget is useless",
            "We need to export all our contacts to CSV before the migration next week, is there a bulk download?",
            "The dashboard is completely down for our whole team, we get error 503 on every page since 9:40 am",
            "We would like to upgrade to the enterprise plan and add 25 seats before the end of the quarter",
            "Can you change our plan to annual billing? Also the last invoice shows a fee we do not understand",
            "The login page keeps timing out again and again, our SSO users are stuck at the redirect",
            "Under GDPR I request a full copy of my personal data, please send it as JSON or CSV by email",
            "Thanks for the quick answer yesterday, everything works fine now and the team is happy with it",
            "Is there a way to change the colour of the sidebar? The current one is hard to read at night",
            "Bonjour, la facture du mois dernier est incorrecte, merci de vérifier le montant et de me répondre",
            "There is an unauthorized charge of 49 EUR on my credit card statement, I want a chargeback now",
            "Please downgrade us to the basic plan next month and remove 3 licences from the admin group",
            "API requests are unreachable from eu-west since 14:05 utc, the status page says all good though",
        ]
        let subjects = ["Billing", "Access", "Question", "Urgent", "Feedback", "Account"]
        let metrics = [
            "disk.io_wait.p99", "mem.rss.p99", "cpu.user.p50", "cpu.system.p50", "net.rx_bytes.sum", "net.tx_bytes.sum", "disk.free_pct.min",
            "cpu.steal.max", "mem.swap_used.p99", "http.requests.rate", "gc.pause_ms.p50", "mem.page_faults.rate", "queue.depth.max", "disk.queue_len.p50",
        ]
        let services = ["billing-api", "search-indexer", "auth-gateway", "notifications", "ledger", "web-frontend"]
        let regions = ["eu-central-1", "us-east-2", "ap-south-1"]
        let actors = ["alice", "bob", "chen", "dara", "eli", "ci-bot"]
        let file = fopen(path, "w")!
        defer { fclose(file) }
        var bytes = 0
        for index in 0..<count {
            let roll = percent()
            let priority = roll < 2 ? 0 : 1 + roll % 9
            let line: String
            switch percent() {
            case 0..<33:
                let uri = pick(uris)
                let codeRoll = percent()
                let code = codeRoll < 4 ? pick([500, 502, 503, 504]) : codeRoll < 7 ? 401 : codeRoll < 10 ? 403 : codeRoll < 15 ? 404 : pick([200, 200, 200, 201, 304])
                let duration = percent() < 5 ? 2_500 + Double(rng.next() % 9_000) / 4 : Double(rng.next() % 8_000) / 4
                let agent = percent() < 8 ? pick(scanners) : pick(agents)
                line = #"{"type":"web.access","priority":\#(priority),"source":"edge-\#(rng.next() % 6)","payload":{"verb":"\#(pick(["GET", "GET", "GET", "POST", "DELETE"]))","uri":"\#(uri.hasSuffix("/") || uri.hasSuffix("=") ? uri + String(rng.next() % 100_000) : uri)","code":\#(code),"duration_ms":\#(duration),"remote":"\#(address())","ua":"\#(agent)","bytes":\#(rng.next() % 90_000)}}"#
            case 33..<55:
                let ip = address()
                let port = rng.next() % 60_000 + 1_024
                let user = pick(users)
                let message: String
                switch percent() {
                case 0..<35: message = "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=\(ip)  user=\(user)"
                case 35..<58: message = "Disconnected from invalid user \(user)\(rng.next() % 100) \(ip) port \(port) [preauth]"
                case 58..<73: message = "error: maximum authentication attempts exceeded for invalid user \(user) from \(ip) port \(port) ssh2 [preauth]"
                case 73..<87: message = "Received disconnect from \(ip) port \(port):11: Bye Bye [preauth]"
                default: message = "Accepted publickey for \(user) from \(ip) port \(port) ssh2: ED25519 SHA256:p4XkQ\(rng.next() % 10_000)"
                }
                let node = "jump-\(rng.next() % 4)"
                line = #"{"type":"auth.sshd","priority":\#(priority),"source":"\#(node)","payload":{"node":"\#(node)","facility":"authpriv","pid":\#(1_000 + index % 60_000),"line":"\#(message)"}}"#
            case 55..<75:
                let tier = pick(["free", "free", "pro", "pro", "enterprise"])
                line = #"{"type":"helpdesk.ticket","priority":\#(priority),"source":"desk","payload":{"account":"acct-\#(rng.next() % 1_000_000)","tier":"\#(tier)","subject":"\#(pick(subjects))","body":"\#(pick(texts))"}}"#
            case 75..<90:
                let envRoll = percent()
                let env = envRoll < 90 ? "prod" : envRoll < 96 ? "staging" : "dev"
                line = #"{"type":"telemetry.metric","priority":\#(priority),"source":"collector-\#(rng.next() % 8)","payload":{"name":"\#(pick(metrics))","host":"\#(pick(["db", "api", "cache", "worker"]))-\#(rng.next() % 40)","env":"\#(env)","region":"\#(pick(regions))","value":\#(Double(rng.next() % 10_000) / 100),"unit":"\#(pick(["pct", "ms", "bytes", "count"]))","window_s":60}}"#
            default:
                let version = "v\(rng.next() % 5).\(rng.next() % 30).\(rng.next() % 20)" + (percent() < 25 ? pick(["-rc1", "-rc2", "-hotfix", "-hotfix2"]) : "")
                let result = percent() < 12 ? "failed" : "succeeded"
                line = #"{"type":"release.deploy","priority":\#(priority),"source":"cd-pipeline","payload":{"service":"\#(pick(services))","env":"\#(pick(["production", "production", "staging"]))","version":"\#(version)","result":"\#(result)","region":"\#(pick(regions))","actor":"\#(pick(actors))","change":"CHG-\#(100_000 + rng.next() % 900_000)","duration_s":\#(rng.next() % 1_800)}}"#
            }
            fputs(line + "\n", file)
            bytes += line.utf8.count + 1
        }
        return bytes
    }
}

// MARK: - Measuring

extension ShapeBenchmarks {
    /// The counts of a `symphony run` summary line (`symphony: 1,000,000 events read, 0 rejected, …`).
    struct Summary: Equatable {
        var read = 0
        var rejected = 0
        var processed = 0
        var rulesFired = 0
        var actions: [String: Int] = [:]
        var errors = 0
        var pending = 0

        /// The summary line in `text` (a run's stderr), or nil when there is none.
        init?(_ text: String) {
            guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("symphony: ") && $0.contains(" processed, ") }) else { return nil }
            // Drop the thousands separators (a comma between two digits), then read "N words" and "word N" parts.
            let characters = Array(line.dropFirst("symphony: ".count))
            var plain = ""
            for (index, character) in characters.enumerated() {
                if character == ",", index > 0, index + 1 < characters.count, characters[index - 1].isNumber, characters[index + 1].isNumber { continue }
                plain.append(character)
            }
            for part in plain.split(whereSeparator: { $0 == "," || $0 == ";" }) {
                var words = part.split(separator: " ").map(String.init)
                if words.first == "actions:" { words.removeFirst() }
                guard words.count >= 2 else { continue }
                if let number = Int(words[0]) {
                    switch words[1] {
                    case "events" where words.count > 2 && words[2] == "read": read = number
                    case "rejected": rejected = number
                    case "processed": processed = number
                    case "rules": rulesFired = number
                    case "errors": errors = number
                    case "delayed" where words.contains("still") && words.contains("pending"): pending = number
                    default: break
                    }
                } else if words.count == 2, let number = Int(words[1]) {
                    actions[words[0]] = number
                }
            }
            guard read > 0 || processed > 0 else { return nil }
        }
    }

    /// One configuration's best run, the CPU steal while it ran, and its stderr.
    struct Measured {
        let run: BenchProcess.Run
        let steal: Double
        /// CPU time other processes used while it ran, in percent of the machine's cores.
        let otherLoad: Double
        let stderr: String
    }

    /// Busy CPU seconds of the whole machine so far (user, nice, system, irq, softirq in
    /// /proc/stat): minus a child's own CPU time, what other processes took while it ran.
    static func machineBusySeconds() -> Double {
        guard let file = fopen("/proc/stat", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        guard fgets(&line, Int32(line.count), file) != nil else { return 0 }
        // cpu  user nice system idle iowait irq softirq steal …
        let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 7 else { return 0 }
        return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// One run of `arguments` (stdout and stderr kept in `.bench/shape-NAME.*`) with the CPU steal while it ran.
    private func measure(_ arguments: [String], name: String) -> Measured? {
        let stderrPath = ".bench/shape-\(name).stderr"
        let steal = CPUSteal()
        let busy = Self.machineBusySeconds()
        guard let run = BenchProcess.measure(arguments, stdoutPath: ".bench/shape-\(name).stdout", stderrPath: stderrPath) else {
            print("symphony-bench: shape: run failed: \(arguments.joined(separator: " "))")
            return nil
        }
        let others = max(0, Self.machineBusySeconds() - busy - run.cpuSeconds) / (run.seconds * Double(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        return Measured(run: run, steal: CPUSteal.percent(since: steal), otherLoad: others * 100, stderr: BenchProcess.read(stderrPath))
    }

    private var label: String { "shape/" + (events / 1_000_000 > 0 ? "\(events / 1_000_000)M" : "\(events / 1_000)k") }

    func run(binary: String, into results: inout [BenchmarkResult]) {
        mkdir(".bench", 0o755)
        BenchProcess.ensureKey(binary: binary, at: Self.keyPath)
        BenchProcess.write(Self.rules, to: Self.rulesPath)
        BenchProcess.write(Self.floorPatterns, to: Self.patternsPath)
        let bytes = Self.writeEvents(count: events, to: Self.eventsPath)
        let perEvent = 1e6 / Double(events)
        func record(_ benchmark: String, _ metric: String, _ value: Double, _ unit: String) {
            results.append(BenchmarkResult(benchmark: "\(label)/\(benchmark)", metric: metric, value: value, unit: unit))
        }
        record("input", "events", Double(events), "events")
        record("input", "bytes_per_event", Double(bytes) / Double(events), "bytes")
        record("input", "regexes", Double(Self.fieldRegexes.count + Self.intents.reduce(0) { $0 + $1.patterns.count }), "patterns")

        // The floor — every regex of the rule set in one pcre2grep pass over the file, counting
        // matching lines, with pcre2grep's defaults (bytes, not UTF-8: the floor the targets are
        // set against) and with `-u` (UTF-8 and Unicode properties, as Symphony compiles them,
        // about three times slower) — and `symphony run`, encryption on, without and with
        // history, and without history printing every outcome (`--format ndjson`, what a user
        // feeding another tool runs; its output goes to a file, removed afterwards). Rounds
        // interleave them so that a slow spell of the shared host hits them alike; each keeps its
        // fastest run.
        let grep = BenchProcess.executable("pcre2grep")
        if grep == nil { print("symphony-bench: shape: pcre2grep is not on PATH (Debian: pcre2-utils); the floor and the ratios are not measured") }
        let common = [binary, "run", "--rules", Self.rulesPath, "--events", Self.eventsPath, "--output", "summary"]
        let configurations: [(name: String, arguments: [String])] =
            (grep.map {
                [("floor", [$0, "-c", "-f", Self.patternsPath, Self.eventsPath]), ("floor-utf", [$0, "-c", "-u", "-f", Self.patternsPath, Self.eventsPath])]
            } ?? []) + [
                ("history-off", common + ["--no-history"]),
                ("history-on", common + ["--db", Self.databasePath, "--key-file", Self.keyPath]),
                ("history-off-ndjson", [binary, "run", "--rules", Self.rulesPath, "--events", Self.eventsPath, "--no-history", "--format", "ndjson"]),
            ]
        var best: [String: Measured] = [:]
        var summaries: [String: Summary] = [:]
        var historyRows: HistoryFloorBenchmark.RowMix?
        for _ in 0..<2 {
            for (name, arguments) in configurations {
                BenchProcess.removeDatabase(Self.databasePath)
                guard let measured = measure(arguments, name: name) else { continue }
                if name == "history-off-ndjson" { unlink(".bench/shape-\(name).stdout") }
                if !name.hasPrefix("floor") {
                    // A run that rejects lines, fails actions or fires nothing would be fast and wrong.
                    guard let summary = Summary(measured.stderr), summary.read == events, summary.rejected == 0, summary.errors == 0,
                        summary.pending == 0, summary.processed > events
                    else {
                        print("symphony-bench: shape \(name): unexpected summary, not reported: \(measured.stderr.split(separator: "\n").last ?? "")")
                        continue
                    }
                    if let earlier = summaries.values.first, earlier != summary {
                        print("symphony-bench: shape: two runs' summaries differ: \(earlier) / \(summary)")
                    }
                    summaries[name] = summary
                    if name == "history-on" { historyRows = HistoryFloorBenchmark.rowMix(of: Self.databasePath) }
                }
                if best[name].map({ measured.run.seconds < $0.run.seconds }) ?? true { best[name] = measured }
            }
        }
        let floorRate = best["floor"].map { Double(events) / $0.run.seconds }
        let utfFloorRate = best["floor-utf"].map { Double(events) / $0.run.seconds }
        for (name, _) in configurations {
            guard let measured = best[name] else { continue }
            let benchmark = name == "floor" ? "floor/pcre2grep" : name == "floor-utf" ? "floor/pcre2grep-utf" : name
            let rate = Double(events) / measured.run.seconds
            record(benchmark, "events_per_second", rate, "events/s")
            record(benchmark, "cpu_microseconds_per_event", measured.run.cpuSeconds * perEvent, "µs")
            record(benchmark, "peak_rss", measured.run.peakMiB, "MiB")
            record(benchmark, "cpu_steal", measured.steal, "%")
            record(benchmark, "other_processes_cpu", measured.otherLoad, "%")
            if name.hasPrefix("floor"), let lines = Double(BenchProcess.read(".bench/shape-\(name).stdout").filter(\.isNumber)) {
                record(benchmark, "matching_lines_share", lines / Double(events) * 100, "%")
            }
            if let floorRate, let target = Self.targets.first(where: { $0.name == name })?.ratio {
                record(benchmark, "floor_ratio", rate / floorRate, "×")
                record(benchmark, "floor_ratio_target", target, "×")
                record(benchmark, "floor_ratio_target_met", rate / floorRate >= target ? 1 : 0, "bool")
            }
            if let utfFloorRate, !name.hasPrefix("floor") { record(benchmark, "utf_floor_ratio", rate / utfFloorRate, "×") }
        }
        if let historyRows {
            record("history-on", "history_event_rows_per_input", Double(historyRows.events) / Double(events), "rows")
            record("history-on", "history_execution_rows_per_input", Double(historyRows.executions) / Double(events), "rows")
        }

        // What the rules did, from the summary line: events processed per input line, actions per input line.
        if let summary = summaries["history-off"] ?? summaries["history-on"] {
            record("summary", "processed_per_input", Double(summary.processed) / Double(events), "events")
            record("summary", "rules_fired_per_input", Double(summary.rulesFired) / Double(events), "rules")
            for kind in ["publish", "delay", "audit"] {
                record("summary", "\(kind)_per_input", Double(summary.actions[kind, default: 0]) / Double(events), "actions")
            }
        }

        for (name, arguments) in configurations where name == "history-off" || name == "history-on" {
            stageTimes(arguments, name: name, into: &results)
        }
        BenchProcess.removeDatabase(Self.databasePath)
    }

    /// One more run with `--stage-times`: each stage's µs per input event and share, and the
    /// process's CPU per input event in that run.
    private func stageTimes(_ arguments: [String], name: String, into results: inout [BenchmarkResult]) {
        BenchProcess.removeDatabase(Self.databasePath)
        guard let measured = measure(arguments + ["--stage-times"], name: "stages-\(name)") else { return }
        let run = measured.run
        let benchmark = "\(label)/stages/\(name)"
        var sum = 0.0
        for line in measured.stderr.split(separator: "\n") {
            // stage <name> <ms> ms <µs> µs/event <share>%
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 7, fields[0] == "stage", let micros = Double(fields[4]), let share = Double(fields[6].dropLast()) else { continue }
            sum += micros
            results.append(BenchmarkResult(benchmark: "\(benchmark)/\(fields[1])", metric: "microseconds_per_event", value: micros, unit: "µs"))
            results.append(BenchmarkResult(benchmark: "\(benchmark)/\(fields[1])", metric: "share", value: share, unit: "%"))
        }
        results.append(BenchmarkResult(benchmark: "\(benchmark)/sum", metric: "microseconds_per_event", value: sum, unit: "µs"))
        results.append(
            BenchmarkResult(benchmark: "\(benchmark)/process-cpu", metric: "microseconds_per_event", value: run.cpuSeconds * 1e6 / Double(events), unit: "µs"))
        results.append(BenchmarkResult(benchmark: "\(benchmark)/process-cpu", metric: "other_processes_cpu", value: measured.otherLoad, unit: "%"))
    }
}
