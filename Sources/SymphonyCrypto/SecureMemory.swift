import COpenSSL

/// Wiping secrets from memory in a way the optimizer cannot remove.
enum SecureMemory {
    /// Overwrites `count` bytes at `pointer` with zeros (`OPENSSL_cleanse`).
    static func cleanse(_ pointer: UnsafeMutableRawPointer, _ count: Int) {
        guard count > 0 else { return }
        copenssl_cleanse(pointer, count)
    }
}
