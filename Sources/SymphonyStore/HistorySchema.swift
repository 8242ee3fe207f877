/// The history database's schema, as numbered migrations applied in order (`PRAGMA user_version`).
///
/// Documented column by column in docs/history.md. Times are nanoseconds since the Unix epoch;
/// payloads are AES-256-GCM envelopes (never plaintext).
enum HistorySchema {
    /// Each migration moves the schema from version `index` to `index + 1`.
    static let migrations: [String] = [
        // 1: events, executions, scheduled entries.
        """
        CREATE TABLE events (
            id          TEXT PRIMARY KEY,
            type        TEXT NOT NULL,
            priority    INTEGER NOT NULL,
            source      TEXT,
            received_ns INTEGER NOT NULL,
            time_ns     INTEGER NOT NULL,
            parent_id   TEXT,
            rule        TEXT,
            hop         INTEGER NOT NULL DEFAULT 0,
            payload     BLOB
        );
        CREATE TABLE executions (
            seq              INTEGER PRIMARY KEY,
            event_id         TEXT NOT NULL,
            rule             TEXT NOT NULL,
            action           TEXT NOT NULL,
            outcome          TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'denied', 'skipped')),
            error            TEXT,
            started_ns       INTEGER NOT NULL,
            finished_ns      INTEGER NOT NULL,
            duration_us      INTEGER NOT NULL,
            derived_event_id TEXT
        );
        CREATE TABLE scheduled (
            id          TEXT PRIMARY KEY,
            due_ns      INTEGER NOT NULL,
            interval_ns INTEGER,
            event_id    TEXT NOT NULL,
            event_type  TEXT NOT NULL,
            priority    INTEGER NOT NULL,
            origin_rule TEXT,
            state       TEXT NOT NULL CHECK (state IN ('pending', 'done', 'cancelled')),
            late        INTEGER NOT NULL DEFAULT 0,
            fired_ns    INTEGER,
            envelope    BLOB NOT NULL
        );
        CREATE INDEX executions_event ON executions (event_id);
        CREATE INDEX executions_rule ON executions (rule, started_ns);
        CREATE INDEX scheduled_pending ON scheduled (state, due_ns);
        """,
        // 2: dead letters, and indexes for the history command's filters and traces.
        """
        CREATE TABLE dead_letters (
            seq         INTEGER PRIMARY KEY,
            source      TEXT NOT NULL,
            line        INTEGER,
            reason      TEXT NOT NULL,
            received_ns INTEGER NOT NULL,
            content     BLOB
        );
        CREATE INDEX events_type ON events (type, received_ns);
        CREATE INDEX events_parent ON events (parent_id);
        CREATE INDEX executions_started ON executions (started_ns);
        """,
        // 3: the hash-chained, append-only audit trail and its authenticated head.
        """
        CREATE TABLE audit (
            seq       INTEGER PRIMARY KEY,
            time_ns   INTEGER NOT NULL,
            principal TEXT NOT NULL,
            operation TEXT NOT NULL,
            target    TEXT NOT NULL,
            outcome   TEXT NOT NULL,
            details   TEXT NOT NULL,
            prev_hash BLOB NOT NULL,
            hash      BLOB NOT NULL
        );
        CREATE TABLE audit_head (
            id     INTEGER PRIMARY KEY CHECK (id = 1),
            seq    INTEGER NOT NULL,
            hash   BLOB NOT NULL,
            key_id TEXT NOT NULL,
            mac    BLOB NOT NULL
        );
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        CREATE INDEX audit_operation ON audit (operation, time_ns);
        """,
        // 4: drop the two indexes on `events` that no query of Symphony's uses: every event row
        // paid for them on insert (traces walk executions.derived_event_id through executions_event).
        """
        DROP INDEX IF EXISTS events_type;
        DROP INDEX IF EXISTS events_parent;
        """,
        // 5: event payloads sealed under the legacy context (symphony.history.event.v1, bound to
        // the id only) are re-sealed under the queue's (id, type, priority). That needs the key,
        // so the work is `HistoryStore`'s (`resealLegacyEventPayloads`), run in this step's transaction.
        "",
    ]

    /// The migration step that needs the key (see migration 5).
    static let resealStep = 5

    /// The version a fully migrated database has.
    static var currentVersion: Int { migrations.count }

    /// Brings `database` to the current version, one transaction per migration; refuses a newer schema.
    /// `reseal`, when given, runs inside the transaction of migration `resealStep`.
    static func migrate(_ database: SQLiteDatabase, to target: Int = currentVersion, reseal: ((SQLiteDatabase) throws -> Void)? = nil) throws {
        let version = try database.userVersion
        guard version >= 0 else {
            throw StoreError(
                code: -1,
                message: "The database '\(database.path)' has schema version \(version), which no Symphony writes: it is not a history database, or it was altered.")
        }
        guard version <= currentVersion else {
            throw StoreError(
                code: -1,
                message: "The database '\(database.path)' has schema version \(version), newer than this build's \(currentVersion); upgrade Symphony.")
        }
        for next in version..<target {
            try database.transaction {
                try database.execute(migrations[next])
                if next + 1 == resealStep { try reseal?(database) }
                try database.execute("PRAGMA user_version = \(next + 1)")
            }
        }
    }
}
