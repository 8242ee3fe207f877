/// Comparison whose time does not depend on where two byte strings differ: for secrets
/// (token hashes, MACs), so a caller cannot find a match byte by byte by timing answers.
public enum ConstantTime {
    /// True when `a` and `b` are equal; the time depends only on their lengths.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
