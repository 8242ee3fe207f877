import SymphonyCrypto
import SymphonyEvents
import SymphonyPostgres
import SymphonyRecords
import Testing

/// `history --store`: a cluster's executions through the same filters as the SQLite history.
@Suite(.enabled(if: PostgresTestDatabase.isAvailable, PostgresTestDatabase.skipReason))
struct PostgresHistoryReaderTests {
    let start = Timestamp(secondsSinceEpoch: 1_800_000_000)

    func at(_ seconds: Int64) -> Timestamp { Timestamp(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + seconds * 1_000_000_000) }

    /// Events e1 (ssh.login, handled at 10 s) and e2 (web.request, at 20 s), and an execution of a
    /// refused input that has no handled row.
    func populated() throws -> PostgresTestDatabase {
        let database = try PostgresTestDatabase()
        let connection = try database.connect()
        let writer = PostgresChainWriter(chain: "n1/1", key: try EncryptionKey(bytes: [UInt8](repeating: 7, count: 32)))
        try connection.transaction { connection in
            let link = try writer.nextLink(on: connection)
            try PostgresHandlingRecords.markHandled(
                [Event(type: "ssh.login", id: "e1", time: at(10)), Event(type: "web.request", id: "e2", time: at(20))], node: "n1", at: at(20), link: link,
                on: connection)
            try PostgresHandlingRecords.record(
                [
                    .init(eventID: "e1", rule: "alert", action: "audit", outcome: "ok", error: nil, message: "login", derivedEventID: nil, started: at(10), finished: at(10)),
                    .init(eventID: "e1", rule: "relay", action: "publish", outcome: "ok", error: nil, derivedEventID: "d1", started: at(11), finished: at(11)),
                    .init(eventID: "e2", rule: "relay", action: "publish", outcome: "failed", error: "hop limit", derivedEventID: nil, started: at(20), finished: Timestamp(nanosecondsSinceEpoch: at(20).nanosecondsSinceEpoch + 5_000)),
                    .init(eventID: "x9", rule: "(queue)", action: "handle", outcome: "failed", error: "repeated", derivedEventID: nil, started: at(30), finished: at(30)),
                ], node: "n1", link: link, on: connection)
            try writer.append(handled: [], executions: [], at: at(30), on: connection)
        }
        return database
    }

    func events(_ rows: [ExecutionRow]) -> [String] { rows.map { "\($0.eventID):\($0.rule)" } }

    @Test("filters: rule, outcome, exact and wildcard type, event, since and until, limit; most recent first")
    func filters() throws {
        let database = try populated()
        defer { database.drop() }
        let reader = try PostgresHistoryReader(url: database.url)
        var query = HistoryQuery()
        #expect(events(try reader.executions(query)) == ["x9:(queue)", "e2:relay", "e1:relay", "e1:alert"])
        query.rule = "relay"
        #expect(events(try reader.executions(query)) == ["e2:relay", "e1:relay"])
        query.outcome = "failed"
        let failed = try reader.executions(query)
        #expect(events(failed) == ["e2:relay"])
        #expect(failed.first?.eventType == "web.request")
        #expect(failed.first?.error == "hop limit")
        #expect(failed.first?.durationMicroseconds == 5)
        query = HistoryQuery()
        query.type = try TypePattern("ssh.*")
        #expect(events(try reader.executions(query)) == ["e1:relay", "e1:alert"])
        query.type = try TypePattern("web.request")
        #expect(events(try reader.executions(query)) == ["e2:relay"])
        query = HistoryQuery()
        query.eventID = "e1"
        query.limit = 1
        #expect(events(try reader.executions(query)) == ["e1:relay"])
        query = HistoryQuery()
        query.since = at(11)
        query.until = at(30)
        #expect(events(try reader.executions(query)) == ["e2:relay", "e1:relay"])
        query = HistoryQuery()
        query.key = "k"
        #expect(try reader.executions(query).isEmpty)
        #expect(try reader.executions(HistoryQuery()).last?.message == "login")
        #expect(try reader.ruleNames() == ["(queue)", "alert", "relay"])
        #expect(try reader.hasEvents(ofType: "ssh.login"))
        #expect(try !reader.hasEvents(ofType: "ssh"))
    }

    @Test("--stats: per rule, action and outcome, the count and nearest-rank p50 and p95 of the durations, and the distinct events fired")
    func stats() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let connection = try database.connect()
        let writer = PostgresChainWriter(chain: "n1/1", key: try EncryptionKey(bytes: [UInt8](repeating: 7, count: 32)))
        // Twenty audits of 1…20 µs over ten events, and one failed publish.
        try connection.transaction { connection in
            let link = try writer.nextLink(on: connection)
            let audits = (1...20).map { micros in
                PostgresHandlingRecords.Execution(
                    eventID: "e\(micros % 10)", rule: "alert", action: "audit", outcome: "ok", error: nil, derivedEventID: nil, started: at(1),
                    finished: Timestamp(nanosecondsSinceEpoch: at(1).nanosecondsSinceEpoch + Int64(micros) * 1_000))
            }
            let failed = PostgresHandlingRecords.Execution(
                eventID: "e1", rule: "relay", action: "publish", outcome: "failed", error: "x", derivedEventID: nil, started: at(2), finished: at(2))
            try PostgresHandlingRecords.record(audits + [failed], node: "n1", link: link, on: connection)
            try writer.append(handled: [], executions: [], at: at(3), on: connection)
        }
        let rows = try PostgresHistoryReader(url: database.url).stats(HistoryQuery())
        // Nearest rank of 20: p50 is the 10th value, p95 the 19th.
        #expect(rows == [
            StatsRow(rule: "alert", fired: 10, action: "audit", outcome: "ok", count: 20, p50Microseconds: 10, p95Microseconds: 19),
            StatsRow(rule: "relay", fired: 1, action: "publish", outcome: "failed", count: 1, p50Microseconds: 0, p95Microseconds: 0),
        ])
    }

    @Test("--stats without --rules: the rule files of the last node to start, from its rules.load record")
    func lastLoadedRules() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        #expect(try PostgresHistoryReader(url: database.url).lastLoadedRulePaths() == nil)
        let connection = try database.connect()
        let writer = PostgresChainWriter(chain: "n1/audit", key: try EncryptionKey(bytes: [UInt8](repeating: 7, count: 32)))
        for (time, target) in [(at(1), "rules/a.yaml"), (at(2), "rules/b.yaml rules/c.yaml")] {
            writer.beginAttempt()
            try connection.transaction { connection in
                let link = try writer.nextLink(on: connection)
                let records = [
                    AuditRecord(time: time, principal: "user:ops", operation: .rulesLoad, target: target, outcome: "ok", details: "2 rules"),
                    AuditRecord(time: time, principal: "user:ops", operation: .accessDenied, target: "ignored.yaml", outcome: "denied", details: ""),
                ]
                let digest = try PostgresAuditTrail.record(records, node: "n1", link: link, on: connection)
                try writer.append(handled: [], executions: [], audit: digest, at: time, on: connection)
            }
            writer.committed()
        }
        #expect(try PostgresHistoryReader(url: database.url).lastLoadedRulePaths() == ["rules/b.yaml", "rules/c.yaml"])
    }

    @Test("a database no node ran against is named as such, not read as empty")
    func notACluster() throws {
        let database = try PostgresTestDatabase(migrated: false)
        defer { database.drop() }
        #expect { try PostgresHistoryReader(url: database.url) } throws: { ($0 as? PostgresError)?.message.contains("no node has run against it") == true }
    }
}
