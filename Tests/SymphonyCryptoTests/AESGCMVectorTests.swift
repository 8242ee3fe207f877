import SymphonyCrypto
import Testing

/// Published AES-256-GCM vectors: McGrew & Viega's GCM specification test cases 13, 14 and 16
/// (also in NIST's gcmEncryptExtIV256 set) and a Wycheproof-style modified-tag case.
@Suite struct AESGCMVectorTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let key: String
        let nonce: String
        let plaintext: String
        let aad: String
        let ciphertext: String
        let tag: String
        var testDescription: String { name }
    }

    static let vectors = [
        Vector(
            name: "GCM test case 13 (empty plaintext)", key: String(repeating: "00", count: 32),
            nonce: String(repeating: "00", count: 12), plaintext: "", aad: "", ciphertext: "",
            tag: "530f8afbc74536b9a963b4f1c4cb738b"),
        Vector(
            name: "GCM test case 14 (one zero block)", key: String(repeating: "00", count: 32),
            nonce: String(repeating: "00", count: 12), plaintext: String(repeating: "00", count: 16), aad: "",
            ciphertext: "cea7403d4d606b6e074ec5d3baf39d18", tag: "d0d1c8a799996bf0265b98b5d48ab919"),
        Vector(
            name: "GCM test case 16 (with associated data)",
            key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
            nonce: "cafebabefacedbaddecaf888",
            plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            tag: "76fc6ece0f4e1768cddf8853bb2d551b"),
    ]

    @Test("seal reproduces the published ciphertext and tag", arguments: vectors)
    func sealMatchesVector(_ vector: Vector) throws {
        let key = try EncryptionKey(bytes: hex(vector.key))
        let sealed = try AESGCM.seal(hex(vector.plaintext), using: key, nonce: hex(vector.nonce), authenticating: hex(vector.aad))
        #expect(sealed.ciphertext == hex(vector.ciphertext))
        #expect(sealed.tag == hex(vector.tag))
    }

    @Test("open recovers the published plaintext", arguments: vectors)
    func openMatchesVector(_ vector: Vector) throws {
        let key = try EncryptionKey(bytes: hex(vector.key))
        let plaintext = try AESGCM.open(
            hex(vector.ciphertext), using: key, nonce: hex(vector.nonce), tag: hex(vector.tag), authenticating: hex(vector.aad))
        #expect(plaintext == hex(vector.plaintext))
    }

    @Test("a modified tag, ciphertext or associated data is rejected", arguments: vectors)
    func modifiedInputsAreRejected(_ vector: Vector) throws {
        let key = try EncryptionKey(bytes: hex(vector.key))
        var badTag = hex(vector.tag)
        badTag[0] ^= 0x80
        #expect(throws: CryptoError(.authenticationFailed, "The message could not be authenticated.")) {
            try AESGCM.open(hex(vector.ciphertext), using: key, nonce: hex(vector.nonce), tag: badTag, authenticating: hex(vector.aad))
        }
        #expect(throws: CryptoError.self) {
            try AESGCM.open(
                hex(vector.ciphertext), using: key, nonce: hex(vector.nonce), tag: hex(vector.tag), authenticating: hex(vector.aad) + [0])
        }
        if !vector.ciphertext.isEmpty {
            var badCiphertext = hex(vector.ciphertext)
            badCiphertext[badCiphertext.count - 1] ^= 0x01
            #expect(throws: CryptoError.self) {
                try AESGCM.open(badCiphertext, using: key, nonce: hex(vector.nonce), tag: hex(vector.tag), authenticating: hex(vector.aad))
            }
        }
    }

    @Test("tags shorter than 16 bytes are refused even when they are a true prefix")
    func truncatedTagsAreRefused() throws {
        let vector = Self.vectors[2]
        let key = try EncryptionKey(bytes: hex(vector.key))
        let error = #expect(throws: CryptoError.self) {
            try AESGCM.open(
                hex(vector.ciphertext), using: key, nonce: hex(vector.nonce), tag: Array(hex(vector.tag).prefix(12)),
                authenticating: hex(vector.aad))
        }
        #expect(error?.message == "An AES-GCM tag must be 16 bytes; shorter tags are refused.")
    }

    @Test("SHA-256 matches the FIPS 180-2 'abc' vector")
    func sha256Vector() {
        #expect(SHA256.hash(Array("abc".utf8)) == hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
    }
}

@Suite struct HMACSHA256Tests {
    @Test("RFC 4231 test cases 1, 2 and 6")
    func rfc4231() {
        #expect(
            HMACSHA256.mac(Array("Hi There".utf8), key: [UInt8](repeating: 0x0b, count: 20))
                == hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"))
        #expect(
            HMACSHA256.mac(Array("what do ya want for nothing?".utf8), key: Array("Jefe".utf8))
                == hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
        #expect(
            HMACSHA256.mac(Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8), key: [UInt8](repeating: 0xaa, count: 131))
                == hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"))
    }
}
