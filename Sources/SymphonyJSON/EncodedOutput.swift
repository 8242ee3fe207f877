/// The bytes `JSONParser` writes while encoding a member: appended at the end of an array kept
/// longer than what is written, so that each write is a store, not `Array.append`'s
/// uniqueness, capacity and count bookkeeping (about a hundred instructions per call).
struct EncodedOutput {
    /// The bytes written, then zeros up to the storage's length.
    private var storage: [UInt8] = []
    /// How many bytes are written.
    private(set) var count = 0

    /// Room for `capacity` bytes before the storage grows.
    mutating func reserve(_ capacity: Int) {
        if storage.count < capacity { storage.append(contentsOf: repeatElement(0, count: capacity - storage.count)) }
    }

    /// Makes room for `extra` more bytes: at least doubling, so that growing costs linear time in all.
    @inline(__always)
    private mutating func ensureRoom(_ extra: Int) {
        if count + extra > storage.count { grow(extra) }
    }

    @inline(never)
    private mutating func grow(_ extra: Int) {
        reserve(max(count + extra, 2 * storage.count, 64))
    }

    mutating func append(_ byte: UInt8) {
        ensureRoom(1)
        storage.withUnsafeMutableBufferPointer { $0[count] = byte }
        count += 1
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.isEmpty else { return }
        ensureRoom(bytes.count)
        storage.withUnsafeMutableBufferPointer { storage in
            UnsafeMutableRawPointer(storage.baseAddress! + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        }
        count += bytes.count
    }

    mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    /// Appends `value` as 8 big-endian bytes.
    mutating func appendBigEndian(_ value: UInt64) {
        ensureRoom(8)
        storage.withUnsafeMutableBytes { $0.storeBytes(of: value.bigEndian, toByteOffset: count, as: UInt64.self) }
        count += 8
    }

    /// Appends four zero bytes, for a count written later by `patchCount`.
    mutating func appendCountPlaceholder() {
        ensureRoom(4)
        storage.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(0), toByteOffset: count, as: UInt32.self) }
        count += 4
    }

    /// Writes `value` as a big-endian u32 at `position`, within what is written.
    mutating func patchCount(at position: Int, _ value: Int) {
        precondition(position >= 0 && position + 4 <= count, "a count's placeholder lies within the output")
        storage.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(truncatingIfNeeded: value).bigEndian, toByteOffset: position, as: UInt32.self) }
    }

    /// Calls `body` with the bytes written.
    func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[..<count])) }
    }

    /// The bytes written, as an array (the storage itself, shortened: no copy).
    mutating func take() -> [UInt8] {
        var bytes: [UInt8] = []
        swap(&bytes, &storage)
        bytes.removeLast(bytes.count - count)
        count = 0
        return bytes
    }
}
