import COpenSSL

/// One key's AES-256-GCM cipher contexts (OpenSSL EVP), initialised once and reused per message.
///
/// This file holds the module's OpenSSL cipher calls (`SHA256`, `SecureRandom` and `SecureMemory`
/// wrap one call each). A cipher is not
/// thread-safe: `EnvelopeSealer` hands each one to a single thread at a time.
final class AESGCMCipher {
    static let nonceByteCount = 12
    static let tagByteCount = 16

    private let encryptContext: OpaquePointer
    private let decryptContext: OpaquePointer

    init(key: EncryptionKey) throws {
        guard let encrypt = EVP_CIPHER_CTX_new() else {
            throw CryptoError(.cipherFailure, "OpenSSL could not allocate a cipher context.")
        }
        guard let decrypt = EVP_CIPHER_CTX_new() else {
            EVP_CIPHER_CTX_free(encrypt)
            throw CryptoError(.cipherFailure, "OpenSSL could not allocate a cipher context.")
        }
        encryptContext = encrypt
        decryptContext = decrypt
        // The key schedule is computed once here; each message then only sets its nonce.
        let ok = key.withUnsafeKeyBytes { keyBytes -> Bool in
            let keyPointer = keyBytes.bindMemory(to: UInt8.self).baseAddress
            return EVP_EncryptInit_ex(encrypt, EVP_aes_256_gcm(), nil, nil, nil) == 1
                && EVP_CIPHER_CTX_ctrl(encrypt, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceByteCount), nil) > 0
                && EVP_EncryptInit_ex(encrypt, nil, nil, keyPointer, nil) == 1
                && EVP_DecryptInit_ex(decrypt, EVP_aes_256_gcm(), nil, nil, nil) == 1
                && EVP_CIPHER_CTX_ctrl(decrypt, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceByteCount), nil) > 0
                && EVP_DecryptInit_ex(decrypt, nil, nil, keyPointer, nil) == 1
        }
        guard ok else {
            throw CryptoError(.cipherFailure, "OpenSSL could not initialise AES-256-GCM.")
        }
    }

    deinit {
        // EVP_CIPHER_CTX_free cleanses the key schedule.
        EVP_CIPHER_CTX_free(encryptContext)
        EVP_CIPHER_CTX_free(decryptContext)
    }

    /// Encrypts `plaintext` into `output` (same length) and writes the 16-byte tag into `tag`.
    func seal(
        _ plaintext: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, authenticating aad: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer, tag: UnsafeMutableRawBufferPointer
    ) throws {
        precondition(nonce.count == Self.nonceByteCount && tag.count == Self.tagByteCount && output.count == plaintext.count)
        guard plaintext.count < Int32.max, aad.count < Int32.max else {
            throw CryptoError(.cipherFailure, "A message larger than 2 GiB cannot be sealed.")
        }
        let ctx = encryptContext
        var length: Int32 = 0
        var scratch: UInt8 = 0
        let ok = withUnsafeMutablePointer(to: &scratch) { empty -> Bool in
            let out = output.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? empty
            guard EVP_EncryptInit_ex(ctx, nil, nil, nil, nonce.baseAddress?.assumingMemoryBound(to: UInt8.self)) == 1 else { return false }
            if aad.count > 0 {
                guard EVP_EncryptUpdate(ctx, nil, &length, aad.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1 else { return false }
            }
            var produced: Int32 = 0
            if plaintext.count > 0 {
                guard EVP_EncryptUpdate(ctx, out, &length, plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(plaintext.count)) == 1 else { return false }
                produced = length
            }
            guard EVP_EncryptFinal_ex(ctx, out + Int(produced), &length) == 1 else { return false }
            return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagByteCount), tag.baseAddress) > 0
        }
        guard ok else { throw CryptoError(.cipherFailure, "OpenSSL failed to seal a message.") }
    }

    /// Decrypts `ciphertext` into `output` (same length) if `tag` verifies over it and `aad`; returns false when it does not.
    func open(
        _ ciphertext: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, authenticating aad: UnsafeRawBufferPointer,
        tag: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        guard nonce.count == Self.nonceByteCount, tag.count == Self.tagByteCount, output.count == ciphertext.count,
            ciphertext.count < Int32.max, aad.count < Int32.max
        else { return false }
        let ctx = decryptContext
        var length: Int32 = 0
        var scratch: UInt8 = 0
        return withUnsafeMutablePointer(to: &scratch) { empty -> Bool in
            let out = output.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? empty
            guard EVP_DecryptInit_ex(ctx, nil, nil, nil, nonce.baseAddress?.assumingMemoryBound(to: UInt8.self)) == 1 else { return false }
            if aad.count > 0 {
                guard EVP_DecryptUpdate(ctx, nil, &length, aad.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1 else { return false }
            }
            var produced: Int32 = 0
            if ciphertext.count > 0 {
                guard EVP_DecryptUpdate(ctx, out, &length, ciphertext.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(ciphertext.count)) == 1 else { return false }
                produced = length
            }
            guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagByteCount), UnsafeMutableRawPointer(mutating: tag.baseAddress)) > 0 else { return false }
            return EVP_DecryptFinal_ex(ctx, out + Int(produced), &length) > 0
        }
    }
}
