import SymphonyRecords

// Tests name made-up operations ("before", "op") by their text.
extension AuditOperation: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        self.init(rawValue: value)
    }
}
