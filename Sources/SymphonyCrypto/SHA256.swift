import COpenSSL

/// SHA-256 through OpenSSL's one-shot `EVP_Digest`.
public enum SHA256 {
    /// The 32-byte SHA-256 digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, sha256Algorithm, nil)
            }
        }
        precondition(ok == 1 && length == 32, "EVP_Digest(SHA-256) cannot fail on valid input")
        return digest
    }
}

/// SHA-256 fetched once: `EVP_sha256()` makes OpenSSL 3 look the algorithm up on every digest.
// nonisolated(unsafe): a fetched EVP_MD is immutable and documented as safe to share between threads.
nonisolated(unsafe) private let sha256Algorithm: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)
