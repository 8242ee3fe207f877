import Glibc
import SymphonyCrypto
import SymphonyEvents
import SymphonyStore
import SymphonyRecords

/// The history writer alone: rows per second into a fresh database (input events, executions with
/// derived events, audit records — the mix `symphony run` writes).
struct HistoryBenchmarks {
    let scale: Double

    func run(into results: inout [BenchmarkResult]) throws {
        let events = Int(200_000 * scale)
        mkdir(".bench", 0o755)
        let path = ".bench/history-bench.db"
        BenchProcess.removeDatabase(path)
        let store = try HistoryStore(path: path, key: try EncryptionKey(bytes: [UInt8](repeating: 1, count: 32)))
        let start = RuntimeBenchmarks.monotonicNanoseconds()
        var rows = 0
        for index in 0..<events {
            let event = Event(type: "http.request", payload: ["path": "/api/orders", "status": 200, "latency_ms": 12.5], id: "e\(index)", source: "web-1")
            store.recordInput(event)
            rows += 1
            if index % 2 == 0 {
                let derived = Event(type: "http.error", payload: ["path": "/api/orders"], causation: Causation(parentID: event.id, rule: "r", hop: 1))
                let now = Timestamp.now()
                store.record(ExecutionRecord(eventID: event.id, eventType: event.type, rule: "r", kind: .publish, outcome: .ok, error: nil, started: now, finished: now, derivedEvent: derived))
                rows += 2
            }
        }
        try store.close()
        let seconds = Double(RuntimeBenchmarks.monotonicNanoseconds() - start) / 1e9
        results.append(BenchmarkResult(benchmark: "history/writer", metric: "rows_per_second", value: Double(rows) / seconds, unit: "rows/s"))
        results.append(BenchmarkResult(benchmark: "history/writer", metric: "events_per_second", value: Double(events) / seconds, unit: "events/s"))
    }
}
