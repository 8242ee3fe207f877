import SymphonyCrypto
import SymphonyEvents
import SymphonyRecords

/// `symphony audit verify` against PostgreSQL: recomputes every chain (`PostgresChain`) from its
/// rows and checks each signed head, in one snapshot, so nodes may keep running meanwhile.
public enum PostgresChainVerifier {
    /// What a check found.
    public enum Verdict: Sendable, Hashable {
        /// Every chain is whole: `links` links covering `rows` rows, and no row is on no chain.
        case intact(chains: Int, links: Int, rows: Int)
        /// The first problem found, in chain `chain` at link `link` (0: the chain as a whole; an
        /// empty chain name: rows on no chain).
        case broken(chain: String, link: Int64, problem: String)
    }

    /// A head is signed under a key that was not given: nothing can be said about its chain.
    public struct UnknownKey: Error, CustomStringConvertible {
        public let chain: String
        public let keyID: String
        public var description: String { "chain '\(chain)' is signed under key \(keyID)" }
    }

    /// Rows fetched per round trip.
    static let fetchSize = 5_000

    private struct LinkKey: Hashable {
        let chain: String
        let sequence: Int64
    }

    private struct Expected {
        let handled: [UInt8]
        let executions: [UInt8]
        /// The digest of the link's audit records (empty: it covers none).
        let audit: [UInt8]
        var handledSeen = false
        var executionsSeen = false
        var auditSeen = false
    }

    private struct Broken: Error {
        let chain: String
        let link: Int64
        let problem: String
    }

    /// Checks every chain with `keys` (a head names the key it is signed under).
    public static func verify(on connection: PostgresConnection, keys: [EncryptionKey]) throws -> Verdict {
        try connection.transaction { connection in
            try connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            do {
                return try check(connection, keys: keys)
            } catch let broken as Broken {
                return .broken(chain: broken.chain, link: broken.link, problem: broken.problem)
            }
        }
    }

    private static func check(_ connection: PostgresConnection, keys: [EncryptionKey]) throws -> Verdict {
        // The signed heads.
        var heads: [String: (sequence: Int64, hash: [UInt8])] = [:]
        let headRows = try connection.execute("SELECT chain, seq, hash, key_id, mac FROM symphony_chain_heads")
        for row in 0..<headRows.count {
            let chain = headRows.text(row, 0) ?? ""
            guard let sequence = try headRows.int(row, 1), let hash = try headRows.bytes(row, 2), let mac = try headRows.bytes(row, 4) else {
                throw Broken(chain: chain, link: 0, problem: "its head has an empty field")
            }
            let keyID = headRows.text(row, 3) ?? ""
            func signs(_ key: EncryptionKey) -> Bool {
                ConstantTime.equal(mac, PostgresChain.headMAC(chain: chain, sequence: sequence, hash: hash, macKey: PostgresChain.macKey(from: key)))
            }
            guard let key = keys.first(where: { $0.idString == keyID }) else {
                // A key given signed it after all: the key id was rewritten.
                if keys.contains(where: signs) { throw Broken(chain: chain, link: sequence, problem: "its head names another key than the one that signed it") }
                throw UnknownKey(chain: chain, keyID: keyID)
            }
            guard signs(key) else {
                throw Broken(chain: chain, link: sequence, problem: "its head's signature does not match (the head was rewritten)")
            }
            heads[chain] = (sequence, hash)
        }

        // The links, chain by chain, each chained to the one before.
        var expected: [LinkKey: Expected] = [:]
        var last: (chain: String, sequence: Int64, hash: [UInt8])?
        func endChain() throws {
            guard let last else { return }
            guard let head = heads[last.chain] else { throw Broken(chain: last.chain, link: last.sequence, problem: "the chain has links but no signed head") }
            guard head.sequence == last.sequence, head.hash == last.hash else {
                throw Broken(
                    chain: last.chain, link: last.sequence,
                    problem: head.sequence > last.sequence
                        ? "the chain ends at link \(last.sequence) but its signed head is link \(head.sequence) (links were removed from the end)"
                        : "the chain goes on past its signed head (link \(head.sequence))")
            }
        }
        try forEachRow(
            "SELECT chain, seq, time_ns, handled_digest, executions_digest, previous_hash, hash, audit_digest FROM symphony_links ORDER BY chain, seq",
            on: connection
        ) { rows, row in
            let chain = rows.text(row, 0) ?? ""
            guard let sequence = try rows.int(row, 1), let time = try rows.int(row, 2), let handled = try rows.bytes(row, 3),
                let executions = try rows.bytes(row, 4), let previous = try rows.bytes(row, 5), let hash = try rows.bytes(row, 6)
            else { throw Broken(chain: chain, link: 0, problem: "a link has an empty field") }
            if last?.chain != chain {
                try endChain()
                last = nil
            }
            let before = last ?? (chain, 0, PostgresChain.genesis)
            guard sequence == before.sequence + 1 else {
                throw Broken(chain: chain, link: sequence, problem: "link \(before.sequence + 1) is missing (the next link found is \(sequence))")
            }
            guard previous == before.hash else { throw Broken(chain: chain, link: sequence, problem: "it does not follow link \(before.sequence)") }
            let audit = try rows.bytes(row, 7)
            guard PostgresChain.hash(chain: chain, sequence: sequence, time: time, handled: handled, executions: executions, audit: audit, after: previous) == hash
            else {
                throw Broken(chain: chain, link: sequence, problem: "its hash does not match its fields (the link was changed)")
            }
            expected[LinkKey(chain: chain, sequence: sequence)] = Expected(handled: handled, executions: executions, audit: audit ?? [])
            last = (chain, sequence, hash)
        }
        try endChain()
        for (chain, head) in heads where head.sequence > 0 && !expected.keys.contains(LinkKey(chain: chain, sequence: head.sequence)) {
            throw Broken(chain: chain, link: head.sequence, problem: "its signed head is link \(head.sequence), but the chain has no such link")
        }

        // The rows, link by link, against the digests their links hold.
        var rowCount = 0
        var group: (key: LinkKey, encodings: [[UInt8]])?
        func endHandled() throws {
            guard let group else { return }
            try settle(group.key, digest: PostgresChain.handledDigest(group.encodings), table: "symphony_handled", in: &expected, \.handled, \.handledSeen)
        }
        var fields = ChainFields()
        try forEachRow(
            "SELECT chain, link, event_id, event_type, hop, node, handled_ns, parent_id, rule FROM symphony_handled WHERE chain IS NOT NULL ORDER BY chain, link",
            on: connection
        ) { rows, row in
            let key = LinkKey(chain: rows.text(row, 0) ?? "", sequence: try rows.int(row, 1) ?? -1)
            if group?.key != key {
                try endHandled()
                group = (key, [])
            }
            // A parent comes with the rule that derived it, and an input event has neither: one without
            // the other was written by no node.
            let (parent, rule) = (rows.text(row, 7), rows.text(row, 8))
            guard (parent == nil) == (rule == nil) else {
                throw Broken(chain: key.chain, link: key.sequence, problem: "its symphony_handled rows were changed (a parent without its rule, or the reverse)")
            }
            PostgresChain.encodeHandled(
                eventID: rows.text(row, 2) ?? "", type: rows.text(row, 3) ?? "", hop: try rows.int(row, 4) ?? 0, node: rows.text(row, 5) ?? "",
                handledNS: try rows.int(row, 6) ?? 0, parent: parent.map { ($0, rule ?? "") }, into: &fields)
            group?.encodings.append(fields.take())
            rowCount += 1
        }
        try endHandled()

        var executions: (key: LinkKey, stream: SHA256Stream)?
        func endExecutions() throws {
            guard let executions else { return }
            try settle(executions.key, digest: executions.stream.finish(), table: "symphony_executions", in: &expected, \.executions, \.executionsSeen)
        }
        try forEachRow(
            """
            SELECT chain, link, event_id, rule, action, outcome, error, message, derived_event_id, node, started_ns, finished_ns, key
            FROM symphony_executions WHERE chain IS NOT NULL ORDER BY chain, link, seq
            """, on: connection
        ) { rows, row in
            let key = LinkKey(chain: rows.text(row, 0) ?? "", sequence: try rows.int(row, 1) ?? -1)
            if executions?.key != key {
                try endExecutions()
                executions = (key, SHA256Stream())
            }
            let execution = PostgresHandlingRecords.Execution(
                eventID: rows.text(row, 2) ?? "", rule: rows.text(row, 3) ?? "", action: rows.text(row, 4) ?? "", outcome: rows.text(row, 5) ?? "",
                error: rows.text(row, 6), message: rows.text(row, 7), derivedEventID: rows.text(row, 8),
                started: Timestamp(nanosecondsSinceEpoch: try rows.int(row, 10) ?? 0), finished: Timestamp(nanosecondsSinceEpoch: try rows.int(row, 11) ?? 0),
                key: rows.text(row, 12))
            PostgresChain.encodeExecution(execution, node: rows.text(row, 9) ?? "", into: &fields)
            executions?.stream.update(fields.take())
            rowCount += 1
        }
        try endExecutions()

        var audits: (key: LinkKey, bytes: [UInt8])?
        func endAudits() throws {
            guard let audits else { return }
            try settle(audits.key, digest: SHA256.hash(audits.bytes), table: "symphony_audit", in: &expected, \.audit, \.auditSeen)
        }
        try forEachRow(
            "SELECT chain, link, time_ns, principal, operation, target, outcome, details, node FROM symphony_audit WHERE chain IS NOT NULL ORDER BY chain, link, seq",
            on: connection
        ) { rows, row in
            let key = LinkKey(chain: rows.text(row, 0) ?? "", sequence: try rows.int(row, 1) ?? -1)
            if audits?.key != key {
                try endAudits()
                audits = (key, [])
            }
            let record = AuditRecord(
                time: Timestamp(nanosecondsSinceEpoch: try rows.int(row, 2) ?? 0), principal: rows.text(row, 3) ?? "",
                operation: AuditOperation(rawValue: rows.text(row, 4) ?? ""), target: rows.text(row, 5) ?? "", outcome: rows.text(row, 6) ?? "",
                details: rows.text(row, 7) ?? "")
            PostgresChain.encodeAudit(record, node: rows.text(row, 8) ?? "", into: &fields)
            audits?.bytes += fields.take()
            rowCount += 1
        }
        try endAudits()

        // Links whose rows are all gone.
        for (key, link) in expected.sorted(by: { ($0.key.chain, $0.key.sequence) < ($1.key.chain, $1.key.sequence) }) {
            if !link.handledSeen && link.handled != PostgresChain.emptyDigest {
                throw Broken(chain: key.chain, link: key.sequence, problem: "its symphony_handled rows were deleted")
            }
            if !link.executionsSeen && link.executions != PostgresChain.emptyDigest {
                throw Broken(chain: key.chain, link: key.sequence, problem: "its symphony_executions rows were deleted")
            }
            if !link.auditSeen && !link.audit.isEmpty {
                throw Broken(chain: key.chain, link: key.sequence, problem: "its symphony_audit rows were deleted")
            }
        }
        // Rows on no chain: added behind the nodes' backs (or written by schema 1, which had no chains).
        let uncovered = try connection.execute(
            """
            SELECT (SELECT count(*) FROM symphony_handled WHERE chain IS NULL) + (SELECT count(*) FROM symphony_executions WHERE chain IS NULL)
                + (SELECT count(*) FROM symphony_audit WHERE chain IS NULL)
            """)
        if let count = try uncovered.int(0, 0), count > 0 {
            throw Broken(
                chain: "", link: 0,
                problem: "\(count) rows are on no chain: added behind the nodes' backs, or written by a Symphony without chains (schema 1)")
        }
        return .intact(chains: heads.count, links: expected.count, rows: rowCount)
    }

    /// Checks one link's rows of one table against the digest the link holds.
    private static func settle(
        _ key: LinkKey, digest: [UInt8], table: String, in expected: inout [LinkKey: Expected], _ stored: KeyPath<Expected, [UInt8]>,
        _ seen: WritableKeyPath<Expected, Bool>
    ) throws {
        guard expected[key] != nil else {
            throw Broken(chain: key.chain, link: key.sequence, problem: "\(table) rows name this link, which the chain does not have")
        }
        expected[key]![keyPath: seen] = true
        guard expected[key]![keyPath: stored] == digest else {
            throw Broken(chain: key.chain, link: key.sequence, problem: "its \(table) rows were changed, added or removed")
        }
    }

    /// Runs `body` on each row of `query`, fetched through a cursor `fetchSize` rows at a time.
    private static func forEachRow(_ query: String, on connection: PostgresConnection, _ body: (PostgresRows, Int) throws -> Void) throws {
        try connection.execute("DECLARE symphony_verify NO SCROLL CURSOR FOR " + query)
        defer { _ = try? connection.execute("CLOSE symphony_verify") }
        while true {
            let rows = try connection.execute("FETCH \(fetchSize) FROM symphony_verify")
            for row in 0..<rows.count { try body(rows, row) }
            if rows.count < fetchSize { return }
        }
    }
}
