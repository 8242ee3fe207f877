/// The permissions a rule set's actions need, as policy files write them: what `symphony validate` lists.
public enum RequiredPermissions {
    /// Sorted, without repeats: `events:publish:<type>` for each derived type (a type with
    /// placeholders needs a pattern: `events:publish:**`), `actions:exec`, `actions:http:<host>`
    /// for each URL's host, `actions:file:<path>` for each path (`<prefix>*` when the path has placeholders).
    public static func of(_ ruleSet: RuleSet) -> [String] {
        var permissions: Set<String> = []
        for rule in ruleSet.rules {
            for action in rule.actions {
                switch action {
                case .publish(let template, _), .delay(let template, _, _, _, _):
                    permissions.insert("events:publish:" + (template.type.isLiteral ? template.type.source : "**"))
                case .exec:
                    permissions.insert("actions:exec")
                case .http(let template, _):
                    permissions.insert("actions:http:" + host(of: literalPrefix(template.url)))
                case .file(let template, _):
                    permissions.insert("actions:file:" + (template.path.isLiteral ? template.path.source : literalPrefix(template.path) + "*"))
                case .audit, .emit, .stop, .cancel:
                    break
                }
            }
        }
        return permissions.sorted()
    }

    /// The text before the first placeholder.
    static func literalPrefix(_ template: Template) -> String {
        if case .text(let text)? = template.parts.first { return text }
        return ""
    }

    /// The host of a URL's written-out start (the loader requires the host to be written out).
    static func host(of url: String) -> String {
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else { return "*" }
        var authority = url[url.index(colon, offsetBy: 3)...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("[") { return String(authority.prefix { $0 != "]" }) + "]" }
        return String(authority.prefix { $0 != ":" }).lowercased()
    }
}
