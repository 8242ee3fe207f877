import Foundation
import SymphonyCrypto

/// Bytes from a hexadecimal string (spaces ignored).
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// A fresh empty directory under the system temporary directory.
func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "symphony-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A key with every byte equal to `byte`.
func fixedKey(_ byte: UInt8) throws -> EncryptionKey {
    try EncryptionKey(bytes: [UInt8](repeating: byte, count: 32))
}
