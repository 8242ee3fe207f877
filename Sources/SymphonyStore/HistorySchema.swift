/// The history database's schema, as numbered migrations applied in order (`PRAGMA user_version`).
///
/// Documented column by column in docs/reference/history-database.md. Times are nanoseconds since the Unix epoch;
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
        // 6: history v2. Every row belongs to a link of the history chain (`link`; NULL for rows
        // older than the chain, which the genesis link covers); action kinds and outcomes are
        // integer codes, with lookup tables and the `execution_log` view for the sqlite3 shell;
        // an `audit:` action's message is a column; scheduled entries' state changes are
        // appended to `scheduled_changes` (`scheduled` keeps the current state); only the indexes
        // a documented query needs remain. The genesis link is `HistoryStore`'s work (it needs the key).
        """
        ALTER TABLE events ADD COLUMN link INTEGER;
        CREATE TABLE executions_v6 (
            seq              INTEGER PRIMARY KEY,
            link             INTEGER,
            event_id         TEXT NOT NULL,
            rule             TEXT NOT NULL,
            kind             INTEGER NOT NULL,
            outcome          INTEGER NOT NULL CHECK (outcome BETWEEN 0 AND 3),
            error            TEXT,
            message          TEXT,
            started_ns       INTEGER NOT NULL,
            duration_us      INTEGER NOT NULL,
            derived_event_id TEXT
        );
        INSERT INTO executions_v6 (seq, link, event_id, rule, kind, outcome, error, message, started_ns, duration_us, derived_event_id)
            SELECT seq, NULL, event_id, rule,
                CASE action WHEN 'publish' THEN 1 WHEN 'delay' THEN 2 WHEN 'audit' THEN 3 WHEN 'emit' THEN 4 WHEN 'stop' THEN 5 ELSE 0 END,
                CASE outcome WHEN 'ok' THEN 0 WHEN 'failed' THEN 1 WHEN 'denied' THEN 2 ELSE 3 END,
                error, NULL, started_ns, duration_us, derived_event_id
            FROM executions ORDER BY seq;
        DROP TABLE executions;
        ALTER TABLE executions_v6 RENAME TO executions;
        CREATE INDEX executions_event ON executions (event_id);
        ALTER TABLE scheduled ADD COLUMN link INTEGER;
        CREATE TABLE scheduled_changes (
            seq      INTEGER PRIMARY KEY,
            link     INTEGER NOT NULL,
            entry_id TEXT NOT NULL,
            state    INTEGER NOT NULL CHECK (state BETWEEN 0 AND 2),
            due_ns   INTEGER NOT NULL,
            fired_ns INTEGER,
            late     INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO scheduled_changes (link, entry_id, state, due_ns, fired_ns, late)
            SELECT 1, id, CASE state WHEN 'pending' THEN 0 WHEN 'done' THEN 1 ELSE 2 END, due_ns, fired_ns, late
            FROM scheduled ORDER BY rowid;
        ALTER TABLE dead_letters ADD COLUMN link INTEGER;
        ALTER TABLE audit ADD COLUMN link INTEGER;
        DROP INDEX IF EXISTS audit_operation;
        CREATE TABLE chain (
            seq                 INTEGER PRIMARY KEY,
            time_ns             INTEGER NOT NULL,
            kind                INTEGER NOT NULL,
            events_digest       BLOB NOT NULL,
            executions_digest   BLOB NOT NULL,
            scheduled_digest    BLOB NOT NULL,
            dead_letters_digest BLOB NOT NULL,
            audit_digest        BLOB NOT NULL,
            note                TEXT NOT NULL,
            prev_hash           BLOB NOT NULL,
            hash                BLOB NOT NULL
        );
        CREATE TABLE chain_head (
            id     INTEGER PRIMARY KEY CHECK (id = 1),
            seq    INTEGER NOT NULL,
            hash   BLOB NOT NULL,
            key_id TEXT NOT NULL,
            mac    BLOB NOT NULL
        );
        CREATE TRIGGER chain_no_update BEFORE UPDATE ON chain BEGIN SELECT RAISE(ABORT, 'the history chain is append-only'); END;
        CREATE TRIGGER chain_no_delete BEFORE DELETE ON chain BEGIN SELECT RAISE(ABORT, 'the history chain is append-only'); END;
        CREATE TABLE action_kinds (code INTEGER PRIMARY KEY, name TEXT NOT NULL);
        INSERT INTO action_kinds VALUES (1, 'publish'), (2, 'delay'), (3, 'audit'), (4, 'emit'), (5, 'stop');
        CREATE TABLE outcomes (code INTEGER PRIMARY KEY, name TEXT NOT NULL);
        INSERT INTO outcomes VALUES (0, 'ok'), (1, 'failed'), (2, 'denied'), (3, 'skipped');
        CREATE VIEW execution_log AS
            SELECT x.seq, x.event_id, x.rule, k.name AS action, o.name AS outcome, x.error, x.message,
                   x.started_ns, x.duration_us, x.derived_event_id, x.link
            FROM executions x LEFT JOIN action_kinds k ON k.code = x.kind LEFT JOIN outcomes o ON o.code = x.outcome;
        """,
        // 7: keys — of keyed delays (`delay` with `key:`) and of the gates an execution ran under — and the `cancel` action.
        """
        ALTER TABLE scheduled ADD COLUMN key TEXT;
        ALTER TABLE executions ADD COLUMN key TEXT;
        INSERT INTO action_kinds VALUES (6, 'cancel');
        """,
        // 8: side effects. `exec`, `http` and `file` actions; the outbox of side effects queued
        // and not yet done (`state` 0 pending, 1 done, 2 dead letter). The outbox is a work list,
        // not a record: each try is an `executions` row, which the history chain covers.
        """
        INSERT INTO action_kinds VALUES (7, 'exec'), (8, 'http'), (9, 'file');
        CREATE TABLE outbox (
            action_key  TEXT PRIMARY KEY,
            event_id    TEXT NOT NULL,
            event_type  TEXT NOT NULL,
            rule        TEXT NOT NULL,
            kind        INTEGER NOT NULL,
            gate_key    TEXT,
            request     BLOB NOT NULL,
            state       INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 2),
            attempts    INTEGER NOT NULL DEFAULT 0,
            queued_ns   INTEGER NOT NULL,
            next_ns     INTEGER NOT NULL,
            last_error  TEXT,
            queue_seq   INTEGER NOT NULL
        );
        CREATE INDEX outbox_state ON outbox (state, queue_seq);
        """,
        // 9: followed files (`--follow`): how far each was read, committed with the events read from it;
        // and the outbox by event, for telling an input event whose rules only queued side effects handled.
        """
        CREATE INDEX outbox_event ON outbox (event_id);
        CREATE TABLE followed_files (
            path       TEXT PRIMARY KEY,
            device     INTEGER NOT NULL,
            inode      INTEGER NOT NULL,
            offset     INTEGER NOT NULL,
            updated_ns INTEGER NOT NULL
        );
        """,
        // 10: retention. `chain_start`: one signed row per prune, naming the last link removed, so
        // the chain verifies from the link after it; the triggers on `chain` and `audit` let a prune
        // remove links (and their audit records) up to the latest start, and nothing after it.
        """
        CREATE TABLE chain_start (
            seq               INTEGER PRIMARY KEY,
            link              INTEGER NOT NULL,
            hash              BLOB NOT NULL,
            database_id       TEXT NOT NULL,
            cut_ns            INTEGER NOT NULL,
            pruned_ns         INTEGER NOT NULL,
            principal         TEXT NOT NULL,
            key_id            TEXT NOT NULL,
            mac               BLOB NOT NULL,
            executions_seq    INTEGER NOT NULL,
            dead_letters_seq  INTEGER NOT NULL,
            changes_seq       INTEGER NOT NULL,
            audit_seq         INTEGER NOT NULL
        );
        CREATE TRIGGER chain_start_no_update BEFORE UPDATE ON chain_start BEGIN SELECT RAISE(ABORT, 'the chain start is append-only'); END;
        CREATE TRIGGER chain_start_no_delete BEFORE DELETE ON chain_start BEGIN SELECT RAISE(ABORT, 'the chain start is append-only'); END;
        DROP TRIGGER chain_no_delete;
        CREATE TRIGGER chain_no_delete BEFORE DELETE ON chain
            WHEN old.seq > (SELECT coalesce(max(link), 0) FROM chain_start)
            BEGIN SELECT RAISE(ABORT, 'the history chain is append-only'); END;
        DROP TRIGGER audit_no_delete;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
            WHEN coalesce(old.link, 1) > (SELECT coalesce(max(link), 0) FROM chain_start)
            BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        """,
        // 11: the summary `symphony history --stats` reads (`ExecutionStatsSummary`): executions per
        // rule, action kind, outcome and duration, and distinct events per rule, built here from the
        // rows there are and kept by the writer (and prunes) from then on.
        """
        CREATE TABLE execution_stats (
            rule        TEXT NOT NULL,
            kind        INTEGER NOT NULL,
            outcome     INTEGER NOT NULL,
            duration_us INTEGER NOT NULL,
            count       INTEGER NOT NULL,
            PRIMARY KEY (rule, kind, outcome, duration_us)
        ) WITHOUT ROWID;
        INSERT INTO execution_stats (rule, kind, outcome, duration_us, count)
            SELECT rule, kind, outcome, duration_us, count(*) FROM executions GROUP BY rule, kind, outcome, duration_us;
        CREATE TABLE rule_firings (
            rule   TEXT PRIMARY KEY,
            events INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO rule_firings (rule, events) SELECT rule, count(DISTINCT event_id) FROM executions GROUP BY rule;
        """,
    ]

    /// The migration step that needs the key (see migration 5).
    static let resealStep = 5
    /// The migration step that writes the chain's genesis link (see migration 6); needs the key too.
    static let chainStep = 6

    /// The version a fully migrated database has.
    static var currentVersion: Int { migrations.count }

    /// Brings `database` to the current version, one transaction per migration; refuses a newer schema.
    /// `reseal` and `genesis`, when given, run inside the transactions of migrations `resealStep` and `chainStep`.
    static func migrate(
        _ database: SQLiteDatabase, to target: Int = currentVersion, reseal: ((SQLiteDatabase) throws -> Void)? = nil,
        genesis: ((SQLiteDatabase) throws -> Void)? = nil
    ) throws {
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
                // Another process may have migrated since the version was read: only the write lock says.
                guard try database.userVersion == next else { return }
                try database.execute(migrations[next])
                if next + 1 == resealStep { try reseal?(database) }
                if next + 1 == chainStep { try genesis?(database) }
                try database.execute("PRAGMA user_version = \(next + 1)")
            }
        }
    }
}
