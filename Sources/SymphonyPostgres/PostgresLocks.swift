import SymphonyCrypto
import SymphonyRecords

/// The transaction-scoped advisory locks that keep two nodes from using one gate key or one delay
/// key at once. A batch takes the locks it knows it needs in one statement, in ascending id order,
/// so that two batches never wait for each other in a circle; a lock found later (a derived
/// event's key) is taken on its own, and a deadlock it causes is detected by PostgreSQL and the
/// batch runs again. Locks end with the transaction.
public enum PostgresLocks {
    /// The lock of one gate slot.
    public static func id(of slot: GateSlot) -> Int64 {
        id(of: "gate\u{0}\(slot.rule)\u{0}\(slot.kind.rawValue)\u{0}\(PostgresText.storable(slot.key))")
    }

    /// The lock of one delay key (keyed delays and cancels).
    public static func id(ofDelayKey key: String) -> Int64 {
        id(of: "delay\u{0}\(PostgresText.storable(key))")
    }

    /// The first 8 bytes of the name's SHA-256: two names sharing an id only wait for each other.
    private static func id(of name: String) -> Int64 {
        SHA256.hash(Array(name.utf8)).prefix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }

    /// Takes the locks `ids` in the caller's transaction, in ascending order, in one statement
    /// (waiting for each in turn).
    public static func take(_ ids: [Int64], on connection: PostgresConnection) throws {
        let sorted = Array(Set(ids)).sorted()
        switch sorted.count {
        case 0: return
        case 1: try connection.execute("SELECT pg_advisory_xact_lock($1::bigint)", [.int(sorted[0])])
        default: try connection.execute("SELECT pg_advisory_xact_lock(id) FROM unnest($1::bigint[]) AS id", [.intArray(sorted)])
        }
    }
}
