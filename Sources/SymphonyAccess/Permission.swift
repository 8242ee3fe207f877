import SymphonyEvents

/// Something a principal may be allowed to do.
///
/// Written in policy files as `events:publish:<type-pattern>`, `rules:load`, `rules:validate`,
/// `intents:analyze`, `history:read`, `audit:read`, `audit:verify`, or `*` for everything.
public enum Permission: Sendable, Hashable, CustomStringConvertible {
    /// Publish events whose type matches the pattern (input events, and events rule actions derive).
    case publish(TypePattern)
    case loadRules
    case validateRules
    case analyzeIntents
    case readHistory
    case readAudit
    case verifyAudit
    /// Every permission.
    case all

    /// The fixed permission names (publish takes a pattern).
    public static let names = ["rules:load", "rules:validate", "intents:analyze", "history:read", "audit:read", "audit:verify", "events:publish:<pattern>", "*"]

    /// Parses a permission; nil when it is not one.
    public init?(_ text: String) {
        switch text {
        case "*": self = .all
        case "rules:load": self = .loadRules
        case "rules:validate": self = .validateRules
        case "intents:analyze": self = .analyzeIntents
        case "history:read": self = .readHistory
        case "audit:read": self = .readAudit
        case "audit:verify": self = .verifyAudit
        default:
            guard text.hasPrefix("events:publish:"), let pattern = try? TypePattern(String(text.dropFirst("events:publish:".count))) else {
                return nil
            }
            self = .publish(pattern)
        }
    }

    /// True when holding `self` allows `operation`.
    public func allows(_ operation: AccessOperation) -> Bool {
        switch (self, operation) {
        case (.all, _): true
        case (.publish(let pattern), .publish(let type)): pattern.matches(type)
        case (.loadRules, .loadRules), (.validateRules, .validateRules), (.analyzeIntents, .analyzeIntents),
            (.readHistory, .readHistory), (.readAudit, .readAudit), (.verifyAudit, .verifyAudit):
            true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .publish(let pattern): "events:publish:\(pattern.text)"
        case .loadRules: "rules:load"
        case .validateRules: "rules:validate"
        case .analyzeIntents: "intents:analyze"
        case .readHistory: "history:read"
        case .readAudit: "audit:read"
        case .verifyAudit: "audit:verify"
        case .all: "*"
        }
    }
}

/// An engine operation that access control checks.
public enum AccessOperation: Sendable, Hashable, CustomStringConvertible {
    case publish(type: String)
    case loadRules
    case validateRules
    case analyzeIntents
    case readHistory
    case readAudit
    case verifyAudit

    /// The permission it needs, as written in policy files.
    public var requiredPermission: String {
        switch self {
        case .publish(let type): "events:publish:\(type)"
        case .loadRules: "rules:load"
        case .validateRules: "rules:validate"
        case .analyzeIntents: "intents:analyze"
        case .readHistory: "history:read"
        case .readAudit: "audit:read"
        case .verifyAudit: "audit:verify"
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
