import SymphonyCrypto

/// A rule set sealed into one AES-256-GCM file: `symphony seal` writes it; `run`, `validate` and `intents` read it given the key.
///
/// Layout: the 8 bytes `SYMBNDL1`, then a version-1 envelope (docs/reference/envelope-format.md) with context
/// domain `symphony.bundle.v1` and no fields. Its plaintext is a list of files: for each, a
/// 4-byte big-endian length and the UTF-8 path, then a 4-byte big-endian length and the bytes.
public enum RuleBundle {
    /// The first bytes of every bundle.
    public static let magic = Array("SYMBNDL1".utf8)
    static let context = EnvelopeContext(domain: "symphony.bundle.v1", fields: [])

    /// True when `bytes` start like a bundle.
    public static func isBundle(_ bytes: [UInt8]) -> Bool {
        bytes.count >= magic.count && Array(bytes.prefix(magic.count)) == magic
    }

    /// Seals `files` (path, contents) with `sealer`.
    public static func seal(_ files: [(path: String, contents: [UInt8])], with sealer: EnvelopeSealer) throws -> [UInt8] {
        var plaintext: [UInt8] = []
        for file in files {
            BigEndianBytes.appendLengthPrefixed(file.path, to: &plaintext)
            BigEndianBytes.appendLengthPrefixed(file.contents, to: &plaintext)
        }
        return magic + (try sealer.seal(plaintext, context: context))
    }

    /// The files of a bundle; throws `BundleError` when it was altered, sealed with another key, or is malformed.
    public static func open(_ bytes: [UInt8], with sealer: EnvelopeSealer) throws(BundleError) -> [(path: String, contents: [UInt8])] {
        guard isBundle(bytes) else { throw BundleError(message: "not a sealed rule bundle") }
        let plaintext: [UInt8]
        do {
            plaintext = try sealer.open(Array(bytes.dropFirst(magic.count)), context: context)
        } catch {
            throw BundleError(message: "the bundle could not be opened: it was altered, or sealed with a key that is not in the key ring")
        }
        var files: [(String, [UInt8])] = []
        var offset = 0
        func take() throws(BundleError) -> [UInt8] {
            guard plaintext.count - offset >= 4 else { throw BundleError(message: "the bundle's contents are malformed") }
            let count = plaintext[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard plaintext.count - offset >= count else { throw BundleError(message: "the bundle's contents are malformed") }
            defer { offset += count }
            return Array(plaintext[offset..<offset + count])
        }
        while offset < plaintext.count {
            let path = String(decoding: try take(), as: UTF8.self)
            files.append((path, try take()))
        }
        return files
    }
}

/// Why a bundle could not be read.
public struct BundleError: Error, Sendable, CustomStringConvertible {
    /// One sentence.
    public let message: String
    public var description: String { message }
}
