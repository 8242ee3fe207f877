import Foundation
import SymphonyCrypto

/// Where Symphony keeps its state: `./.symphony/` by default, overridable by flags and environment.
enum StateLocation {
    static let directory = ".symphony"

    /// The history database: `--db`, else `$SYMPHONY_DB`, else `./.symphony/history.db`.
    static func database(_ flag: String?) -> String {
        flag ?? ProcessInfo.processInfo.environment["SYMPHONY_DB"] ?? directory + "/history.db"
    }

    /// The key file: `--key-file`, else `$SYMPHONY_KEY_FILE`, else `./.symphony/key`.
    static func keyFile(_ flag: String?) -> (path: String, isDefault: Bool) {
        if let flag { return (flag, false) }
        if let environment = ProcessInfo.processInfo.environment["SYMPHONY_KEY_FILE"] { return (environment, false) }
        return (directory + "/key", true)
    }

    /// Retired keys named by `--retired-key-file` (they open older data; new data uses the active key).
    static func loadRetiredKeys(_ paths: [String]) throws -> [EncryptionKey] {
        try paths.map { try KeyFile.read(from: $0) }
    }

    /// The principal a command acts as without `--as`: `user:$USER`, else `user:unknown`.
    static let defaultPrincipal: String = "user:" + (ProcessInfo.processInfo.environment["USER"] ?? "unknown")

    /// Makes `./.symphony/` (mode 0700) when a default path needs it.
    static func ensureDirectory(for path: String) throws {
        let parent = parentDirectory(of: path)
        guard !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) else { return }
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// The directory part of `path`: "" for a bare file name, "/" for a file at the root.
    ///
    /// (Not `NSString.deletingLastPathComponent`: this toolchain's Foundation traps on a path
    /// without a slash, such as `--db history.db`.)
    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The key at the key-file location; the default key file is created (0600) on first use.
    static func loadKey(_ flag: String?, createIfMissing: Bool) throws -> EncryptionKey? {
        let (path, isDefault) = keyFile(flag)
        if !FileManager.default.fileExists(atPath: path) {
            guard isDefault && createIfMissing else {
                if isDefault { return nil }
                throw CryptoError(.keyFileUnreadable, "Key file '\(path)' does not exist; create one with 'symphony keygen -o \(path)'.")
            }
            try ensureDirectory(for: path)
            let key = try EncryptionKey.generate()
            try KeyFile.write(key, to: path)
            return key
        }
        return try KeyFile.read(from: path)
    }
}
