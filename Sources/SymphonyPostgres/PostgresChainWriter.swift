import SymphonyCrypto
import SymphonyEvents

/// Appends links to one chain (`PostgresChain`), one per committed batch; one writer per chain,
/// used by one thread.
///
/// Inside a batch's transaction: `beginAttempt()` first (a transaction may be run again),
/// `nextLink(on:)` says which link the batch's rows belong to, `append(…)` adds the link and
/// moves the signed head, and once the transaction committed, `committed()` makes that head the
/// one the next batch chains to (after a rollback, `rolledBack()` forgets what it knew). The head moves only from where this writer last saw it, so a
/// second writer on the same chain (two processes given one node name) makes a batch fail
/// with `PostgresChainWriter.HeadMoved` instead of forking the chain.
public final class PostgresChainWriter {
    /// The head was not where this writer left it: roll the batch back and handle it again.
    public struct HeadMoved: Error, CustomStringConvertible {
        public var description: String { "another writer appended to this chain" }
    }

    /// The chain's name (`NODE/N`).
    public let chain: String
    private let keyID: String
    private let macKey: [UInt8]
    /// The head as last committed (nil: read it from the database first).
    private var head: (sequence: Int64, hash: [UInt8])?
    /// The head this attempt chains to: `head`, or what it read (and maybe created) itself.
    private var attemptHead: (sequence: Int64, hash: [UInt8])?
    /// The head `append` made, until its transaction ends.
    private var appended: (sequence: Int64, hash: [UInt8])?

    /// A writer for `chain`, signing heads under `key`.
    public init(chain: String, key: EncryptionKey) {
        self.chain = chain
        self.keyID = key.idString
        self.macKey = PostgresChain.macKey(from: key)
    }

    /// A transaction (or a run of it again, after a serialization failure or deadlock) begins:
    /// what an earlier run of it read or appended did not happen.
    public func beginAttempt() {
        attemptHead = nil
        appended = nil
    }

    /// The link this transaction's rows belong to; creates the chain when it is new.
    public func nextLink(on connection: PostgresConnection) throws -> PostgresHandlingRecords.Link {
        let current = try attemptHead ?? head ?? load(on: connection)
        attemptHead = current
        return .init(chain: chain, sequence: current.sequence + 1)
    }

    /// Adds link `nextLink` over rows whose digests are given (`audit` only for a link that covers
    /// audit records), and moves the head to it.
    public func append(handled: [UInt8], executions: [UInt8], audit: [UInt8]? = nil, at time: Timestamp, on connection: PostgresConnection) throws {
        guard let head = attemptHead else { preconditionFailure("append before nextLink") }
        let sequence = head.sequence + 1
        let hash = PostgresChain.hash(
            chain: chain, sequence: sequence, time: time.nanosecondsSinceEpoch, handled: handled, executions: executions, audit: audit, after: head.hash)
        let mac = PostgresChain.headMAC(chain: chain, sequence: sequence, hash: hash, macKey: macKey)
        let moved = try connection.execute(
            """
            WITH moved AS (
                UPDATE symphony_chain_heads SET seq = $2::bigint, hash = $3::bytea, key_id = $4, mac = $5::bytea
                WHERE chain = $1 AND seq = $6::bigint RETURNING chain
            )
            INSERT INTO symphony_links (chain, seq, time_ns, handled_digest, executions_digest, previous_hash, hash, audit_digest)
            SELECT chain, $2::bigint, $7::bigint, $8::bytea, $9::bytea, $10::bytea, $3::bytea, $11::bytea FROM moved
            """,
            [
                .text(chain), .int(sequence), .bytes(hash), .text(keyID), .bytes(mac), .int(head.sequence), .int(time.nanosecondsSinceEpoch),
                .bytes(handled), .bytes(executions), .bytes(head.hash), audit.map { .bytes($0) } ?? .null,
            ])
        guard moved.affected == 1 else { throw HeadMoved() }
        appended = (sequence, hash)
    }

    /// The transaction committed: the head it appended (or read) is the chain's.
    public func committed() {
        if let latest = appended ?? attemptHead { head = latest }
        beginAttempt()
    }

    /// The transaction rolled back, or its outcome is unknown: the head is read again before the next link.
    public func rolledBack() {
        head = nil
        beginAttempt()
    }

    /// Reads the head, creating the chain (no links, `hash(0)`, signed) when it has none.
    private func load(on connection: PostgresConnection) throws -> (sequence: Int64, hash: [UInt8]) {
        try connection.execute(
            "INSERT INTO symphony_chain_heads (chain, seq, hash, key_id, mac) VALUES ($1, 0, $2::bytea, $3, $4::bytea) ON CONFLICT (chain) DO NOTHING",
            [.text(chain), .bytes(PostgresChain.genesis), .text(keyID), .bytes(PostgresChain.headMAC(chain: chain, sequence: 0, hash: PostgresChain.genesis, macKey: macKey))])
        let rows = try connection.execute("SELECT seq, hash FROM symphony_chain_heads WHERE chain = $1", [.text(chain)])
        guard rows.count == 1, let sequence = try rows.int(0, 0), let hash = try rows.bytes(0, 1) else {
            throw PostgresError(message: "the head of chain '\(chain)' cannot be read")
        }
        return (sequence, hash)
    }
}
