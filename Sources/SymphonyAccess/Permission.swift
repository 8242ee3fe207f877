import SymphonyEvents

/// Something a principal may be allowed to do.
///
/// Written in policy files as `events:publish:<type-pattern>`, `rules:load`, `rules:validate`,
/// `rules:seal`, `intents:analyze`, `history:read`, `audit:read`, `audit:verify`, or `*` for everything.
public enum Permission: Sendable, Hashable, CustomStringConvertible {
    /// Publish events whose type matches the pattern (input events, and events rule actions derive).
    case publish(TypePattern)
    case loadRules
    case validateRules
    /// Seal a rule set into a bundle under the key (`symphony seal`).
    case sealRules
    case analyzeIntents
    case readHistory
    case readAudit
    case verifyAudit
    /// Every permission.
    case all

    /// The permissions without a pattern, in the order they are listed, with the names policy files use.
    static let named: [(name: String, permission: Permission)] = [
        ("rules:load", .loadRules), ("rules:validate", .validateRules), ("rules:seal", .sealRules), ("intents:analyze", .analyzeIntents),
        ("history:read", .readHistory), ("audit:read", .readAudit), ("audit:verify", .verifyAudit), ("*", .all),
    ]

    /// The permissions without a pattern, by name.
    static let fixed = Dictionary(uniqueKeysWithValues: named.map { ($0.name, $0.permission) })

    /// Every permission name (publish takes a pattern).
    public static let names = named.dropLast().map(\.name) + ["events:publish:<pattern>", "*"]

    /// Parses a permission; nil when it is not one.
    public init?(_ text: String) {
        if let permission = Self.fixed[text] {
            self = permission
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
        default: operation.fixedPermission == self
        }
    }

    public var description: String {
        if case .publish(let pattern) = self { return "events:publish:\(pattern.text)" }
        return Self.named.first { $0.permission == self }!.name
    }
}

/// An engine operation that access control checks.
public enum AccessOperation: Sendable, Hashable, CustomStringConvertible {
    case publish(type: String)
    case loadRules
    case validateRules
    case sealRules
    case analyzeIntents
    case readHistory
    case readAudit
    case verifyAudit

    /// The permission it needs, when that is not a publish pattern.
    var fixedPermission: Permission? {
        switch self {
        case .publish: nil
        case .loadRules: .loadRules
        case .validateRules: .validateRules
        case .sealRules: .sealRules
        case .analyzeIntents: .analyzeIntents
        case .readHistory: .readHistory
        case .readAudit: .readAudit
        case .verifyAudit: .verifyAudit
        }
    }

    /// The permission it needs, as written in policy files.
    public var requiredPermission: String {
        if case .publish(let type) = self { return "events:publish:\(type)" }
        return fixedPermission!.description
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
