import SymphonyJSON

/// A rendered `exec` action: a program and its arguments (never a shell command line).
public struct ExecSpec: Sendable, Hashable {
    /// The program, then its arguments, one rendered template each.
    public var command: [String]
    /// The working directory; nil keeps Symphony's.
    public var workingDirectory: String?
    /// Names of Symphony's environment variables the program gets (the allow-list); it gets no others
    /// but `SYMPHONY_ACTION_KEY`, `SYMPHONY_RULE` and `SYMPHONY_EVENT_ID`.
    public var environment: [String]
    /// Text written to the program's standard input; nil gives it none.
    public var standardInput: String?
    /// How long it may run before SIGTERM (then SIGKILL after a grace period).
    public var timeout: Duration
    /// Bytes of standard output and of standard error kept in history.
    public var outputLimit: Int
    /// Exit statuses that mean success.
    public var successStatuses: [Int32]

    /// A rendered `exec` action.
    public init(
        command: [String], workingDirectory: String? = nil, environment: [String] = [], standardInput: String? = nil,
        timeout: Duration = .seconds(30), outputLimit: Int = 4_096, successStatuses: [Int32] = [0]
    ) {
        self.command = command
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.standardInput = standardInput
        self.timeout = timeout
        self.outputLimit = outputLimit
        self.successStatuses = successStatuses
    }

    var json: JSONValue {
        var object: [String: JSONValue] = [
            "command": .array(command.map(JSONValue.string)), "env": .array(environment.map(JSONValue.string)),
            "timeout_ms": .int(timeout.milliseconds), "output_limit": .int(Int64(outputLimit)),
            "success": .array(successStatuses.map { .int(Int64($0)) }),
        ]
        if let workingDirectory { object["cwd"] = .string(workingDirectory) }
        if let standardInput { object["stdin"] = .string(standardInput) }
        return .object(object)
    }

    init?(json: JSONValue) {
        guard let command = json["command"]?.stringArray, !command.isEmpty, let timeout = json["timeout_ms"]?.int64Value,
            let limit = json["output_limit"]?.int64Value
        else { return nil }
        self.command = command
        workingDirectory = json["cwd"]?.stringValue
        environment = json["env"]?.stringArray ?? []
        standardInput = json["stdin"]?.stringValue
        self.timeout = .milliseconds(timeout)
        outputLimit = Int(limit)
        if case .array(let statuses)? = json["success"] {
            successStatuses = statuses.compactMap { $0.int64Value.map { Int32(truncatingIfNeeded: $0) } }
        } else {
            successStatuses = [0]
        }
    }
}

extension Duration {
    /// Whole milliseconds (rounded down).
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
