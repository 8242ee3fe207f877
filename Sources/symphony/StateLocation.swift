import SymphonyPipeline
import ArgumentParser
import Foundation
import Glibc
import SymphonyCrypto

/// Where Symphony keeps its state: `./.symphony/` by default, overridable by flags and environment.
enum StateLocation {
    static let directory = ".symphony"

    /// The history database: `--db`, else `$SYMPHONY_DB`, else `./.symphony/history.db`.
    static func database(_ flag: String?) -> String {
        flag ?? environment("SYMPHONY_DB") ?? directory + "/history.db"
    }

    /// The key file: `--key-file`, else `$SYMPHONY_KEY_FILE`, else `./.symphony/key`.
    static func keyFile(_ flag: String?) -> (path: String, isDefault: Bool) {
        if let flag { return (flag, false) }
        if let path = environment("SYMPHONY_KEY_FILE") { return (path, false) }
        return (directory + "/key", true)
    }

    /// An environment variable's value; an empty one counts as unset.
    private static func environment(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Refuses an empty `--db`, `--key-file` or `--retired-key-file` (SQLite would open a private
    /// temporary database for an empty name, and a key file needs a name).
    static func validatePaths(db: String? = nil, keyFile: String? = nil, retiredKeyFiles: [String] = []) throws {
        if db?.isEmpty == true { throw ValidationError("--db needs a path, not an empty string.") }
        if keyFile?.isEmpty == true { throw ValidationError("--key-file needs a path, not an empty string.") }
        if retiredKeyFiles.contains("") { throw ValidationError("--retired-key-file needs a path, not an empty string.") }
    }

    /// Retired keys named by `--retired-key-file` (they open older data; new data uses the active key).
    static func loadRetiredKeys(_ paths: [String]) throws -> [EncryptionKey] {
        try paths.map { try KeyFile.read(from: $0) }
    }

    /// The principal a command acts as without `--as`: `user:$USER`, else `user:unknown`.
    static let defaultPrincipal: String = "user:" + (ProcessInfo.processInfo.environment["USER"] ?? "unknown")

    /// Makes the directories `path` lives in (mode 0700, like `./.symphony/`) when they are missing.
    /// When it cannot, it says why and exits 1.
    static func ensureDirectory(for path: String) throws {
        func make(_ directory: String) throws {
            guard !directory.isEmpty else { return }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else {
                    printError("symphony: cannot use '\(path)': '\(directory)' is not a directory.")
                    throw ExitCode(1)
                }
                return
            }
            try make(parentDirectory(of: directory))
            guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
                printError("symphony: cannot use '\(path)': cannot create the directory '\(directory)': \(String(cString: strerror(errno))).")
                throw ExitCode(1)
            }
        }
        try make(parentDirectory(of: path))
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
        // lstat, not fileExists: a dangling or looping symbolic link exists, and reading it says why it fails.
        var status = stat()
        if lstat(path, &status) != 0 {
            guard isDefault && createIfMissing else {
                if isDefault { return nil }
                throw CryptoError(.keyFileUnreadable, "Key file '\(path)' does not exist; create one with 'symphony keygen -o \(path)'.")
            }
            try ensureDirectory(for: path)
            let key = try EncryptionKey.generate()
            try KeyFile.write(key, to: path)
            // Said once, when it happens: the key is the only way to read the history's payloads.
            printError(
                "symphony: created a new key '\(path)' (0600) for the history; keep it, and back it up: without it the recorded payloads cannot be read")
            return key
        }
        return try KeyFile.read(from: path)
    }
}
