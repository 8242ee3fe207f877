import SymphonyJSON

/// A rendered `file` action: one line to append.
public struct FileSpec: Sendable, Hashable {
    /// The file (absolute, or relative to Symphony's working directory).
    public var path: String
    /// The line, without its newline.
    public var line: String
    /// Permission bits of the file when it is created (0600 unless the rule says).
    public var mode: Int

    /// A rendered `file` action.
    public init(path: String, line: String, mode: Int = 0o600) {
        self.path = path
        self.line = line
        self.mode = mode
    }

    var json: JSONValue { ["path": .string(path), "line": .string(line), "mode": .int(Int64(mode))] }

    init?(json: JSONValue) {
        guard let path = json["path"]?.stringValue, let line = json["line"]?.stringValue else { return nil }
        self.path = path
        self.line = line
        mode = Int(json["mode"]?.int64Value ?? 0o600)
    }
}
