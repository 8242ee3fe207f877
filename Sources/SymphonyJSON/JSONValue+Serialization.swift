extension JSONValue {
    /// Compact JSON text with object keys in sorted order (so equal values print equally).
    ///
    /// Strings are escaped per RFC 8259; non-finite doubles, which JSON cannot express, print as `null`.
    public var jsonText: String {
        var writer = JSONWriter()
        writer.value(self)
        return writer.text
    }

    /// Appends the compact JSON text of this value to `output`.
    public func write(to output: inout String) {
        var writer = JSONWriter()
        writer.value(self)
        output += writer.text
    }

    /// Appends `text` as a JSON string literal.
    public static func writeString(_ text: String, to output: inout String) {
        var writer = JSONWriter(capacity: text.utf8.count + 2)
        writer.string(text)
        output += writer.text
    }
}
