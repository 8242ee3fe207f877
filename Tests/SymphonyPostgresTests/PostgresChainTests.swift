import SymphonyCrypto
import SymphonyEvents
import SymphonyPostgres
import SymphonyRecords
import Testing

/// The chains over a cluster's records: every committed batch is one link; verify recomputes
/// them all and names the first change, whatever table or link it is in.
@Suite(.enabled(if: PostgresTestDatabase.isAvailable, PostgresTestDatabase.skipReason))
struct PostgresChainTests {
    let key = try! EncryptionKey(bytes: [UInt8](repeating: 7, count: 32))
    let otherKey = try! EncryptionKey(bytes: [UInt8](repeating: 8, count: 32))
    let start = Timestamp(secondsSinceEpoch: 1_800_000_000)

    func at(_ seconds: Int64) -> Timestamp { Timestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + seconds * 1_000_000_000) }

    /// Commits one batch on `writer`: events `ids`, each with one execution.
    func commit(_ ids: [String], writer: PostgresChainWriter, node: String = "n1", message: String? = nil, on connection: PostgresConnection) throws {
        try connection.transaction { connection in
            let link = try writer.nextLink(on: connection)
            let events = ids.map { Event(type: "job.created", id: $0, time: at(1)) }
            let handled = try PostgresHandlingRecords.markHandled(events, node: node, at: at(2), link: link, on: connection)
            let executions = try PostgresHandlingRecords.record(
                ids.map {
                    .init(
                        eventID: $0, rule: "notify", action: "audit", outcome: "ok", error: nil, message: message ?? "job \($0)", derivedEventID: nil,
                        started: at(2), finished: at(3))
                }, node: node, link: link, on: connection)
            try writer.append(handled: handled, executions: executions, at: at(3), on: connection)
        }
        writer.committed()
    }

    /// A database with two chains: n1/1 with three links, n2/1 with one.
    func populated() throws -> (PostgresTestDatabase, PostgresConnection) {
        let database = try PostgresTestDatabase()
        let connection = try database.connect()
        let first = PostgresChainWriter(chain: "n1/1", key: key)
        try commit(["a", "b"], writer: first, on: connection)
        try commit(["c"], writer: first, on: connection)
        try commit(["d", "e", "f"], writer: first, on: connection)
        try commit(["g"], writer: PostgresChainWriter(chain: "n2/1", key: key), node: "n2", on: connection)
        return (database, connection)
    }

    func verdict(_ connection: PostgresConnection, keys: [EncryptionKey]? = nil) throws -> PostgresChainVerifier.Verdict {
        try PostgresChainVerifier.verify(on: connection, keys: keys ?? [key])
    }

    @Test("batches committed on two chains verify intact: every link, and every row it covers")
    func intact() throws {
        let (database, connection) = try populated()
        defer { database.drop() }
        #expect(try verdict(connection) == .intact(chains: 2, links: 4, rows: 14))
        let links = try connection.execute("SELECT chain, seq FROM symphony_links ORDER BY chain, seq").values
        #expect(links == [["n1/1", "1"], ["n1/1", "2"], ["n1/1", "3"], ["n2/1", "1"]])
        #expect(try connection.execute("SELECT DISTINCT link FROM symphony_handled WHERE event_id IN ('d', 'e', 'f')").values == [["3"]])
    }

    @Test(
        "a changed, deleted or added row is named with its chain and link",
        arguments: [
            ("UPDATE symphony_executions SET outcome = 'failed' WHERE event_id = 'c'", "n1/1", Int64(2), "symphony_executions rows"),
            ("UPDATE symphony_executions SET message = 'job X' WHERE event_id = 'g'", "n2/1", 1, "symphony_executions rows"),
            ("DELETE FROM symphony_handled WHERE event_id = 'e'", "n1/1", 3, "symphony_handled rows"),
            ("UPDATE symphony_handled SET event_type = 'job.deleted' WHERE event_id = 'a'", "n1/1", 1, "symphony_handled rows"),
            ("UPDATE symphony_handled SET chain = NULL WHERE event_id = 'a'", "n1/1", 1, "symphony_handled rows"),
            (
                "INSERT INTO symphony_executions (event_id, rule, action, outcome, node, chain, link, started_ns, finished_ns) VALUES ('b', 'x', 'audit', 'ok', 'n1', 'n1/1', 1, 0, 0)",
                "n1/1", 1, "symphony_executions rows"
            ),
            ("DELETE FROM symphony_executions WHERE event_id = 'c'", "n1/1", 2, "symphony_executions rows were deleted"),
            ("UPDATE symphony_executions SET link = 9 WHERE event_id = 'g'", "n2/1", 9, "which the chain does not have"),
        ])
    func changedRows(change: String, chain: String, link: Int64, problem: String) throws {
        let (database, connection) = try populated()
        defer { database.drop() }
        try expectBroken(connection, after: change, chain: chain, link: link, problem: problem)
    }

    /// Makes `change`, then expects verify to name `chain`, `link` and `problem`.
    func expectBroken(_ connection: PostgresConnection, after change: String, chain: String, link: Int64, problem: String) throws {
        try connection.execute(change)
        guard case .broken(let brokenChain, let brokenLink, let found) = try verdict(connection) else {
            Issue.record("verify passed after: \(change)")
            return
        }
        #expect(brokenChain == chain)
        #expect(brokenLink == link)
        #expect(found.contains(problem), "\(found)")
    }

    /// A database with an input event and one it derived on n1/1, and two audit records on n1/audit.
    func withAuditAndParents() throws -> (PostgresTestDatabase, PostgresConnection) {
        let database = try PostgresTestDatabase()
        let connection = try database.connect()
        let worker = PostgresChainWriter(chain: "n1/1", key: key)
        try connection.transaction { connection in
            let link = try worker.nextLink(on: connection)
            let events = [
                Event(type: "job.created", id: "in", time: at(1)),
                Event(type: "job.step", id: "derived", time: at(1), causation: Causation(parentID: "in", rule: "fan-out", hop: 1)),
            ]
            let handled = try PostgresHandlingRecords.markHandled(events, node: "n1", at: at(2), link: link, on: connection)
            try worker.append(handled: handled, executions: PostgresHandlingRecords.record([], node: "n1", link: link, on: connection), at: at(2), on: connection)
        }
        worker.committed()
        let audit = PostgresChainWriter(chain: "n1/audit", key: key)
        try connection.transaction { connection in
            let link = try audit.nextLink(on: connection)
            let records = [
                AuditRecord(time: at(3), principal: "user:ops", operation: .rulesLoad, target: "rules/", outcome: "ok", details: "3 rules"),
                AuditRecord(time: at(4), principal: "user:eve", operation: .accessDenied, target: "job.created", outcome: "denied", details: "no"),
            ]
            let digest = try PostgresAuditTrail.record(records, node: "n1", link: link, on: connection)
            try audit.append(
                handled: PostgresHandlingRecords.markHandled([], node: "n1", at: at(4), link: link, on: connection),
                executions: PostgresHandlingRecords.record([], node: "n1", link: link, on: connection), audit: digest, at: at(4), on: connection)
        }
        audit.committed()
        return (database, connection)
    }

    @Test(
        "audit records and a derived event's parent are covered: a change, a deletion, a cleared digest or a row taken off its chain is caught",
        arguments: [
            ("UPDATE symphony_audit SET outcome = 'ok' WHERE principal = 'user:eve'", "n1/audit", Int64(1), "symphony_audit rows were changed"),
            ("DELETE FROM symphony_audit", "n1/audit", 1, "symphony_audit rows were deleted"),
            ("UPDATE symphony_links SET audit_digest = NULL WHERE chain = 'n1/audit'", "n1/audit", 1, "its hash does not match"),
            ("UPDATE symphony_audit SET chain = NULL WHERE principal = 'user:eve'", "n1/audit", 1, "symphony_audit rows were changed"),
            ("UPDATE symphony_handled SET parent_id = 'other' WHERE event_id = 'derived'", "n1/1", 1, "symphony_handled rows"),
            ("UPDATE symphony_handled SET rule = 'x' WHERE event_id = 'in'", "n1/1", 1, "symphony_handled rows"),
            ("UPDATE symphony_handled SET rule = NULL WHERE event_id = 'derived'", "n1/1", 1, "symphony_handled rows"),
        ])
    func auditAndParents(change: String, chain: String, link: Int64, problem: String) throws {
        let (database, connection) = try withAuditAndParents()
        defer { database.drop() }
        #expect(try verdict(connection) == .intact(chains: 2, links: 2, rows: 4))
        #expect(try PostgresAuditTrail.list(principal: nil, operation: "access.denied", since: nil, limit: 10, on: connection).map(\.principal) == ["user:eve"])
        try expectBroken(connection, after: change, chain: chain, link: link, problem: problem)
    }

    @Test("a link changed, removed from the middle or cut from the end, or a head moved back without the key, is caught")
    func changedLinks() throws {
        let cases: [(String, Int64, String)] = [
            ("UPDATE symphony_links SET time_ns = time_ns + 1 WHERE chain = 'n1/1' AND seq = 2", 2, "its hash does not match"),
            ("DELETE FROM symphony_links WHERE chain = 'n1/1' AND seq = 2", 3, "link 2 is missing"),
            ("DELETE FROM symphony_links WHERE chain = 'n1/1' AND seq = 3", 2, "links were removed from the end"),
            (
                "UPDATE symphony_chain_heads h SET seq = 2, hash = l.hash FROM symphony_links l WHERE h.chain = 'n1/1' AND l.chain = 'n1/1' AND l.seq = 2",
                2, "signature does not match"
            ),
            ("DELETE FROM symphony_chain_heads WHERE chain = 'n2/1'", 1, "no signed head"),
        ]
        for (change, link, problem) in cases {
            let (database, connection) = try populated()
            defer { database.drop() }
            try connection.execute(change)
            let found = try verdict(connection)
            guard case .broken(_, let brokenLink, let text) = found else {
                Issue.record("verify passed after: \(change)")
                continue
            }
            #expect(brokenLink == link, "\(change)")
            #expect(text.contains(problem), "\(change): \(text)")
        }
    }

    @Test("verify with another key names the key the chains are signed under")
    func wrongKey() throws {
        let (database, connection) = try populated()
        defer { database.drop() }
        #expect(throws: PostgresChainVerifier.UnknownKey.self) { try verdict(connection, keys: [otherKey]) }
        #expect(try verdict(connection, keys: [otherKey, key]) == .intact(chains: 2, links: 4, rows: 14))
    }

    @Test("a second writer on the same chain cannot fork it: its stale batch fails with HeadMoved, and goes through once rolled back")
    func secondWriter() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        let one = PostgresChainWriter(chain: "n1/1", key: key)
        let two = PostgresChainWriter(chain: "n1/1", key: key)
        try commit(["a"], writer: one, on: connection)
        try commit(["b"], writer: two, on: connection)  // reads the head first: chains after "a"
        #expect(throws: PostgresChainWriter.HeadMoved.self) { try commit(["c"], writer: one, on: connection) }
        one.rolledBack()
        try commit(["c"], writer: one, on: connection)
        #expect(try verdict(connection) == .intact(chains: 1, links: 3, rows: 6))
        #expect(try connection.execute("SELECT count(*) FROM symphony_handled WHERE event_id = 'c'").int(0, 0) == 1)
    }

    @Test("control characters in errors and messages are stored replaced, and the stored form verifies")
    func controlCharacters() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        try commit(["a"], writer: PostgresChainWriter(chain: "n1/1", key: key), message: "line 1\nline 2\u{0}", on: connection)
        #expect(try connection.execute("SELECT message FROM symphony_executions").text(0, 0) == "line 1\u{FFFD}line 2\u{FFFD}")
        #expect(try verdict(connection) == .intact(chains: 1, links: 1, rows: 2))
    }

    @Test("a row on no chain breaks the records; an empty database verifies with no chains")
    func uncoveredRows() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        #expect(try verdict(connection) == .intact(chains: 0, links: 0, rows: 0))
        try commit(["a"], writer: PostgresChainWriter(chain: "n1/1", key: key), on: connection)
        try connection.execute("INSERT INTO symphony_handled (event_id, event_type, hop, node, handled_ns) VALUES ('added', 'job.created', 0, 'n1', 1)")
        #expect(try verdict(connection) == .broken(chain: "", link: 0, problem: "1 rows are on no chain: added behind the nodes' backs, or written by a Symphony without chains (schema 1)"))
    }

    @Test("a head whose key id was rewritten is broken, not signed under an unknown key")
    func rewrittenKeyID() throws {
        let (database, connection) = try populated()
        defer { database.drop() }
        try connection.execute("UPDATE symphony_chain_heads SET key_id = 'ffffffff' WHERE chain = 'n2/1'")
        #expect(try verdict(connection) == .broken(chain: "n2/1", link: 1, problem: "its head names another key than the one that signed it"))
    }

    @Test("a schema 1 database is brought to the current schema: its rows kept, the chain and gate tables added")
    func migrateFromSchema1() throws {
        let database = try PostgresTestDatabase(migrated: false)
        defer { database.drop() }
        let connection = try database.connect()
        // What schema 1 made, as it made it.
        try connection.execute("CREATE TABLE symphony_schema (version integer NOT NULL)")
        try connection.execute("INSERT INTO symphony_schema VALUES (1)")
        try connection.execute(
            "CREATE TABLE symphony_handled (event_id text PRIMARY KEY, event_type text NOT NULL, hop integer NOT NULL, node text NOT NULL, handled_ns bigint NOT NULL)"
        )
        try connection.execute(
            """
            CREATE TABLE symphony_executions (seq bigserial PRIMARY KEY, event_id text NOT NULL, rule text NOT NULL, action text NOT NULL,
            outcome text NOT NULL, error text, derived_event_id text, node text NOT NULL, finished_ns bigint NOT NULL)
            """)
        try connection.execute("INSERT INTO symphony_handled VALUES ('old', 'job.created', 0, 'n0', 1)")
        try PostgresSchema.migrate(connection)
        #expect(try connection.execute("SELECT version FROM symphony_schema").values == [["\(PostgresSchema.version)"]])
        #expect(try connection.execute("SELECT count(*) FROM symphony_gates").values == [["0"]])
        try commit(["a"], writer: PostgresChainWriter(chain: "n1/1", key: key), on: connection)
        #expect(try connection.execute("SELECT event_id, chain FROM symphony_handled ORDER BY event_id").values == [["a", "n1/1"], ["old", nil]])
        // Schema 1's rows are on no chain: named, not passed over.
        guard case .broken(_, _, let problem) = try verdict(connection) else {
            Issue.record("verify passed with a row on no chain")
            return
        }
        #expect(problem.hasPrefix("1 rows are on no chain"))
    }
}
