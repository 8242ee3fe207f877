import SymphonyJSON
import Testing

/// The word-at-a-time scans must answer exactly as a byte-by-byte loop, whatever the length, the
/// alignment and the bytes beside the one that decides.
@Suite struct ByteScanTests {
    /// Bytes at and around every boundary the scans test.
    static let edges: [UInt8] = [0x00, 0x01, 0x1F, 0x20, 0x21, 0x41, 0x7E, 0x7F, 0x80, 0x9F, 0xA0, 0xC3, 0xFE, 0xFF]

    static func expected(_ bytes: [UInt8]) -> (orBits: UInt8, hasNUL: Bool, control: Bool) {
        (bytes.reduce(0, |), bytes.contains(0), bytes.contains { $0 < 0x20 || $0 == 0x7F })
    }

    static func check(_ bytes: [UInt8]) {
        let want = expected(bytes)
        bytes.withUnsafeBufferPointer { buffer in
            let got = ByteScan.summary(buffer)
            #expect(got.orBits == want.orBits, "orBits of \(bytes)")
            #expect(got.hasNUL == want.hasNUL, "NUL in \(bytes)")
            #expect(ByteScan.isASCII(buffer) == (want.orBits < 0x80), "ASCII \(bytes)")
            #expect(ByteScan.containsControlByte(buffer) == want.control, "control byte in \(bytes)")
        }
    }

    @Test func oneEdgeByteAtEveryPositionOfEveryLength() {
        for length in 1...25 {
            for filler: UInt8 in [0x61, 0x20, 0xFF, 0x80] {
                for position in 0..<length {
                    for edge in Self.edges {
                        var bytes = [UInt8](repeating: filler, count: length)
                        bytes[position] = edge
                        Self.check(bytes)
                    }
                }
            }
        }
        Self.check([])
    }

    @Test func randomBuffersAgreeWithTheByteLoop() {
        var generator = SplitMix64(seed: 0x5CA7)
        for _ in 0..<5_000 {
            let length = Int.random(in: 0...70, using: &generator)
            // Mostly printable ASCII, with edge bytes now and then: the usual shape of a line.
            let bytes = (0..<length).map { _ in
                Int.random(in: 0..<12, using: &generator) == 0
                    ? Self.edges.randomElement(using: &generator)! : UInt8.random(in: 0x20...0x7E, using: &generator)
            }
            Self.check(bytes)
        }
    }
}
