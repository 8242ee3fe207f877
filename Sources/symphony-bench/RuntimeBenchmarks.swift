import SymphonyJSON
import Glibc
import Logging
import Synchronization
import SymphonyEvents
import SymphonyConcurrency

/// The runtime benchmarks: throughput, latency under load, and scheduler lateness.
struct RuntimeBenchmarks {
    var results: [BenchmarkResult] = []
    let scale: Double

    /// Monotonic nanoseconds, comparable across threads.
    static func monotonicNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    static func configuration(workers: Int, encrypted: Bool) -> EventSystemConfiguration {
        var configuration = EventSystemConfiguration()
        configuration.workerCount = workers
        configuration.encryption = encrypted ? .ephemeralKey : .disabled
        configuration.logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        return configuration
    }

    /// publish → handler throughput: one publisher thread, `workers` workers, until every event was
    /// handled; the best of three runs, since this 2-core machine is noisy.
    mutating func throughput(workers: Int, encrypted: Bool) throws {
        var best = 0.0
        for _ in 0..<3 { best = max(best, try throughputRun(workers: workers, encrypted: encrypted)) }
        let name = "throughput/\(workers)-worker\(workers == 1 ? "" : "s")/encryption-\(encrypted ? "on" : "off")"
        results.append(BenchmarkResult(benchmark: name, metric: "events_per_second", value: best, unit: "events/s"))
    }

    /// One throughput run; returns events per second.
    func throughputRun(workers: Int, encrypted: Bool) throws -> Double {
        let count = Int(1_000_000 * scale)
        let system = try EventSystem(configuration: Self.configuration(workers: workers, encrypted: encrypted))
        let handled = Atomic<Int>(0)
        try system.subscribe("bench.*") { _ in handled.add(1, ordering: .relaxed) }
        try system.start()
        let payload: JSONValue = ["user": "ada", "ip": "203.0.113.7", "attempt": 3]
        let start = Self.monotonicNanoseconds()
        for index in 0..<count {
            try system.publish(Event(type: "bench.event", payload: payload, priority: index % 10))
        }
        system.stop()
        let seconds = Double(Self.monotonicNanoseconds() - start) / 1e9
        precondition(handled.load(ordering: .relaxed) == count, "events were lost")
        return Double(count) / seconds
    }

    /// publish → handler latency with 10 publisher threads sending 50,000 events/s in total.
    mutating func latency(encrypted: Bool) throws {
        let publishers = 10
        let totalRate = 50_000.0
        let seconds = 2.0 * scale
        let perPublisher = Int(totalRate * seconds) / publishers
        let system = try EventSystem(configuration: Self.configuration(workers: 2, encrypted: encrypted))
        let latencies = Locked<[Int64]>([])
        latencies.withLock { $0.reserveCapacity(perPublisher * publishers) }
        try system.subscribe("latency.*") { event in
            guard case .int(let sent) = event.payload["sent"] else { return }
            let elapsed = Self.monotonicNanoseconds() - sent
            latencies.withLock { $0.append(elapsed) }
        }
        try system.start()
        let interval = Int64(1e9 * Double(publishers) / totalRate)
        let start = Self.monotonicNanoseconds() + 10_000_000
        let threads = (0..<publishers).map { publisher in
            BenchThread {
                var next = start + Int64(publisher) * interval / Int64(publishers)
                for _ in 0..<perPublisher {
                    Self.sleep(until: next)
                    _ = try? system.publish(Event(type: "latency.event", payload: ["sent": .int(Self.monotonicNanoseconds())]), priority: 5)
                    next += interval
                }
            }
        }
        for thread in threads { thread.join() }
        system.stop()
        let sorted = latencies.withLock { $0.sorted() }
        let name = "latency/10-publishers-50k-per-s/encryption-\(encrypted ? "on" : "off")"
        // Percentiles of what arrived mean nothing if not everything did (an empty list would even read as 0 µs).
        guard sorted.count == perPublisher * publishers else {
            print("symphony-bench: \(name): \(sorted.count) of \(perPublisher * publishers) events arrived; no result")
            return
        }
        for (metric, value) in [("p50", percentile(sorted, 0.50)), ("p99", percentile(sorted, 0.99)), ("max", Double(sorted.last ?? 0))] {
            results.append(BenchmarkResult(benchmark: name, metric: metric, value: value / 1_000, unit: "µs"))
        }
    }

    /// How late scheduled events reach their handler on the real clock.
    mutating func schedulerLateness() throws {
        let count = Int(2_000 * scale)
        let system = try EventSystem(configuration: Self.configuration(workers: 2, encrypted: true))
        let lateness = Locked<[Int64]>([])
        try system.subscribe("timer.*") { event in
            let now = Timestamp.now().nanosecondsSinceEpoch
            guard case .int(let due) = event.payload["due"] else { return }
            lateness.withLock { $0.append(now - due) }
        }
        try system.start()
        let base = Timestamp.now()
        var rng = SplitMix64(seed: 42)
        for _ in 0..<count {
            let delay = Duration.microseconds(Int64(rng.next() % 2_000_000) + 50_000)
            let due = base + delay
            try system.schedule(Event(type: "timer.fired", payload: ["due": .int(due.nanosecondsSinceEpoch)]), at: due)
        }
        while lateness.withLock({ $0.count }) < count { usleep(20_000) }
        system.stop()
        let sorted = lateness.withLock { $0.sorted() }
        for (metric, value) in [("p50", percentile(sorted, 0.50)), ("p99", percentile(sorted, 0.99)), ("max", Double(sorted.last ?? 0))] {
            results.append(BenchmarkResult(benchmark: "scheduler/lateness", metric: metric, value: value / 1_000, unit: "µs"))
        }
    }

    static func sleep(until deadline: Int64) {
        var spec = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &spec, nil) == EINTR {}
    }

    func percentile(_ sorted: [Int64], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let index = min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)
        return Double(sorted[max(0, index)])
    }
}

/// A deterministic pseudo-random generator for reproducible workloads.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
