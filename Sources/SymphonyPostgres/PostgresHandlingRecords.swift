import SymphonyCrypto
import SymphonyEvents
import SymphonyRecords

/// The records a node commits with each batch it handled, and the input positions it commits
/// with each batch it read; every method runs on the caller's connection, in its transaction.
public enum PostgresHandlingRecords {
    /// One action's outcome, as stored.
    public struct Execution: Sendable, Hashable {
        public var eventID: String
        public var rule: String
        public var action: String
        public var outcome: String
        public var error: String?
        /// The rendered message of an `audit:` action.
        public var message: String?
        public var derivedEventID: String?
        public var started: Timestamp
        public var finished: Timestamp
        /// The key the action ran under: its rule's gate key, or a keyed delay's or cancel's.
        public var key: String?

        /// An execution row.
        public init(
            eventID: String, rule: String, action: String, outcome: String, error: String?, message: String? = nil, derivedEventID: String?,
            started: Timestamp, finished: Timestamp, key: String? = nil
        ) {
            self.key = key
            self.eventID = eventID
            self.rule = rule
            self.action = action
            self.outcome = outcome
            self.error = error
            self.message = message
            self.derivedEventID = derivedEventID
            self.started = started
            self.finished = finished
        }

        /// This row with control characters in `error`, `message` and `key` (which may quote
        /// rendered text, NUL included) replaced by U+FFFD, as it is stored.
        var printable: Execution {
            var row = self
            row.error = error.map(Self.printable)
            row.message = message.map(Self.printable)
            row.key = key.map(Self.printable)
            return row
        }

        private static func printable(_ text: String) -> String {
            guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
            return String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "\u{FFFD}" : $0 }))
        }
    }

    /// The link of a chain that a transaction's rows belong to.
    public struct Link: Sendable, Hashable {
        public let chain: String
        public let sequence: Int64

        public init(chain: String, sequence: Int64) {
            self.chain = chain
            self.sequence = sequence
        }
    }

    /// Marks `events` handled by `node` at `now` (their ids must be new: see `alreadyHandled`),
    /// as rows of `link`; returns the digest the link covers them with.
    @discardableResult
    public static func markHandled(_ events: [Event], node: String, at now: Timestamp, link: Link, on connection: PostgresConnection) throws -> [UInt8] {
        var fields = ChainFields()
        var encodings: [[UInt8]] = []
        encodings.reserveCapacity(events.count)
        for event in events {
            PostgresChain.encodeHandled(
                eventID: event.id, type: event.type, hop: Int64(event.causation?.hop ?? 0), node: node, handledNS: now.nanosecondsSinceEpoch,
                parent: event.causation.map { ($0.parentID, $0.rule) }, into: &fields)
            encodings.append(fields.take())
        }
        for start in stride(from: 0, to: events.count, by: 1_000) {
            let chunk = events[start..<min(events.count, start + 1_000)]
            var placeholders: [String] = []
            var parameters: [PostgresParameter] = []
            for event in chunk {
                let base = parameters.count
                placeholders.append(
                    "($\(base + 1), $\(base + 2), $\(base + 3)::integer, $\(base + 4), $\(base + 5)::bigint, $\(base + 6), $\(base + 7)::bigint, $\(base + 8), $\(base + 9))")
                parameters += [
                    .text(event.id), .text(event.type), .int(Int64(event.causation?.hop ?? 0)), .text(node), .int(now.nanosecondsSinceEpoch),
                    .text(link.chain), .int(link.sequence), event.causation.map { .text($0.parentID) } ?? .null, event.causation.map { .text($0.rule) } ?? .null,
                ]
            }
            try connection.execute(
                "INSERT INTO symphony_handled (event_id, event_type, hop, node, handled_ns, chain, link, parent_id, rule) VALUES "
                    + placeholders.joined(separator: ", "),
                parameters)
        }
        return PostgresChain.handledDigest(encodings)
    }

    /// The ids among `ids` that were handled before (an input line repeating an id, say).
    public static func alreadyHandled(_ ids: [String], on connection: PostgresConnection) throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let rows = try connection.execute("SELECT event_id FROM symphony_handled WHERE event_id = ANY($1::text[])", [.textArray(ids)])
        return Set((0..<rows.count).compactMap { rows.text($0, 0) })
    }

    /// Stores execution rows, attributed to `node`, as rows of `link` in this order; returns the
    /// digest the link covers them with. Control characters in errors and messages are replaced by U+FFFD.
    @discardableResult
    public static func record(_ executions: [Execution], node: String, link: Link, on connection: PostgresConnection) throws -> [UInt8] {
        let executions = executions.map(\.printable)
        var fields = ChainFields()
        for execution in executions { PostgresChain.encodeExecution(execution, node: node, into: &fields) }
        for start in stride(from: 0, to: executions.count, by: 1_000) {
            let chunk = executions[start..<min(executions.count, start + 1_000)]
            var placeholders: [String] = []
            var parameters: [PostgresParameter] = []
            for execution in chunk {
                let base = parameters.count
                placeholders.append(
                    "($\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4), $\(base + 5), $\(base + 6), $\(base + 7), $\(base + 8), $\(base + 9), "
                        + "$\(base + 10)::bigint, $\(base + 11)::bigint, $\(base + 12)::bigint, $\(base + 13))")
                parameters += [
                    .text(execution.eventID), .text(execution.rule), .text(execution.action), .text(execution.outcome),
                    execution.error.map(PostgresParameter.text) ?? .null, execution.message.map(PostgresParameter.text) ?? .null,
                    execution.derivedEventID.map(PostgresParameter.text) ?? .null, .text(node), .text(link.chain),
                    .int(link.sequence), .int(execution.started.nanosecondsSinceEpoch), .int(execution.finished.nanosecondsSinceEpoch),
                    execution.key.map(PostgresParameter.text) ?? .null,
                ]
            }
            try connection.execute(
                """
                INSERT INTO symphony_executions (event_id, rule, action, outcome, error, message, derived_event_id, node, chain, link, started_ns, finished_ns, key)
                VALUES
                """ + " " + placeholders.joined(separator: ", "), parameters)
        }
        return SHA256.hash(fields.bytes)
    }

    /// Stores how far `node` read the file `position.path` (each node its own files: the same
    /// path on two hosts is two files).
    public static func save(_ position: FilePosition, node: String, on connection: PostgresConnection) throws {
        try connection.execute(
            """
            INSERT INTO symphony_file_positions (node, path, device, inode, offset_bytes) VALUES ($1, $2, $3::bigint, $4::bigint, $5::bigint)
            ON CONFLICT (node, path) DO UPDATE SET device = EXCLUDED.device, inode = EXCLUDED.inode, offset_bytes = EXCLUDED.offset_bytes
            """,
            [.text(node), .text(position.path), .int(Int64(bitPattern: position.device)), .int(Int64(bitPattern: position.inode)), .int(position.offset)])
    }

    /// Where `node` stopped reading the file `path`, if it read it before.
    public static func position(of path: String, node: String, on connection: PostgresConnection) throws -> FilePosition? {
        let rows = try connection.execute(
            "SELECT device, inode, offset_bytes FROM symphony_file_positions WHERE node = $1 AND path = $2", [.text(node), .text(path)])
        guard rows.count == 1 else { return nil }
        return FilePosition(
            path: path, device: UInt64(bitPattern: try rows.int(0, 0) ?? 0), inode: UInt64(bitPattern: try rows.int(0, 1) ?? 0),
            offset: try rows.int(0, 2) ?? 0)
    }
}
