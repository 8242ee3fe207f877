import SymphonyJSON

/// A side effect as it will run: everything rendered, ready for its runner. Stored (sealed) in
/// the outbox, so an action queued before a crash runs after the restart exactly as rendered.
///
/// Secrets are never part of a request: header values and environment variables are resolved by
/// name from Symphony's environment when the action runs (`${NAME}` in header values, `env:` names).
public enum ActionRequest: Sendable, Hashable {
    case exec(ExecSpec)
    case http(HTTPSpec)
    case file(FileSpec)

    /// The kind of action that runs this request.
    public var kind: ActionKind {
        switch self {
        case .exec: .exec
        case .http: .http
        case .file: .file
        }
    }

    /// What the per-target limits key on: the program for `exec`, `host:port` for `http`, the path for `file`.
    public var target: String {
        switch self {
        case .exec(let spec): spec.command.first ?? ""
        case .http(let spec): spec.hostAndPort ?? spec.url
        case .file(let spec): spec.path
        }
    }

    /// The request as JSON (the outbox's stored form).
    public var json: JSONValue {
        switch self {
        case .exec(let spec): ["exec": spec.json]
        case .http(let spec): ["http": spec.json]
        case .file(let spec): ["file": spec.json]
        }
    }

    /// The request stored as `json`; nil when it is not one.
    public init?(json: JSONValue) {
        if let spec = json["exec"].flatMap(ExecSpec.init(json:)) {
            self = .exec(spec)
        } else if let spec = json["http"].flatMap(HTTPSpec.init(json:)) {
            self = .http(spec)
        } else if let spec = json["file"].flatMap(FileSpec.init(json:)) {
            self = .file(spec)
        } else {
            return nil
        }
    }

    /// One line for history and output: the argument list, the method and URL, or the path —
    /// no bodies, stdin or header values.
    public var summary: String {
        switch self {
        case .exec(let spec): "exec " + spec.command.map(\.jsonQuoted).joined(separator: " ")
        case .http(let spec): "\(spec.method) \(spec.url)"
        case .file(let spec): "append to \(spec.path)"
        }
    }
}

extension ActionRequest {
    /// The request as JSON with the values of secret headers (those reading `${NAME}`) masked:
    /// what a dry run shows.
    public var maskedJSON: JSONValue {
        guard case .http(var spec) = self else { return json }
        spec.headers = spec.headers.map { $0.isSecret ? HTTPSpec.Header(name: $0.name, value: "***") : $0 }
        return ActionRequest.http(spec).json
    }

    /// Everything the request would do, on one line, secrets masked: what a dry run prints.
    public var shown: String {
        switch self {
        case .exec(let spec):
            var text = "exec [" + spec.command.map(\.jsonQuoted).joined(separator: ", ") + "]"
            var details: [String] = []
            if let directory = spec.workingDirectory { details.append("cwd \(directory.jsonQuoted)") }
            if !spec.environment.isEmpty { details.append("env " + spec.environment.joined(separator: ",")) }
            if let input = spec.standardInput { details.append("stdin \(input.jsonQuoted)") }
            details.append("timeout \(spec.timeout.milliseconds) ms")
            if spec.successStatuses != [0] { details.append("success " + spec.successStatuses.map(String.init).joined(separator: ",")) }
            text += " (" + details.joined(separator: "; ") + ")"
            return text
        case .http(let spec):
            var text = "http \(spec.method) \(spec.url)"
            for header in spec.headers { text += " [\(header.name): \(header.isSecret ? "***" : header.value)]" }
            if !spec.body.isEmpty { text += " body \(spec.body)" }
            return text
        case .file(let spec):
            return "file append to \(spec.path) (mode \(String(spec.mode, radix: 8))): \(spec.line)"
        }
    }
}

extension String {
    /// The string as a JSON string literal: quotes, backslashes and control characters escaped.
    var jsonQuoted: String {
        var output = ""
        JSONValue.writeString(self, to: &output)
        return output
    }
}

extension JSONValue {
    var int64Value: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    var stringArray: [String]? {
        guard case .array(let items) = self else { return nil }
        let strings = items.compactMap(\.stringValue)
        return strings.count == items.count ? strings : nil
    }
}
