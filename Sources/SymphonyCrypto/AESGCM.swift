/// One-shot AES-256-GCM with 96-bit nonces and 128-bit tags, for test vectors and small jobs.
///
/// The engine itself uses `EnvelopeSealer`, which reuses cipher contexts and chooses nonces.
public enum AESGCM {
    /// Encrypts `plaintext` under `key` and `nonce` (12 bytes), authenticating `aad`; returns the ciphertext and the 16-byte tag.
    public static func seal(
        _ plaintext: [UInt8], using key: EncryptionKey, nonce: [UInt8], authenticating aad: [UInt8] = []
    ) throws -> (ciphertext: [UInt8], tag: [UInt8]) {
        guard nonce.count == AESGCMCipher.nonceByteCount else {
            throw CryptoError(.malformedEnvelope, "An AES-GCM nonce must be 12 bytes, not \(nonce.count).")
        }
        let cipher = try AESGCMCipher(key: key)
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count)
        var tag = [UInt8](repeating: 0, count: AESGCMCipher.tagByteCount)
        try plaintext.withUnsafeBytes { input in
            try nonce.withUnsafeBytes { nonceBytes in
                try aad.withUnsafeBytes { aadBytes in
                    try ciphertext.withUnsafeMutableBytes { output in
                        try tag.withUnsafeMutableBytes { tagBytes in
                            try cipher.seal(input, nonce: nonceBytes, authenticating: aadBytes, into: output, tag: tagBytes)
                        }
                    }
                }
            }
        }
        return (ciphertext, tag)
    }

    /// Decrypts `ciphertext` if `tag` (exactly 16 bytes) verifies under `key`, `nonce` and `aad`; otherwise throws `authenticationFailed`.
    public static func open(
        _ ciphertext: [UInt8], using key: EncryptionKey, nonce: [UInt8], tag: [UInt8], authenticating aad: [UInt8] = []
    ) throws -> [UInt8] {
        guard tag.count == AESGCMCipher.tagByteCount else {
            throw CryptoError(.authenticationFailed, "An AES-GCM tag must be 16 bytes; shorter tags are refused.")
        }
        let cipher = try AESGCMCipher(key: key)
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count)
        let ok = ciphertext.withUnsafeBytes { input in
            nonce.withUnsafeBytes { nonceBytes in
                aad.withUnsafeBytes { aadBytes in
                    tag.withUnsafeBytes { tagBytes in
                        plaintext.withUnsafeMutableBytes { output in
                            cipher.open(input, nonce: nonceBytes, authenticating: aadBytes, tag: tagBytes, into: output)
                        }
                    }
                }
            }
        }
        guard ok else {
            EncryptionKey.wipe(&plaintext)
            throw CryptoError(.authenticationFailed, "The message could not be authenticated.")
        }
        return plaintext
    }
}
