/// An error from Symphony's cryptography: key files, envelopes and AES-256-GCM.
///
/// Messages are sentences that never contain key material or plaintext. Failures to open an
/// envelope say little on purpose: a wrong key, a flipped bit and a moved header look the same.
public struct CryptoError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case keyFileUnreadable, keyFileInsecure, keyFileMalformed, keyFileExists, keyFileUnwritable
            case randomUnavailable, malformedEnvelope, unsupportedVersion, unknownKey
            case authenticationFailed, nonceSpaceExhausted, cipherFailure
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The key file could not be opened or read.
        public static let keyFileUnreadable = Code(.keyFileUnreadable)
        /// The key file can be read by group or others.
        public static let keyFileInsecure = Code(.keyFileInsecure)
        /// The key file does not hold exactly 32 bytes.
        public static let keyFileMalformed = Code(.keyFileMalformed)
        /// A key file already exists where a new one was to be written.
        public static let keyFileExists = Code(.keyFileExists)
        /// The key file could not be created or written.
        public static let keyFileUnwritable = Code(.keyFileUnwritable)
        /// The operating system's random number generator failed.
        public static let randomUnavailable = Code(.randomUnavailable)
        /// The bytes are too short or otherwise not an envelope.
        public static let malformedEnvelope = Code(.malformedEnvelope)
        /// The envelope has a format version this build cannot open.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// The envelope names a key id that is not in the key ring.
        public static let unknownKey = Code(.unknownKey)
        /// The tag did not verify: the envelope, its context or the key is not the one it was sealed with.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// A sealer has used every nonce it may use under its key.
        public static let nonceSpaceExhausted = Code(.nonceSpaceExhausted)
        /// OpenSSL reported an internal failure.
        public static let cipherFailure = Code(.cipherFailure)

        public var description: String { "\(value)" }
    }

    /// What kind of failure this is.
    public let code: Code
    /// One sentence saying what went wrong, free of secrets.
    public let message: String

    /// Makes an error with a code and a message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
