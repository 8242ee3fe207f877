import Foundation
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEvents
import SymphonyRecords
@testable import SymphonyStore
import Testing

/// Queuing side effects in the outbox: each action key is handed on to run exactly once, however
/// the hand-offs that queue it fall into the writer's batches.
@Suite(.timeLimit(.minutes(5))) struct OutboxQueueTests {
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
}
