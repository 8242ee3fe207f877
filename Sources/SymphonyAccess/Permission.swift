import SymphonyEvents

/// Something a principal may be allowed to do.
///
/// Written in policy files as `events:publish:<type-pattern>`, `rules:load`, `rules:validate`,
/// `rules:seal`, `intents:analyze`, `metrics:read`, `history:read`, `history:prune`, `audit:read`, `audit:verify`, `actions:exec`,
/// `actions:http:<host>`, `actions:file:<path>`, or `*` for everything. A host or path ending in
/// `*` covers every host or path that starts with what comes before it (`actions:http:*`,
/// `actions:file:/var/log/symphony/*`).
public enum Permission: Sendable, Hashable, CustomStringConvertible {
    /// Publish events whose type matches the pattern (input events, and events rule actions derive).
    case publish(TypePattern)
    case loadRules
    case validateRules
    /// Seal a rule set into a bundle under the key (`symphony seal`).
    case sealRules
    case analyzeIntents
    /// Read the service's metrics (`GET /metrics` of `symphony serve`).
    case readMetrics
    case readHistory
    /// Remove old history (`symphony history prune`).
    case pruneHistory
    case readAudit
    case verifyAudit
    /// Run programs (`exec` actions).
    case exec
    /// Send HTTP requests to hosts matching the pattern (`http` actions).
    case http(hostPattern: String)
    /// Append to files matching the pattern (`file` actions).
    case file(pathPattern: String)
    /// Every permission.
    case all

    /// The permissions without a pattern, in the order they are listed, with the names policy files use.
    static let named: [(name: String, permission: Permission)] = [
        ("rules:load", .loadRules), ("rules:validate", .validateRules), ("rules:seal", .sealRules), ("intents:analyze", .analyzeIntents),
        ("metrics:read", .readMetrics), ("history:read", .readHistory), ("history:prune", .pruneHistory), ("audit:read", .readAudit), ("audit:verify", .verifyAudit), ("actions:exec", .exec), ("*", .all),
    ]

    /// The permissions without a pattern, by name.
    static let fixed = Dictionary(uniqueKeysWithValues: named.map { ($0.name, $0.permission) })

    /// Every permission name (publish takes a pattern).
    public static let names = named.dropLast().map(\.name) + ["actions:http:<host>", "actions:file:<path>", "events:publish:<pattern>", "*"]

    /// Parses a permission; nil when it is not one.
    public init?(_ text: String) {
        if let permission = Self.fixed[text] {
            self = permission
            return
        }
        for (prefix, make) in [("actions:http:", Permission.http(hostPattern:)), ("actions:file:", Permission.file(pathPattern:))]
        where text.hasPrefix(prefix) {
            let pattern = String(text.dropFirst(prefix.count))
            guard !pattern.isEmpty else { return nil }
            self = make(prefix == "actions:http:" ? pattern.lowercased() : pattern)
            return
        }
        guard text.hasPrefix("events:publish:"), let pattern = try? TypePattern(String(text.dropFirst("events:publish:".count))) else {
            return nil
        }
        self = .publish(pattern)
    }

    /// True when holding `self` allows `operation`.
    public func allows(_ operation: AccessOperation) -> Bool {
        switch (self, operation) {
        case (.all, _): true
        case (.publish(let pattern), .publish(let type)): pattern.matches(type)
        case (.http(let pattern), .httpRequest(let host)): Self.matches(pattern, host.lowercased())
        case (.file(let pattern), .appendFile(let path)): Self.matches(pattern, path)
        default: operation.fixedPermission == self
        }
    }

    /// `*` alone matches anything; a trailing `*` matches by prefix; otherwise the text must be equal.
    static func matches(_ pattern: String, _ text: String) -> Bool {
        if pattern.hasSuffix("*") { return text.hasPrefix(pattern.dropLast()) }
        return pattern == text
    }

    public var description: String {
        switch self {
        case .publish(let pattern): "events:publish:\(pattern.text)"
        case .http(let pattern): "actions:http:\(pattern)"
        case .file(let pattern): "actions:file:\(pattern)"
        default: Self.named.first { $0.permission == self }!.name
        }
    }
}

/// An engine operation that access control checks.
public enum AccessOperation: Sendable, Hashable, CustomStringConvertible {
    case publish(type: String)
    case loadRules
    case validateRules
    case sealRules
    case analyzeIntents
    /// Read the service's metrics (`GET /metrics`).
    case readMetrics
    case readHistory
    /// Remove old history (`symphony history prune`).
    case pruneHistory
    case readAudit
    case verifyAudit
    /// Run a program (`exec` action).
    case runProgram(String)
    /// Send an HTTP request to a host (`http` action).
    case httpRequest(host: String)
    /// Append to a file (`file` action).
    case appendFile(path: String)

    /// The permission it needs, when that is not a pattern.
    var fixedPermission: Permission? {
        switch self {
        case .publish, .httpRequest, .appendFile: nil
        case .runProgram: .exec
        case .loadRules: .loadRules
        case .validateRules: .validateRules
        case .sealRules: .sealRules
        case .analyzeIntents: .analyzeIntents
        case .readMetrics: .readMetrics
        case .readHistory: .readHistory
        case .pruneHistory: .pruneHistory
        case .readAudit: .readAudit
        case .verifyAudit: .verifyAudit
        }
    }

    /// The permission it needs, as written in policy files.
    public var requiredPermission: String {
        switch self {
        case .publish(let type): "events:publish:\(type)"
        case .httpRequest(let host): "actions:http:\(host)"
        case .appendFile(let path): "actions:file:\(path)"
        default: fixedPermission!.description
        }
    }

    /// True for the operations of side-effect actions (`exec`, `http`, `file`).
    public var isSideEffect: Bool {
        switch self {
        case .runProgram, .httpRequest, .appendFile: true
        default: false
        }
    }

    public var description: String { requiredPermission }
}

/// An operation refused: names the principal and the missing permission.
public struct AccessDenied: Error, Sendable, Hashable, CustomStringConvertible {
    /// Who asked.
    public let principal: String
    /// What was refused.
    public let operation: AccessOperation

    /// A denial.
    public init(principal: String, operation: AccessOperation) {
        self.principal = principal
        self.operation = operation
    }

    public var description: String {
        "access denied: '\(principal)' lacks the permission '\(operation.requiredPermission)'"
    }
}
