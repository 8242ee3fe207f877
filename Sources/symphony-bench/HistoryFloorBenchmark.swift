import CSQLite
import Glibc
import SymphonyCrypto
import SymphonyStore

/// The least CPU SQLite itself can spend on the rows an end-to-end run wrote: the same number of
/// `events`, `executions`, `audit` and `chain` rows, of the same payload and detail sizes, copied by
/// `INSERT … SELECT` from an in-memory table in group commits and checkpointed — no binding, no
/// sealing, no hashing, no Swift at all in the measured window.
///
/// It is a lower bound for any writer that stores those rows in those tables; set against the
/// history budget of the no-history run (docs/explanation/performance.md), it says whether "history within
/// 25% of no history" is reachable with that storage on this machine.
struct HistoryFloorBenchmark {
    /// What an end-to-end run's database holds.
    struct RowMix {
        var events: Int
        var payloadBytes: Int
        var executions: Int
        var audits: Int
        var detailBytes: Int
        var links: Int
    }

    /// The row counts and average sizes of the database at `path`, or nil when it cannot be read.
    static func rowMix(of path: String) -> RowMix? {
        guard let database = open(path) else { return nil }
        defer { sqlite3_close(database) }
        func integer(_ sql: String) -> Int? { texts(database, sql).first.flatMap { Int($0) } }
        guard let events = integer("SELECT count(*) FROM events"),
            let payloadBytes = integer("SELECT CAST(coalesce(avg(length(payload)), 0) AS INTEGER) FROM events"),
            let executions = integer("SELECT count(*) FROM executions"),
            let audits = integer("SELECT count(*) FROM audit"),
            let detailBytes = integer("SELECT CAST(coalesce(avg(length(details)), 0) AS INTEGER) FROM audit"),
            let links = integer("SELECT count(*) FROM chain")
        else { return nil }
        return RowMix(events: events, payloadBytes: payloadBytes, executions: executions, audits: audits, detailBytes: detailBytes, links: links)
    }

    /// CPU seconds to insert `mix` into a fresh database with Symphony's schema at `path`;
    /// with `indexes: false` the secondary indexes are dropped first (the bare tables). Transactions
    /// hold about `batchRows` rows, the size of the history writer's buffer.
    static func cpuSeconds(inserting mix: RowMix, at path: String, indexes: Bool, batchRows: Int = 16_384) throws -> Double? {
        BenchProcess.removeDatabase(path)
        // The real schema, made by the real migrations.
        try HistoryStore(path: path, key: try EncryptionKey(bytes: [UInt8](repeating: 1, count: 32))).close()
        guard let database = open(path) else { return nil }
        defer {
            sqlite3_close(database)
            BenchProcess.removeDatabase(path)
        }
        var setup = """
            PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;
            CREATE TEMP TABLE n (x INTEGER PRIMARY KEY, id TEXT, payload BLOB, details TEXT, hash BLOB);
            INSERT INTO temp.n WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT \(max(mix.events, mix.executions, mix.audits, 1)))
              SELECT x, printf('k3j9x2m4q-%x', x) AS id, randomblob(\(mix.payloadBytes)) AS payload,
                     substr(printf('%.*c', \(mix.detailBytes), 'd'), 1, \(mix.detailBytes)) AS details,
                     randomblob(32) AS hash FROM c;
            """
        if !indexes {
            // Every index the migrations made (primary-key autoindexes have no SQL and stay).
            for name in texts(database, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL") {
                setup += "DROP INDEX \"\(name)\";"
            }
        }
        guard exec(database, setup) else { return nil }
        // Committed in groups of about `batchRows` rows, the three tables' rows interleaved
        // proportionally, like the writer's group commits (one giant transaction would spill
        // SQLite's page cache and cost more, not less).
        let batches = max(1, (mix.events + mix.executions + mix.audits + mix.links) / batchRows)
        func range(_ total: Int, _ batch: Int) -> String {
            "x > \(total * batch / batches) AND x <= \(total * (batch + 1) / batches)"
        }
        let before = processCPUSeconds()
        for batch in 0..<batches {
            let inserts = """
                BEGIN;
                INSERT INTO events (link, id, type, priority, source, received_ns, time_ns, parent_id, rule, hop, payload)
                  SELECT \(batch + 2), id, 'http.request', x % 10, 'web-1', 1800000000000000000 + x * 1000, 1800000000000000000 + x * 1000, NULL, NULL, 0, payload
                  FROM temp.n WHERE \(range(mix.events, batch));
                INSERT INTO executions (seq, link, event_id, rule, kind, outcome, error, message, started_ns, duration_us, derived_event_id)
                  SELECT x, \(batch + 2), id, 'rule-' || (x % 6), 1, 0, NULL, NULL, 1800000000000000000 + x * 1000, 0, id
                  FROM temp.n WHERE \(range(mix.executions, batch));
                INSERT INTO audit (seq, link, time_ns, principal, operation, target, outcome, details, prev_hash, hash)
                  SELECT x + 1000000000, \(batch + 2), 1800000000000000000 + x * 1000, 'user:ops', 'rules.load', 'rules', 'ok', details, x'', x''
                  FROM temp.n WHERE \(range(mix.audits, batch));
                INSERT INTO chain (seq, time_ns, kind, events_digest, executions_digest, scheduled_digest, dead_letters_digest, audit_digest, note, prev_hash, hash)
                  SELECT x + 1000000000, 1800000000000000000 + x * 1000, 1, hash, hash, hash, hash, hash, '', hash, hash
                  FROM temp.n WHERE \(range(mix.links, batch));
                COMMIT;
                """
            guard exec(database, inserts) else { return nil }
        }
        guard exec(database, "PRAGMA wal_checkpoint(TRUNCATE)") else { return nil }
        return processCPUSeconds() - before
    }

    /// The first column of every row `sql` returns, as text.
    private static func texts(_ database: OpaquePointer, _ sql: String) -> [String] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(database, sql, -1, &statement, nil) == SQLITE_OK else { return [] }
        defer { sqlite3_finalize(statement) }
        var values: [String] = []
        while sqlite3_step(statement) == SQLITE_ROW {
            if let text = sqlite3_column_text(statement, 0) { values.append(String(cString: text)) }
        }
        return values
    }

    private static func open(_ path: String) -> OpaquePointer? {
        var database: OpaquePointer?
        guard sqlite3_open_v2(path, &database, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else {
            sqlite3_close(database)
            return nil
        }
        return database
    }

    private static func exec(_ database: OpaquePointer, _ sql: String) -> Bool {
        guard sqlite3_exec(database, sql, nil, nil, nil) == SQLITE_OK else {
            print("symphony-bench: history floor: \(String(cString: sqlite3_errmsg(database)))")
            return false
        }
        return true
    }

    /// User plus system CPU time of this process (nothing else runs while the floor is measured).
    private static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
