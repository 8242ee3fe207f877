import SymphonyRecords

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
                    permissions.insert("actions:http:" + (HTTPSpec(url: literalPrefix(template.url)).host ?? "*"))
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
}
