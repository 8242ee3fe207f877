/// The rows a statement returned, copied out of libpq's result: each field as PostgreSQL's text
/// form (nil for NULL), read through typed accessors.
public struct PostgresRows: Sendable {
    /// The fields, row by row.
    public let values: [[String?]]
    /// Rows an INSERT, UPDATE or DELETE affected (0 for other statements).
    public let affected: Int

    /// Rows returned.
    public var count: Int { values.count }

    /// The field as text.
    public func text(_ row: Int, _ column: Int) -> String? { values[row][column] }

    /// The field as an integer; nil for NULL.
    public func int(_ row: Int, _ column: Int) throws -> Int64? {
        guard let text = values[row][column] else { return nil }
        guard let value = Int64(text) else { throw PostgresError(message: "column \(column) is not an integer") }
        return value
    }

    /// A `bytea` field (PostgreSQL's hex form, `\x0a1b…`) as bytes; nil for NULL.
    public func bytes(_ row: Int, _ column: Int) throws -> [UInt8]? {
        guard let text = values[row][column] else { return nil }
        var utf8 = Array(text.utf8)[...]
        guard utf8.starts(with: [0x5C, 0x78]), utf8.count % 2 == 0 else { throw PostgresError(message: "column \(column) is not bytea in hex form") }
        utf8 = utf8.dropFirst(2)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var high: UInt8?
        for character in utf8 {
            let nibble: UInt8
            switch character {
            case 0x30...0x39: nibble = character - 0x30
            case 0x61...0x66: nibble = character - 0x61 + 10
            case 0x41...0x46: nibble = character - 0x41 + 10
            default: throw PostgresError(message: "column \(column) is not bytea in hex form")
            }
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }
}
