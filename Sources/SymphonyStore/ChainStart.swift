import SymphonyCrypto
import SymphonyEvents

/// Where the history chain starts after a prune (`symphony history prune`, `run --retain`):
/// links up to and including `link` were removed with every row they covered, and the chain goes
/// on with link `link + 1`, whose previous hash is `hash`. Kept in `chain_start`, one row per
/// prune; the latest one is the start. Signed under the chain's MAC key, so no one without the
/// key can cut links from the front and pass it off as a prune.
///
/// `mac = HMAC-SHA-256(mac_key, "chain-start:" ‖ text(database id) ‖ int(link) ‖ blob(hash) ‖
/// int(cut_ns) ‖ int(pruned_ns) ‖ text(principal))`, fields tagged as in `ChainRowEncoding`.
public struct ChainStart: Sendable, Hashable {
    /// The database's id (its genesis link's, which a prune may have removed).
    public let databaseID: String
    /// The last link removed: the chain now starts with the next one.
    public let link: Int64
    /// That link's hash: the previous hash of the first link kept.
    public let hash: [UInt8]
    /// Every link removed was committed before this time.
    public let cut: Timestamp
    /// When the prune was committed.
    public let pruned: Timestamp
    /// Who pruned (`--as`, or the principal of the run whose `--retain` pruned).
    public let principal: String
    /// The key whose MAC key signed it.
    public let keyID: String
    public let mac: [UInt8]

    /// A start signed under `macKey` (the MAC key of the key `keyID` names).
    init(databaseID: String, link: Int64, hash: [UInt8], cut: Timestamp, pruned: Timestamp, principal: String, keyID: String, macKey: [UInt8]) {
        self.init(
            databaseID: databaseID, link: link, hash: hash, cut: cut, pruned: pruned, principal: principal, keyID: keyID,
            mac: Self.mac(databaseID: databaseID, link: link, hash: hash, cut: cut, pruned: pruned, principal: principal, macKey: macKey))
    }

    /// A start as stored (its MAC to be checked).
    init(databaseID: String, link: Int64, hash: [UInt8], cut: Timestamp, pruned: Timestamp, principal: String, keyID: String, mac: [UInt8]) {
        self.databaseID = databaseID
        self.link = link
        self.hash = hash
        self.cut = cut
        self.pruned = pruned
        self.principal = principal
        self.keyID = keyID
        self.mac = mac
    }

    static func mac(databaseID: String, link: Int64, hash: [UInt8], cut: Timestamp, pruned: Timestamp, principal: String, macKey: [UInt8]) -> [UInt8] {
        var encoding = ChainRowEncoding(reservingCapacity: 160)
        encoding.text(databaseID)
        encoding.integer(link)
        encoding.blob(hash)
        encoding.integer(cut.nanosecondsSinceEpoch)
        encoding.integer(pruned.nanosecondsSinceEpoch)
        encoding.text(principal)
        return HMACSHA256.mac(Array("chain-start:".utf8) + encoding.bytes, key: macKey)
    }

    /// True when the MAC verifies under `macKey`.
    func isAuthentic(macKey: [UInt8]) -> Bool {
        ConstantTime.equal(Self.mac(databaseID: databaseID, link: link, hash: hash, cut: cut, pruned: pruned, principal: principal, macKey: macKey), mac)
    }

    /// The latest start, or nil when the history was never pruned (or predates schema 10).
    static func latest(in database: SQLiteDatabase) throws -> ChainStart? {
        guard try database.hasTable("chain_start") else { return nil }
        return try database.prepare(
            "SELECT database_id, link, hash, cut_ns, pruned_ns, principal, key_id, mac FROM chain_start ORDER BY seq DESC LIMIT 1"
        ).rows { row in
            ChainStart(
                databaseID: row.text(0) ?? "", link: row.int(1), hash: row.blob(2) ?? [], cut: Timestamp(nanosecondsSinceEpoch: row.int(3)),
                pruned: Timestamp(nanosecondsSinceEpoch: row.int(4)), principal: row.text(5) ?? "", keyID: row.text(6) ?? "", mac: row.blob(7) ?? [])
        }.first
    }

    /// The database id: the genesis link's, else (after a prune removed it) the latest start's.
    static func databaseID(in database: SQLiteDatabase) throws -> String? {
        let note = try database.prepare("SELECT note FROM chain WHERE seq = 1").rows { $0.text(0) ?? "" }
        if let id = note.first.flatMap(ChainLink.databaseID(inGenesisNote:)) { return id }
        return try latest(in: database)?.databaseID
    }
}
