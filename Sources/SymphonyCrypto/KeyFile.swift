import Glibc

/// Reading and writing key files: exactly 32 raw bytes, mode 0600.
///
/// A key file that group or others may access in any way is refused: a key that others can read is not a secret.
public enum KeyFile {
    /// Reads the key at `path`, refusing files that are not private to their owner or not 32 bytes long.
    public static func read(from path: String) throws -> EncryptionKey {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer (it is refused below).
        let fd = try retryingEINTR { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        guard fd >= 0 else {
            throw CryptoError(.keyFileUnreadable, "Cannot open key file '\(path)': \(errnoDescription()).")
        }
        defer { close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw CryptoError(.keyFileUnreadable, "Cannot inspect key file '\(path)': \(errnoDescription()).")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw CryptoError(.keyFileUnreadable, "Key file '\(path)' is not a regular file.")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw CryptoError(
                .keyFileInsecure,
                "Key file '\(path)' is accessible by group or others (mode \(String(mode, radix: 8))); run 'chmod 600 \(path)'.")
        }
        guard info.st_size == EncryptionKey.byteCount else {
            throw CryptoError(
                .keyFileMalformed,
                "Key file '\(path)' must hold exactly \(EncryptionKey.byteCount) bytes, not \(info.st_size).")
        }

        var bytes = [UInt8](repeating: 0, count: EncryptionKey.byteCount)
        defer { EncryptionKey.wipe(&bytes) }
        var filled = 0
        while filled < bytes.count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                throw CryptoError(.keyFileUnreadable, "Cannot read key file '\(path)': \(got == 0 ? "it ended early" : errnoDescription()).")
            }
            filled += got
        }
        return try EncryptionKey(bytes: bytes)
    }

    /// Writes `key` to a new file at `path` with mode 0600; never overwrites an existing file.
    public static func write(_ key: EncryptionKey, to path: String) throws {
        let fd = try retryingEINTR { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        guard fd >= 0 else {
            if errno == EEXIST {
                throw CryptoError(.keyFileExists, "Key file '\(path)' already exists; refusing to overwrite it.")
            }
            throw CryptoError(.keyFileUnwritable, "Cannot create key file '\(path)': \(errnoDescription()).")
        }
        var failure: CryptoError?
        if fchmod(fd, 0o600) != 0 {
            failure = CryptoError(.keyFileUnwritable, "Cannot set mode 0600 on key file '\(path)': \(errnoDescription()).")
        }
        var written = 0
        while failure == nil && written < EncryptionKey.byteCount {
            let got = key.withUnsafeKeyBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 {
                failure = CryptoError(.keyFileUnwritable, "Cannot write key file '\(path)': \(errnoDescription()).")
            } else {
                written += got
            }
        }
        if failure == nil && fsync(fd) != 0 {
            failure = CryptoError(.keyFileUnwritable, "Cannot flush key file '\(path)': \(errnoDescription()).")
        }
        close(fd)
        if let failure {
            unlink(path)
            throw failure
        }
    }

    private static func retryingEINTR(_ call: () -> Int32) throws -> Int32 {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }

    private static func errnoDescription() -> String {
        String(cString: strerror(errno))
    }
}
