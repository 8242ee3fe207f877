import Glibc
import SymphonyPostgres

/// `symphony run --store postgres://…` with 1, 2 and 3 nodes (processes) on this machine: the
/// input split between the nodes, each rule set's work shared through the database. Reports
/// input events per second, handled events per second, and database round trips per handled
/// event (statements the nodes sent, summed). Needs the cluster `make bench` starts
/// (SYMPHONY_TEST_POSTGRES); without it the group says so and records nothing.
///
/// Two workloads: `cluster/…`, rules without memory; `cluster-memory/…`, failed and successful
/// logins from 1,000 addresses through a window, a throttle, a pairing, keyed delays replaced on
/// every failure and cancels, so that the nodes share and lock gate state on every event.
struct ClusterBenchmarks {
    let events: Int
    /// Rules with memory (`cluster-memory/…`) instead of the plain workload.
    var memory = false

    /// Each input event publishes a step and audits; a third of them also delay a follow-up due
    /// at once: 1 + 1 + 1/3 handled events per input event.
    static let rules = """
        rules:
          - name: fan-out
            on: job.created
            actions:
              - publish: {type: job.step, payload: {n: "{{ payload.n }}"}}
              - audit: "job {{ payload.n }}"
          - name: later
            on: job.created
            when: {field: payload.third, equals: true}
            actions:
              - delay: {after: 0s, type: job.later, payload: {n: "{{ payload.n }}"}}
          - name: step
            on: job.step
            actions: [{emit: {type: job.done, payload: {n: "{{ payload.n }}"}}}]
          - name: follow-up
            on: job.later
            actions: [{emit: {type: job.followed, payload: {n: "{{ payload.n }}"}}}]
        """

    /// 80% failed logins, 20% successful ones, from 1,000 addresses; a window of 5 failures bans
    /// an address (once an hour), each failure (re)schedules its address's unlock, and a success
    /// after a failure cancels it: 1 + 1/5 × 4/5 handled events per input event, about.
    static let memoryRules = """
        rules:
          - name: failures
            on: login.failed
            count: {key: "{{ payload.ip }}", at_least: 5, within: 10m}
            actions: [{publish: {type: ip.banned, payload: {ip: "{{ window.key }}"}}}]
          - name: alert-once
            on: ip.banned
            throttle: {key: "{{ payload.ip }}", per: 1h}
            actions: [{audit: "banned {{ payload.ip }}"}]
          - name: lockout
            on: login.failed
            actions: [{delay: {after: 1h, key: "unlock-{{ payload.ip }}", type: ip.unlock, payload: {ip: "{{ payload.ip }}"}}}]
          - name: success
            on: login.ok
            after: {on: login.failed, key: "{{ payload.ip }}", within: 10m}
            actions: [{cancel: "unlock-{{ payload.ip }}"}, {audit: "ok after a failure from {{ payload.ip }}"}]
        """

    /// Input event `n` of the workload.
    func line(_ n: Int) -> String {
        guard memory else { return #"{"type":"job.created","payload":{"n":\#(n),"third":\#(n % 3 == 0)}}"# }
        let address = "198.51.\(n % 1_000 / 250).\(n % 250)"
        return #"{"type":"login.\#(n % 5 == 4 ? "ok" : "failed")","payload":{"ip":"\#(address)"}}"#
    }

    func run(binary: String, into results: inout [BenchmarkResult]) throws {
        guard let cluster = getenv("SYMPHONY_TEST_POSTGRES").map({ String(cString: $0) }) else {
            print("symphony-bench: cluster: SYMPHONY_TEST_POSTGRES is not set (make bench starts a throwaway PostgreSQL cluster); skipped")
            return
        }
        let directory = "/tmp/symphony-bench-cluster-\(getpid())"
        mkdir(directory, 0o700)
        defer { _ = system("rm -rf '\(directory)'") }
        try write(memory ? Self.memoryRules : Self.rules, to: directory + "/rules.yaml")
        guard BenchProcess.measure([binary, "keygen", "-o", directory + "/key"]) != nil else { return }
        for nodes in 1...3 {
            // The same events each time, split into one file per node.
            for node in 0..<nodes {
                var text = ""
                for n in stride(from: node, to: events, by: nodes) {
                    text += line(n) + "\n"
                }
                try write(text, to: directory + "/in\(node).jsonl")
            }
            let database = "symphony_bench_\(memory ? "memory_" : "")\(nodes)_\(getpid())"
            let admin = try PostgresConnection(url: cluster)
            try admin.execute("DROP DATABASE IF EXISTS \(database)")
            try admin.execute("CREATE DATABASE \(database)")
            defer { _ = try? admin.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
            let url = Self.url(cluster, database: database)
            try PostgresSchema.migrate(try PostgresConnection(url: url))
            let start = RuntimeBenchmarks.monotonicNanoseconds()
            var children: [pid_t] = []
            for node in 0..<nodes {
                let arguments = [
                    binary, "run", directory + "/rules.yaml", "--events", directory + "/in\(node).jsonl", "--store", url, "--node", "n\(node)",
                    "--key-file", directory + "/key", "--workers", "2",
                ]
                guard let pid = spawn(arguments, stderr: directory + "/n\(node).err") else { return }
                children.append(pid)
            }
            var failed = false
            for pid in children {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                if status != 0 { failed = true }
            }
            let seconds = Double(RuntimeBenchmarks.monotonicNanoseconds() - start) / 1e9
            guard !failed else {
                print("symphony-bench: cluster: a node failed; see \(directory)/n*.err")
                continue
            }
            let counts = try PostgresConnection(url: url).execute("SELECT count(*) FROM symphony_handled")
            let handled = Double(try counts.int(0, 0) ?? 0)
            var statements = 0.0
            for node in 0..<nodes { statements += Self.roundTrips(in: BenchProcess.read(directory + "/n\(node).err")) }
            let name = "cluster\(memory ? "-memory" : "")/\(nodes)-node\(nodes == 1 ? "" : "s")"
            results.append(BenchmarkResult(benchmark: name, metric: "input_throughput", value: Double(events) / seconds, unit: "events/s"))
            results.append(BenchmarkResult(benchmark: name, metric: "handled_throughput", value: handled / seconds, unit: "events/s"))
            results.append(BenchmarkResult(benchmark: name, metric: "round_trips_per_event", value: statements / max(1, handled), unit: "round trips"))
        }
    }

    /// The URL of `database` on the server `cluster` names (its last path segment replaced).
    static func url(_ cluster: String, database: String) -> String {
        let query = cluster.firstIndex(of: "?").map { String(cluster[$0...]) } ?? ""
        let base = String(cluster.prefix { $0 != "?" })
        guard let slash = base.lastIndex(of: "/") else { return cluster }
        return String(base[..<slash]) + "/" + database + query
    }

    /// "N database round trips" in a node's summary line.
    static func roundTrips(in log: String) -> Double {
        let suffix = " database round trips"
        guard let line = log.split(separator: "\n").last(where: { $0.contains(suffix) }) else { return 0 }
        let words = line.split(separator: " ")
        guard let index = words.firstIndex(where: { $0.hasPrefix("round") }), index >= 2 else { return 0 }
        return Double(words[index - 2]) ?? 0
    }

    private func spawn(_ arguments: [String], stderr: String) -> pid_t? {
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        return posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 ? pid : nil
    }

    private func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else { throw BenchError("cannot write \(path)") }
        defer { fclose(file) }
        fputs(text, file)
    }
}
