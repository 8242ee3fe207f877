import SymphonyCrypto
import SymphonyEvents

/// The history chain's head at one moment, signed, kept outside the database: `symphony audit
/// verify --checkpoint` then catches a database rolled back to an older copy, or erased and
/// started afresh, which the database alone cannot show.
///
/// One line of text: `symphony-checkpoint v1 <database id> <link> <hash hex> <key id> <mac hex>`;
/// the MAC is HMAC-SHA-256, under the chain's MAC key, of `checkpoint:<database id>:<link>:` and the hash.
public struct HistoryCheckpoint: Sendable, Hashable {
    /// The database's id, from its genesis link.
    public let databaseID: String
    /// The head link's sequence number.
    public let sequence: Int64
    /// The head link's hash.
    public let hash: [UInt8]
    /// The key whose MAC key signed it.
    public let keyID: String
    public let mac: [UInt8]

    /// Signs a head under `key`.
    public init(databaseID: String, sequence: Int64, hash: [UInt8], key: EncryptionKey) {
        self.databaseID = databaseID
        self.sequence = sequence
        self.hash = hash
        keyID = key.idString
        mac = Self.mac(databaseID: databaseID, sequence: sequence, hash: hash, macKey: HistoryChain.macKey(from: key))
    }

    private init(databaseID: String, sequence: Int64, hash: [UInt8], keyID: String, mac: [UInt8]) {
        self.databaseID = databaseID
        self.sequence = sequence
        self.hash = hash
        self.keyID = keyID
        self.mac = mac
    }

    static func mac(databaseID: String, sequence: Int64, hash: [UInt8], macKey: [UInt8]) -> [UInt8] {
        HMACSHA256.mac(Array("checkpoint:\(databaseID):\(sequence):".utf8) + hash, key: macKey)
    }

    /// The checkpoint line (no newline).
    public var text: String {
        "symphony-checkpoint v1 \(databaseID) \(sequence) \(Hex.encode(hash)) \(keyID) \(Hex.encode(mac))"
    }

    /// Reads a checkpoint line; nil when it is not one.
    public init?(text: String) {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }).map(String.init)
        guard words.count == 7, words[0] == "symphony-checkpoint", words[1] == "v1", let sequence = Int64(words[3]), sequence > 0,
            let hash = Hex.decode(words[4]), hash.count == 32, let mac = Hex.decode(words[6]), mac.count == 32
        else { return nil }
        self.init(databaseID: words[2], sequence: sequence, hash: hash, keyID: words[5], mac: mac)
    }

    /// True when the MAC verifies under `key` (which must be the key the checkpoint names).
    public func isAuthentic(under key: EncryptionKey) -> Bool {
        key.idString == keyID
            && ConstantTime.equal(Self.mac(databaseID: databaseID, sequence: sequence, hash: hash, macKey: HistoryChain.macKey(from: key)), mac)
    }
}
