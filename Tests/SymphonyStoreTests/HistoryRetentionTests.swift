import Foundation
import SymphonyEvents
import SymphonyRecords
import Testing

@testable import SymphonyStore

/// Pruning in passes (`maxRows`) and as a store runs (`HistoryRetention`).
@Suite(.timeLimit(.minutes(12))) struct HistoryRetentionTests {
    @Test("a prune with a row budget removes whole links a pass at a time, each verifiable, until done")
    func passes() throws {
        let history = try ChainedHistory()
        for tag in ["a", "b", "c"] { try history.writeSession(tag) }
        let store = try HistoryStore(path: history.path, key: history.key)
        var passes: [PruneSummary] = []
        repeat {
            passes.append(try store.prune(before: .now(), principal: "user:ops", maxRows: 1))
            if case .broken(let link, let problem) = try history.verify() { Issue.record("broken at \(link): \(problem)") }
        } while passes.last?.budgetReached == true && passes.count < 100
        try store.close()
        #expect(passes.count > 2)
        // Each pass starts where the last one stopped.
        for (earlier, later) in zip(passes, passes.dropFirst()) where later.links > 0 { #expect(later.firstLink == earlier.lastLink + 1) }
        let total = passes.dropFirst().reduce(passes[0]) { $0.followed(by: $1) }
        #expect(total.events == 9)  // in-, d- and r-soon- of each session
        #expect(try history.count("SELECT count(*) FROM events WHERE id LIKE 'in-%'") == 0)
        #expect(try history.count("SELECT count(*) FROM scheduled WHERE state = 'pending'") == 3)  // s-later-a, -b, -c carried
        #expect(try history.count("SELECT count(*) FROM chain_start") == Int64(passes.filter { $0.links > 0 }.count))
    }

    @Test("HistoryRetention prunes at start and then periodically, until stopped")
    func periodic() throws {
        let history = try ChainedHistory()
        try history.writeSession("a")
        let store = try HistoryStore(path: history.path, key: history.key)
        let retention = HistoryRetention(store: store, keep: .milliseconds(300), interval: .milliseconds(100), principal: "user:ops")
        store.recordInput(Event(type: "ping", id: "late-1"))
        try store.flush()
        Thread.sleep(forTimeInterval: 1.0)
        retention.stop()
        try store.close()
        // Session a and late-1 were older than 300 ms at a later pass: gone; the history verifies.
        #expect(try history.count("SELECT count(*) FROM events WHERE id IN ('in-a', 'late-1')") == 0)
        #expect(try { if case .intact = try history.verify() { true } else { false } }())
        let records = try AuditReader(path: history.path).list(operation: "history.prune")
        #expect(!records.isEmpty)
        #expect(records.allSatisfy { $0.principal == "user:ops" && $0.details.hasSuffix("; retention 300ms") })
    }
}
