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

    /// The first quote, backslash or control byte at or after `start`, byte by byte.
    static func expectedDelimiter(_ bytes: [UInt8], from start: Int) -> Int {
        bytes.indices.dropFirst(start).first { bytes[$0] == 0x22 || bytes[$0] == 0x5C || bytes[$0] < 0x20 } ?? bytes.count
    }

    @Test("every check answers the same on buffers starting at each of the eight offsets of a word")
    func unalignedStarts() {
        var generator = SplitMix64(seed: 0xB17E)
        let pool: [UInt8] = Self.edges + [0x22, 0x5C] + Array(0x61...0x66)
        for _ in 0..<500 {
            let whole = (0..<48).map { _ in pool.randomElement(using: &generator)! }
            for offset in 0..<8 {
                let part = Array(whole[offset...])
                whole.withUnsafeBufferPointer { buffer in
                    let slice = UnsafeBufferPointer(rebasing: buffer[offset...])
                    let want = Self.expected(part)
                    #expect(ByteScan.summary(slice).orBits == want.orBits && ByteScan.summary(slice).hasNUL == want.hasNUL)
                    #expect(ByteScan.isASCII(slice) == (want.orBits < 0x80))
                    #expect(ByteScan.containsControlByte(slice) == want.control)
                    for start in [0, 1, 5, 9, 17, part.count] {
                        #expect(ByteScan.firstStringDelimiter(in: slice, from: start) == Self.expectedDelimiter(part, from: start), "\(part) from \(start)")
                    }
                }
            }
        }
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
