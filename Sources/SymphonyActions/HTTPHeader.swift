/// One HTTP header field.
public struct HTTPHeader: Sendable, Hashable {
    /// The field name, e.g. "content-type" (received names are lower-cased).
    public var name: String
    /// The field value, without surrounding whitespace.
    public var value: String

    /// A header `name: value`.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
