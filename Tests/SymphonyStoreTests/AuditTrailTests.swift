import Foundation
import Synchronization
import SymphonyCrypto
import SymphonyEvents
import Testing
@testable import SymphonyStore

@Suite struct AuditTrailTests {
    let key = try! EncryptionKey(bytes: [UInt8](repeating: 3, count: 32))
    let path = NSTemporaryDirectory() + "symphony-audit-" + UUID().uuidString + ".db"

    func writeTrail(_ count: Int = 5) throws {
        let store = try HistoryStore(path: path, key: key)
        for index in 1...count {
            store.audit(AuditRecord(time: Timestamp(secondsSinceEpoch: Int64(index)), principal: "user:ada", operation: "test.op", target: "t\(index)", outcome: "ok", details: "n=\(index)"))
        }
        try store.close()
    }

    /// Runs SQL on the database with the append-only triggers removed, as an attacker with the file would.
    func tamper(_ sql: String) throws {
        let database = try SQLiteDatabase(path: path)
        try database.execute("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete; " + sql)
    }

    func verify() throws -> AuditVerification { try AuditReader(path: path).verify(key: key) }

    @Test("a batch that cannot be written is rolled back whole; later batches chain on from the restored head and the trail verifies")
    func failedBatchRollsBack() throws {
        let store = try HistoryStore(path: path, key: key)
        func audit(_ operation: String) { store.audit(AuditRecord(principal: "user:ada", operation: operation, target: "t", outcome: "ok")) }
        audit("before")
        try store.flush()
        // An outcome the schema's CHECK refuses, handed over with an audit record in one hand-off
        // (so in one batch): the batch fails every attempt and is given up, audit record included.
        let now = Timestamp(secondsSinceEpoch: 1)
        store.record(
            [ExecutionRecord(
                eventID: "e-1", eventType: "t", rule: "r", action: "publish", status: "bogus", error: nil, started: now, finished: now,
                derivedEvent: Event(type: "d", id: "d-1"))],
            audits: [AuditRecord(principal: "user:ada", operation: "with-the-bad-row", target: "t", outcome: "ok")])
        #expect(throws: StoreError.self) { try store.flush() }
        audit("after")
        #expect(throws: StoreError.self) { try store.close() }  // the first failure is reported at close too

        let operations = try AuditReader(path: path).list(limit: 10).map(\.operation).sorted()
        #expect(operations == ["after", "before"])
        #expect(try verify() == .intact(count: 2))
        let database = try SQLiteDatabase(path: path)
        #expect(try database.prepare("SELECT count(*) FROM executions").rows { $0.int(0) } == [0])
        #expect(try database.prepare("SELECT count(*) FROM events WHERE id = 'd-1'").rows { $0.int(0) } == [0])
    }

    @Test("an untouched trail verifies, chaining across separate sessions")
    func intact() throws {
        try writeTrail(3)
        try writeTrail(2)
        #expect(try verify() == .intact(count: 5))
        #expect(try AuditReader(path: path).list(limit: 2).map(\.sequence) == [5, 4])
    }

    @Test("the hash is SHA-256 over the previous hash and the length-prefixed fields, from the documented genesis")
    func documentedEncoding() throws {
        let record = AuditRecord(time: Timestamp(nanosecondsSinceEpoch: 7), principal: "p", operation: "o", target: "t", outcome: "ok", details: "", sequence: 1)
        #expect(AuditChain.encode(record) == [0, 0, 0, 1] + Array("1".utf8) + [0, 0, 0, 1] + Array("7".utf8) + [0, 0, 0, 1, 112] + [0, 0, 0, 1, 111] + [0, 0, 0, 1, 116] + [0, 0, 0, 2, 111, 107] + [0, 0, 0, 0])
        #expect(AuditChain.genesis == SHA256.hash(Array("symphony.audit.genesis.v1".utf8)))
        #expect(AuditChain.hash(record, after: AuditChain.genesis) == SHA256.hash(AuditChain.genesis + AuditChain.encode(record)))
    }

    @Test("the table refuses updates and deletes")
    func appendOnly() throws {
        try writeTrail(1)
        let database = try SQLiteDatabase(path: path)
        let error = #expect(throws: StoreError.self) { try database.execute("UPDATE audit SET details = 'x'") }
        #expect(error?.message.contains("the audit trail is append-only") == true)
    }

    @Test("an edited record is named")
    func edited() throws {
        try writeTrail()
        try tamper("UPDATE audit SET outcome = 'denied' WHERE seq = 3")
        #expect(try verify() == .broken(sequence: 3, problem: "record 3 was altered (its hash does not match its contents)"))
    }

    @Test("a deleted record is named")
    func deleted() throws {
        try writeTrail()
        try tamper("DELETE FROM audit WHERE seq = 2")
        #expect(try verify() == .broken(sequence: 2, problem: "record 2 is missing (the sequence jumps from 1 to 3)"))
    }

    @Test("reordered records are caught")
    func reordered() throws {
        try writeTrail()
        try tamper("""
            UPDATE audit SET seq = -2 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = -2;
            """)
        #expect(try verify() == .broken(sequence: 2, problem: "record 2 does not follow record 1 (its previous hash differs: reordered, replaced or inserted)"))
    }

    @Test("records cut from the end are caught by the authenticated head")
    func truncated() throws {
        try writeTrail()
        try tamper("DELETE FROM audit WHERE seq >= 4")
        #expect(try verify() == .broken(sequence: 4, problem: "records 4…5 were removed (the head says the trail ends at 5, the table at 3)"))
    }

    @Test("a forged head (or the wrong key) is caught")
    func forgedHead() throws {
        try writeTrail()
        try tamper("DELETE FROM audit WHERE seq >= 4; UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit WHERE seq = 3)")
        #expect(try verify() == .broken(sequence: 3, problem: "the head's MAC does not verify under this key (forged head, or the wrong key)"))
    }

    @Test("the wrong key does not verify the head")
    func wrongKey() throws {
        try writeTrail()
        let other = try EncryptionKey(bytes: [UInt8](repeating: 4, count: 32))
        #expect(
            try AuditReader(path: path).verify(key: other)
                == .broken(
                    sequence: 5,
                    problem: "the head is signed under key \(key.idString), which was not given, so it cannot be checked (pass that key, with --retired-key-file after a rotation)"))
    }
}

@Suite struct AuditConcurrentWritersTests {
    @Test("two stores appending to one trail keep one gapless chain")
    func twoWriters() throws {
        let key = try EncryptionKey(bytes: [UInt8](repeating: 5, count: 32))
        let path = NSTemporaryDirectory() + "symphony-audit2-" + UUID().uuidString + ".db"
        let first = try HistoryStore(path: path, key: key)
        first.audit(AuditRecord(principal: "a", operation: "op", target: "1", outcome: "ok"))
        try first.flush()
        let second = try HistoryStore(path: path, key: key)
        second.audit(AuditRecord(principal: "b", operation: "op", target: "2", outcome: "ok"))
        try second.close()
        first.audit(AuditRecord(principal: "a", operation: "op", target: "3", outcome: "ok"))
        try first.close()
        #expect(try AuditReader(path: path).verify(key: key) == .intact(count: 3))
        #expect(try AuditReader(path: path).list().map(\.target) == ["3", "2", "1"])
    }
}

@Suite struct AuditVerifyWhileWritingTests {
    @Test("verify while a writer appends always finds the trail intact (records and head are read in one snapshot)")
    func verifyDuringWrites() throws {
        let key = try EncryptionKey(bytes: [UInt8](repeating: 9, count: 32))
        let path = NSTemporaryDirectory() + "symphony-audit5-" + UUID().uuidString + ".db"
        let store = try HistoryStore(path: path, key: key)
        store.audit(AuditRecord(principal: "p", operation: "op", target: "0", outcome: "ok"))
        try store.flush()
        let writing = Atomic<Bool>(true)
        let stopped = DispatchSemaphore(value: 0)
        let writer = Thread {
            var index = 1
            while writing.load(ordering: .relaxed) {
                store.audit(AuditRecord(principal: "p", operation: "op", target: "\(index)", outcome: "ok"))
                try? store.flush()
                index += 1
            }
            stopped.signal()
        }
        writer.start()
        var verdicts: [AuditVerification] = []
        for _ in 0..<50 { verdicts.append(try AuditReader(path: path).verify(key: key)) }
        writing.store(false, ordering: .relaxed)
        #expect(stopped.wait(timeout: .now() + 300) == .success)
        try store.close()
        #expect(verdicts.allSatisfy { if case .intact = $0 { true } else { false } }, "\(verdicts.filter { if case .intact = $0 { false } else { true } })")
    }
}

@Suite struct AuditTamperPersistenceTests {
    let key = try! EncryptionKey(bytes: [UInt8](repeating: 6, count: 32))
    let path = NSTemporaryDirectory() + "symphony-audit3-" + UUID().uuidString + ".db"
    static let cut = AuditVerification.broken(sequence: 4, problem: "records 4…5 were removed (the head says the trail ends at 5, the table at 3)")

    /// An open store whose trail holds five committed records.
    func storeWithFiveRecords() throws -> HistoryStore {
        let store = try HistoryStore(path: path, key: key)
        for index in 1...5 { store.audit(AuditRecord(principal: "p", operation: "op", target: "\(index)", outcome: "ok")) }
        try store.flush()
        return store
    }

    /// Deletes records 4 and 5, as someone with the file but not the key would.
    func cutLastTwo() throws {
        try SQLiteDatabase(path: path).execute("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq >= 4")
    }

    @Test("a tampered trail is not re-signed by the next store: opening it fails and verify keeps failing")
    func tamperStaysVisible() throws {
        try storeWithFiveRecords().close()
        try cutLastTwo()
        let error = #expect(throws: StoreError.self) { try HistoryStore(path: path, key: key) }
        #expect(error?.message.hasPrefix("The audit trail does not match its authenticated head") == true)
        // Exactly the truncation the head reveals: had the writer re-signed, this would read intact.
        #expect(try AuditReader(path: path).verify(key: key) == Self.cut)
    }

    @Test("a trail tampered with while a store is open is not re-signed either: the batch fails and verify keeps failing")
    func tamperWhileOpen() throws {
        let store = try storeWithFiveRecords()
        try cutLastTwo()
        store.audit(AuditRecord(principal: "p", operation: "op", target: "6", outcome: "ok"))
        let error = #expect(throws: StoreError.self) { try store.close() }
        #expect(error?.message.hasPrefix("The audit trail does not match its authenticated head") == true)
        #expect(try AuditReader(path: path).verify(key: key) == Self.cut)
    }
}

/// The head names the key that signed it; a writer checks it under that key, and refuses a head
/// whose key it was not given rather than trusting it without its MAC and re-signing it.
@Suite struct AuditHeadKeyTests {
    let first = try! EncryptionKey(bytes: [UInt8](repeating: 7, count: 32))
    let second = try! EncryptionKey(bytes: [UInt8](repeating: 8, count: 32))
    let path = NSTemporaryDirectory() + "symphony-audit4-" + UUID().uuidString + ".db"

    func writeTrail(key: EncryptionKey, retired: [EncryptionKey] = [], targets: ClosedRange<Int>) throws {
        let store = try HistoryStore(path: path, key: key, retiredKeys: retired)
        for index in targets { store.audit(AuditRecord(principal: "p", operation: "op", target: "\(index)", outcome: "ok")) }
        try store.close()
    }

    func headKeyID() throws -> String? {
        try SQLiteDatabase(path: path).prepare("SELECT key_id FROM audit_head").rows { $0.text(0) }.first ?? nil
    }

    @Test("a head signed under a key not given is refused before anything is written (run --key-file WRONG)")
    func unknownKeyRefused() throws {
        try writeTrail(key: first, targets: 1...5)
        let error = #expect(throws: StoreError.self) { try HistoryStore(path: path, key: second) }
        #expect(error?.message.hasPrefix("The audit trail's head is signed under key \(first.idString), which was not given") == true)
        #expect(try AuditReader(path: path).verify(key: first) == .intact(count: 5))
        #expect(try headKeyID() == first.idString)
    }

    @Test("after a rotation the retired key checks the head, and the new key signs the extended trail")
    func rotation() throws {
        try writeTrail(key: first, targets: 1...3)
        try writeTrail(key: second, retired: [first], targets: 4...5)
        #expect(try headKeyID() == second.idString)
        #expect(try AuditReader(path: path).verify(keys: [second, first]) == .intact(count: 5))
    }

    @Test("a forged head under a made-up key id is refused (such a head used to be trusted without its MAC)")
    func forgedForeignHead() throws {
        try writeTrail(key: first, targets: 1...5)
        do {
            let database = try SQLiteDatabase(path: path)
            try database.execute(
                "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq >= 4; "
                    + "UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit WHERE seq = 3), key_id = 'deadbeef'")
        }
        let error = #expect(throws: StoreError.self) { try HistoryStore(path: path, key: first) }
        #expect(error?.message.hasPrefix("The audit trail's head is signed under key deadbeef") == true)
        #expect(try headKeyID() == "deadbeef")
    }
}

/// The chain and head of docs/security.md's worked example, computed there with Python's hashlib
/// and hmac: the writer and the verifier share this code, so only fixed vectors catch a change.
@Suite struct AuditChainVectorTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }

    @Test("hash(0), hash(1), hash(2), the MAC key and the head MAC match the documented worked example")
    func workedExample() throws {
        let key = try EncryptionKey(bytes: Array(0...31))
        #expect(key.idString == "6ec9b70d")
        let first = AuditRecord(
            time: Timestamp(nanosecondsSinceEpoch: 1_700_000_000_000_000_000), principal: "user:ada", operation: "rules.load",
            target: "rules/support", outcome: "ok", details: "3 rules, 0 intents", sequence: 1)
        let second = AuditRecord(
            time: Timestamp(nanosecondsSinceEpoch: 1_700_000_000_250_000_000), principal: "rule:support", operation: "action.publish",
            target: "alert.page", outcome: "ok", details: "rule triage, event t-1 (ticket.created) → e-2", sequence: 2)
        #expect(Self.hex(AuditChain.genesis) == "38532cb3e0c58e82b46e3a615efad2b70b442cb7ce5a2dee4270726f61838b16")
        let hash1 = AuditChain.hash(first, after: AuditChain.genesis)
        #expect(Self.hex(hash1) == "f6ba71eba565777236a58cf9b5ac744fba4560c35d4e445abd9ce95184584401")
        let hash2 = AuditChain.hash(second, after: hash1)
        #expect(Self.hex(hash2) == "73b19ef6c7eec5b06db4d7a32eb45dfa907e9964c197ddc27a3ecbc3b617da67")
        let macKey = AuditChain.macKey(from: key)
        #expect(Self.hex(macKey) == "6f8a47bf044d8f9c5b3f29f93daa8d8aa27b64d0880be2e634da64f2c1b646df")
        #expect(Self.hex(AuditChain.headMAC(sequence: 2, hash: hash2, macKey: macKey)) == "8500f7e3d66cb4a2893a186fc4c1e8d63d91595e8a6d84f15dfcf0293c9b495d")
    }
}
