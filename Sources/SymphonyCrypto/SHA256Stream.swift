import COpenSSL

/// SHA-256 over bytes fed in pieces, for inputs too large to hold at once (a history's rows).
public final class SHA256Stream {
    private let context: OpaquePointer

    /// A stream with nothing fed yet.
    public init() {
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new failed: out of memory") }
        self.context = context
        precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "EVP_DigestInit_ex(SHA-256) cannot fail")
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    /// Feeds `bytes`.
    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            precondition(EVP_DigestUpdate(context, buffer.baseAddress, buffer.count) == 1, "EVP_DigestUpdate cannot fail")
        }
    }

    /// The digest of everything fed; the stream must not be used afterwards.
    public func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        digest.withUnsafeMutableBufferPointer { output in
            precondition(EVP_DigestFinal_ex(context, output.baseAddress, &length) == 1 && length == 32, "EVP_DigestFinal_ex cannot fail")
        }
        return digest
    }
}
