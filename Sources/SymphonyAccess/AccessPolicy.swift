import SymphonyDiagnostics
import SymphonyEvents

/// Who may do what: roles grant permissions, principals hold roles.
///
/// ```yaml
/// roles:
///   operator: ["rules:load", "history:read", "audit:read", "audit:verify", "events:publish:**"]
///   helpdesk: ["events:publish:ticket.*"]
/// principals:
///   user:ada: [operator]
///   source:helpdesk: [helpdesk]
/// ```
/// `AccessPolicy.allowAll` is what Symphony uses without `--policy` (documented in docs/reference/policy.md):
/// everything but running programs — `exec` actions need a policy that grants `actions:exec`.
public struct AccessPolicy: Sendable {
    /// Permissions by role.
    public let roles: [String: [Permission]]
    /// Roles by principal.
    public let principals: [String: [String]]
    /// True for the permissive default.
    public let allowsEverything: Bool

    /// Everything but `actions:exec` is allowed: the default without a policy file.
    public static let allowAll = AccessPolicy(roles: [:], principals: [:], allowsEverything: true)

    /// A policy from roles and principals.
    public init(roles: [String: [Permission]], principals: [String: [String]], allowsEverything: Bool = false) {
        self.roles = roles
        self.principals = principals
        self.allowsEverything = allowsEverything
    }

    /// True when `principal` may perform `operation`.
    public func allows(_ principal: String, _ operation: AccessOperation) -> Bool {
        if allowsEverything {
            if case .runProgram = operation { return false }
            return true
        }
        for role in principals[principal] ?? [] {
            if roles[role]?.contains(where: { $0.allows(operation) }) == true { return true }
        }
        return false
    }

    /// Loads a policy file, reporting every problem with its location.
    public static func load(path: String) -> (AccessPolicy?, Diagnostics) {
        var diagnostics = Diagnostics()
        guard let root = YAMLSource.load(path: path, into: &diagnostics) else {
            if diagnostics.errors.isEmpty {  // an empty file, or one of comments only
                diagnostics.error(at: SourceLocation(file: path, line: 1, column: 1), "the policy file is empty; it needs 'roles' and 'principals'")
            }
            return (nil, diagnostics)
        }
        guard let fields = root.fields(of: "the policy file", allowed: ["roles", "principals"], required: ["roles", "principals"], into: &diagnostics) else {
            return (nil, diagnostics)
        }
        var roles: [String: [Permission]] = [:]
        for entry in fields["roles"]?.entries ?? [] {
            guard let texts = entry.value.stringList("the permissions of role '\(entry.key)'", into: &diagnostics) else { continue }
            roles[entry.key] = texts.compactMap { text, node in
                guard let permission = Permission(text) else {
                    var hint = NameSuggestion.hint(for: text, in: Permission.names)
                    // A misspelt publish permission: the pattern is fine, the prefix is not.
                    let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                    if hint.isEmpty, parts.count == 3, parts[0] + ":" + parts[1] != "events:publish",
                        NameSuggestion.closest(to: parts[0] + ":" + parts[1], in: ["events:publish"]) != nil
                    {
                        hint = "; did you mean 'events:publish:\(parts[2])'?"
                    }
                    diagnostics.error(
                        at: node.contentLocation,
                        "unknown permission '\(text)'" + (hint.isEmpty ? "; permissions are \(Permission.names.joined(separator: ", "))" : hint))
                    return nil
                }
                return permission
            }
        }
        if let node = fields["roles"], node.entries == nil { diagnostics.error(at: node.location, "'roles' must be a mapping of role names to permission lists") }
        var principals: [String: [String]] = [:]
        for entry in fields["principals"]?.entries ?? [] {
            guard let names = entry.value.stringList("the roles of '\(entry.key)'", into: &diagnostics) else { continue }
            for (name, node) in names where roles[name] == nil && fields["roles"]?.entries?.contains(where: { $0.key == name }) != true {
                diagnostics.error(at: node.contentLocation, "undefined role '\(name)'\(NameSuggestion.hint(for: name, in: roles.keys))")
            }
            principals[entry.key] = names.map(\.0)
        }
        if let node = fields["principals"], node.entries == nil { diagnostics.error(at: node.location, "'principals' must be a mapping of principals to role lists") }
        return (diagnostics.hasErrors ? nil : AccessPolicy(roles: roles, principals: principals), diagnostics)
    }
}
