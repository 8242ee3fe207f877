import Foundation
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEvents
import SymphonyRecords
@testable import SymphonyStore
import Testing

/// Queuing side effects in the outbox: each action key is handed on to run exactly once, however
/// the hand-offs that queue it fall into the writer's batches.
@Suite(.timeLimit(.minutes(12))) struct OutboxQueueTests {
    func entry(_ n: Int) -> OutboxEntry {
        OutboxEntry(
            eventID: "e-\(n)", eventType: "job", rule: "r", actionIndex: 0, request: .exec(ExecSpec(command: ["/bin/true"])), retry: .default,
            gateKey: nil, queued: .now())
    }

    @Test("a key queued twice back to back (an event handled twice in one run) is handed on once, whether or not both land in one batch")
    func queuedTwiceBeforeACommit() throws {
        let directory = NSTemporaryDirectory() + "symphony-outbox-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try HistoryStore(path: directory + "/history.db", key: try EncryptionKey(bytes: [UInt8](repeating: 7, count: 32)))
        let handedOn = Locked<[String]>([])
        let keys = 200
        for n in 0..<keys {
            // Two hand-offs in a row: the writer usually takes both into one batch (one transaction).
            for _ in 0..<2 {
                store.record([], audits: [], queuing: [entry(n)], completing: nil) { new in handedOn.withLock { $0 += new.map(\.key) } }
            }
        }
        try store.flush()
        // Queued again after its first commit (a restart handling the event again): not handed on.
        store.record([], audits: [], queuing: [entry(0)], completing: nil) { new in handedOn.withLock { $0 += new.map(\.key) } }
        try store.flush()
        let counts = Dictionary(handedOn.withLock { $0 }.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(counts.count == keys, "\(keys - counts.count) keys were queued but never handed on to run")
        #expect(counts.values.allSatisfy { $0 == 1 }, "handed on more than once: \(counts.filter { $0.value > 1 }.keys.sorted().prefix(5))")
        #expect(try store.pendingActions().count == keys)
        try store.close()
    }

    @Test("after a crash, an input event whose rules only queued side effects is handled, not recovered again; one with nothing recorded is")
    func queuedInputCountsAsHandled() throws {
        let directory = NSTemporaryDirectory() + "symphony-outbox-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/history.db"
        let key = try EncryptionKey(bytes: [UInt8](repeating: 7, count: 32))
        do {
            let store = try HistoryStore(path: path, key: key)
            let events = (0..<3).map { Event(type: "job", id: "e-\($0)") }
            store.recordInputs([events[0]], received: [.now()], sealed: [nil])
            store.record(
                [ExecutionRecord(eventID: "e-0", eventType: "job", rule: "r", kind: .audit, outcome: .ok, started: .now(), finished: .now())],
                audits: [])
            store.handled(through: "e-0")  // the intake mark stops here, as when a run is killed
            try store.flush()
            store.recordInputs(Array(events[1...]), received: [.now(), .now()], sealed: [nil, nil])
            store.record([], audits: [], queuing: [entry(1)], completing: nil) { _ in }  // e-1's rule only queued a side effect
            try store.close()
        }
        let reopened = try HistoryStore(path: path, key: key)
        #expect(try reopened.unhandledInputs().map(\.id) == ["e-2"])
        try reopened.close()
    }
}
