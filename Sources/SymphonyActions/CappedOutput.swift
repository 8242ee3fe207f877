/// Bytes read from a stream, keeping at most `limit`; marks when more arrived.
struct CappedOutput {
    /// The bytes kept.
    private(set) var bytes: [UInt8] = []
    /// True once more than `limit` bytes arrived.
    private(set) var truncated = false
    private let limit: Int

    /// An empty buffer keeping at most `limit` bytes (a negative limit keeps none).
    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Keeps as much of `chunk` as still fits.
    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        let room = limit - bytes.count
        if chunk.count > room { truncated = true }
        bytes.append(contentsOf: chunk.prefix(max(0, room)))
    }
}
