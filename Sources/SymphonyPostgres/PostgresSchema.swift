/// The tables Symphony keeps in PostgreSQL, created or brought up to date by `migrate(_:)`.
///
/// Several nodes may start at once: the migration holds a transaction-scoped advisory lock, so
/// one creates the tables while the others wait and then find them made.
public enum PostgresSchema {
    /// The version these statements make.
    public static let version = 5

    /// The advisory lock key the migration holds (any fixed 64-bit number; "SYMPHONY" in ASCII).
    static let migrationLock: Int64 = 0x5359_4D50_484F_4E59

    static let statements = [
        """
        CREATE TABLE IF NOT EXISTS symphony_schema (version integer NOT NULL)
        """,
        // The shared queue: sealed events, claimed in batches by any node's workers. A claim
        // holds a lease; a claim whose lease ran out (its node died) is claimed again.
        """
        CREATE TABLE IF NOT EXISTS symphony_queue (
            seq bigserial PRIMARY KEY,
            priority smallint NOT NULL,
            event_id text NOT NULL,
            event_type text NOT NULL,
            envelope bytea NOT NULL,
            enqueued_ns bigint NOT NULL,
            claimed_by text,
            lease_until_ns bigint,
            claims integer NOT NULL DEFAULT 0
        )
        """,
        "CREATE INDEX IF NOT EXISTS symphony_queue_order ON symphony_queue (priority, seq)",
        // Pending delayed and periodic events. Firing moves the event into the queue in the same
        // transaction that removes (one-shot) or reschedules (periodic) the entry.
        """
        CREATE TABLE IF NOT EXISTS symphony_scheduled (
            id text PRIMARY KEY,
            stored bigserial NOT NULL,
            due_ns bigint NOT NULL,
            interval_ns bigint,
            event_id text NOT NULL,
            event_type text NOT NULL,
            priority smallint NOT NULL,
            envelope bytea NOT NULL,
            key text
        )
        """,
        "CREATE UNIQUE INDEX IF NOT EXISTS symphony_scheduled_key ON symphony_scheduled (key) WHERE key IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS symphony_scheduled_due ON symphony_scheduled (due_ns)",
        // The id of the key that seals the queue (never the key): a node with another key is refused.
        "CREATE TABLE IF NOT EXISTS symphony_keys (key_id text PRIMARY KEY)",
        // How far each input file was read: stored with the events read from it.
        """
        CREATE TABLE IF NOT EXISTS symphony_file_positions (
            node text NOT NULL,
            path text NOT NULL,
            device bigint NOT NULL,
            inode bigint NOT NULL,
            offset_bytes bigint NOT NULL,
            PRIMARY KEY (node, path)
        )
        """,
        // Every event handled (input and derived), once: committed with its outcomes and the
        // removal of the event from the queue.
        """
        CREATE TABLE IF NOT EXISTS symphony_handled (
            event_id text PRIMARY KEY,
            event_type text NOT NULL,
            hop integer NOT NULL,
            node text NOT NULL,
            handled_ns bigint NOT NULL
        )
        """,
        // What the actions run for each handled event did.
        """
        CREATE TABLE IF NOT EXISTS symphony_executions (
            seq bigserial PRIMARY KEY,
            event_id text NOT NULL,
            rule text NOT NULL,
            action text NOT NULL,
            outcome text NOT NULL,
            error text,
            derived_event_id text,
            node text NOT NULL,
            finished_ns bigint NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS symphony_executions_event ON symphony_executions (event_id)",
        // Schema 2: the chains (`PostgresChain`). Each handled and execution row names the link
        // that covers it; rows written by schema 1 name none.
        "ALTER TABLE symphony_handled ADD COLUMN IF NOT EXISTS chain text",
        "ALTER TABLE symphony_handled ADD COLUMN IF NOT EXISTS link bigint",
        "ALTER TABLE symphony_executions ADD COLUMN IF NOT EXISTS chain text",
        "ALTER TABLE symphony_executions ADD COLUMN IF NOT EXISTS link bigint",
        "ALTER TABLE symphony_executions ADD COLUMN IF NOT EXISTS message text",
        "ALTER TABLE symphony_executions ADD COLUMN IF NOT EXISTS started_ns bigint",
        """
        CREATE TABLE IF NOT EXISTS symphony_links (
            chain text NOT NULL,
            seq bigint NOT NULL,
            time_ns bigint NOT NULL,
            handled_digest bytea NOT NULL,
            executions_digest bytea NOT NULL,
            previous_hash bytea NOT NULL,
            hash bytea NOT NULL,
            PRIMARY KEY (chain, seq)
        )
        """,
        // Each chain's last link, signed (HMAC) under a key derived from the encryption key.
        """
        CREATE TABLE IF NOT EXISTS symphony_chain_heads (
            chain text PRIMARY KEY,
            seq bigint NOT NULL,
            hash bytea NOT NULL,
            key_id text NOT NULL,
            mac bytea NOT NULL
        )
        """,
        // Schema 3: the state of rules with memory, one row per rule, gate and key (`PostgresGateStore`).
        """
        CREATE TABLE IF NOT EXISTS symphony_gates (
            rule text NOT NULL,
            gate text NOT NULL,
            key text NOT NULL,
            settings text NOT NULL,
            state text NOT NULL,
            newest_ns bigint NOT NULL,
            PRIMARY KEY (rule, gate, key)
        )
        """,
        "CREATE INDEX IF NOT EXISTS symphony_gates_newest ON symphony_gates (rule, gate, newest_ns)",
        // The key an action ran under (its rule's gate key, or a keyed delay's or cancel's).
        "ALTER TABLE symphony_executions ADD COLUMN IF NOT EXISTS key text",
        "CREATE INDEX IF NOT EXISTS symphony_executions_key ON symphony_executions (key) WHERE key IS NOT NULL",
        // Lanes (`PostgresEventQueue.lane(ofKey:)`): events whose first key is the same share one.
        "ALTER TABLE symphony_queue ADD COLUMN IF NOT EXISTS lane smallint",
        "CREATE INDEX IF NOT EXISTS symphony_queue_lane ON symphony_queue (lane, priority, seq) WHERE lane IS NOT NULL",
        "ALTER TABLE symphony_scheduled ADD COLUMN IF NOT EXISTS lane smallint",
        // The rule that made a delayed event (its causation, in the clear for `history --status pending`).
        "ALTER TABLE symphony_scheduled ADD COLUMN IF NOT EXISTS rule text",
        // Schema 4: side effects (`PostgresOutbox`), queued in the batch that made them and tried by
        // the node that holds the lease (in the database's clock). State 0 pending, 2 dead; done ones are removed.
        """
        CREATE TABLE IF NOT EXISTS symphony_outbox (
            key text PRIMARY KEY,
            event_id text NOT NULL,
            event_type text NOT NULL,
            rule text NOT NULL,
            kind smallint NOT NULL,
            gate_key text,
            request bytea NOT NULL,
            queued_ns bigint NOT NULL,
            next_ns bigint NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            state smallint NOT NULL DEFAULT 0,
            last_error text,
            claimed_by text,
            lease_until timestamptz
        )
        """,
        "CREATE INDEX IF NOT EXISTS symphony_outbox_due ON symphony_outbox (next_ns) WHERE state = 0",
        // Schema 5: audit records of operations (`PostgresAuditTrail`), on the writing node's
        // `NODE/audit` chain; a link that covers them holds their digest.
        """
        CREATE TABLE IF NOT EXISTS symphony_audit (
            seq bigserial PRIMARY KEY,
            time_ns bigint NOT NULL,
            principal text NOT NULL,
            operation text NOT NULL,
            target text NOT NULL,
            outcome text NOT NULL,
            details text NOT NULL,
            node text NOT NULL,
            chain text,
            link bigint
        )
        """,
        "CREATE INDEX IF NOT EXISTS symphony_audit_time ON symphony_audit (time_ns)",
        "ALTER TABLE symphony_links ADD COLUMN IF NOT EXISTS audit_digest bytea",
        // A derived event's parent and the rule that made it (`history --trace` climbs them).
        "ALTER TABLE symphony_handled ADD COLUMN IF NOT EXISTS parent_id text",
        "ALTER TABLE symphony_handled ADD COLUMN IF NOT EXISTS rule text",
    ]

    /// Records `keyID` as the id of the key that seals this database's events, or refuses when
    /// another key's id is recorded: nodes with different keys could not open each other's events.
    public static func checkKey(id keyID: String, on connection: PostgresConnection) throws {
        try connection.transaction { connection in
            try connection.execute("SELECT pg_advisory_xact_lock($1)", [.int(migrationLock)])
            let rows = try connection.execute("SELECT key_id FROM symphony_keys")
            guard rows.count > 0 else {
                try connection.execute("INSERT INTO symphony_keys (key_id) VALUES ($1)", [.text(keyID)])
                return
            }
            let known = (0..<rows.count).compactMap { rows.text($0, 0) }
            guard known.contains(keyID) else {
                throw PostgresError(
                    message: "this database's events are sealed with key \(known.joined(separator: ", ")), not with this node's key \(keyID); give every node the same --key-file")
            }
        }
    }

    /// Creates the tables when missing; refuses a database made by a newer Symphony.
    public static func migrate(_ connection: PostgresConnection) throws {
        // Up to date already (the usual case: a node restarting beside running ones): no DDL, whose
        // locks would contend with the running nodes' transactions.
        if try connection.execute("SELECT to_regclass('symphony_schema') IS NOT NULL").text(0, 0) == "t" {
            let found = try connection.execute("SELECT max(version) FROM symphony_schema").int(0, 0)
            if found == Int64(version) { return }
        }
        try connection.transaction { connection in
            try connection.execute("SELECT pg_advisory_xact_lock($1)", [.int(migrationLock)])
            for statement in statements { try connection.execute(statement) }
            let rows = try connection.execute("SELECT max(version) FROM symphony_schema")
            let found = try rows.int(0, 0)
            if let found, found > Int64(version) {
                throw PostgresError(message: "the database has Symphony schema \(found), newer than this symphony knows (\(version)); use a newer symphony")
            }
            if found == nil {
                try connection.execute("INSERT INTO symphony_schema (version) VALUES ($1)", [.int(Int64(version))])
            } else if found != Int64(version) {
                try connection.execute("UPDATE symphony_schema SET version = $1", [.int(Int64(version))])
            }
        }
    }
}
