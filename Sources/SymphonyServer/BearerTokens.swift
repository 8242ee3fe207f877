import Foundation
import SymphonyCrypto

/// Bearer tokens mapped to principals, from a file of lines `PRINCIPAL SHA256-HEX-OF-TOKEN`
/// (`#` comments and blank lines allowed): only the tokens' hashes are kept, on disk and in memory.
public struct BearerTokens: Sendable {
    /// A problem in the tokens file, with its line (never quoting a hash).
    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    private let entries: [(principal: String, hash: [UInt8])]

    /// Tokens whose SHA-256 hashes are `hashes` (principal to 32-byte hash).
    public init(_ entries: [(principal: String, hash: [UInt8])]) {
        self.entries = entries
    }

    /// The principals that have a token.
    public var principals: [String] { entries.map(\.principal) }

    /// Reads a tokens file; throws naming the file and line of the first problem.
    public static func load(path: String) throws -> BearerTokens {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "cannot read the tokens file '\(path)'")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LoadError(description: "\(path): not valid UTF-8")
        }
        var entries: [(principal: String, hash: [UInt8])] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 2 else {
                throw LoadError(description: "\(path):\(index + 1): expected 'PRINCIPAL SHA256-HEX' (two fields)")
            }
            let principal = String(fields[0])
            guard let hash = Hex.decode(fields[1]), hash.count == 32 else {
                throw LoadError(description: "\(path):\(index + 1): the hash of '\(principal)' must be 64 hex digits (the SHA-256 of the token)")
            }
            if entries.contains(where: { $0.hash == hash }) {
                throw LoadError(description: "\(path):\(index + 1): the token of '\(principal)' is listed twice")
            }
            entries.append((principal, hash))
        }
        if entries.isEmpty { throw LoadError(description: "\(path): no tokens; each line is 'PRINCIPAL SHA256-HEX-OF-TOKEN'") }
        return BearerTokens(entries)
    }

    /// The principal whose token is `token`, or nil; compares every hash in constant time.
    public func principal(for token: some StringProtocol) -> String? {
        let digest = SHA256.hash(Array(token.utf8))
        var found: String?
        for entry in entries where ConstantTime.equal(entry.hash, digest) {
            found = entry.principal
        }
        return found
    }

    /// The SHA-256 of `token` as lowercase hex, as the tokens file holds it.
    public static func hashHex(of token: String) -> String {
        Hex.encode(SHA256.hash(Array(token.utf8)))
    }
}
