import COpenSSL
import Glibc

/// Random bytes straight from the operating system's CSPRNG (`getrandom(2)`).
public enum SecureRandom {
    /// Returns `count` random bytes, or throws when the kernel cannot supply them.
    public static func bytes(_ count: Int) throws -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = result.withUnsafeMutableBytes { buffer -> Int in
                getrandom(buffer.baseAddress! + filled, count - filled, 0)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw CryptoError(.randomUnavailable, "The operating system's random number generator failed (errno \(errno)).")
            }
            filled += got
        }
        return result
    }

    /// A random 64-bit value from the operating system's CSPRNG.
    public static func uint64() throws -> UInt64 {
        try bytes(8).reduce(0) { ($0 << 8) | UInt64($1) }
    }
}
