import Yams

/// A node of a parsed YAML file that knows its file and location, with readers that report
/// wrong types, unknown keys and missing keys as diagnostics instead of stopping.
public struct YAMLNode {
    /// The Yams node.
    public let node: Node
    /// The file it came from, as the user named it.
    public let file: String

    /// A node of `file`.
    public init(_ node: Node, file: String) {
        self.node = node
        self.file = file
    }

    /// Where the node starts.
    public var location: SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    /// Where a scalar's text starts: one column after an opening quote.
    public var contentLocation: SourceLocation {
        if case .scalar(let scalar) = node, scalar.style == .singleQuoted || scalar.style == .doubleQuoted {
            return location.advanced(byColumns: 1)
        }
        return location
    }

    /// "a mapping", "a list", "a string", … for messages.
    public var kindDescription: String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        case .scalar(let scalar):
            if scalar.style == .plain, node.null != nil { "nothing (null)" }
            else if scalar.style == .plain, node.bool != nil { "a boolean" }
            else if scalar.style == .plain, node.int != nil || node.float != nil { "a number" }
            else { "a string" }
        }
    }

    /// True for an empty or `null` scalar.
    public var isNull: Bool {
        if case .scalar(let scalar) = node, scalar.style == .plain { return node.null != nil }
        return false
    }

    /// The scalar's text when this is a scalar (any scalar, including numbers, read as text).
    public var scalarText: String? {
        if case .scalar(let scalar) = node { return scalar.string }
        return nil
    }

    /// The items when this is a list.
    public var items: [YAMLNode]? {
        if case .sequence(let sequence) = node { return sequence.map { YAMLNode($0, file: file) } }
        return nil
    }

    /// The entries when this is a mapping, in file order, keyed by their scalar text.
    public var entries: [(key: String, keyNode: YAMLNode, value: YAMLNode)]? {
        guard case .mapping(let mapping) = node else { return nil }
        return mapping.map { pair in
            (pair.key.string ?? "", YAMLNode(pair.key, file: file), YAMLNode(pair.value, file: file))
        }
    }

    /// The text of a string scalar, or an error "`what` must be a string, not …".
    public func string(_ what: String, into diagnostics: inout Diagnostics) -> String? {
        if case .scalar = node, !isNull, let text = scalarText { return text }
        diagnostics.error(at: location, "\(what) must be a string, not \(kindDescription)")
        return nil
    }

    /// A number, or an error naming the accepted range.
    public func number(_ what: String, in range: ClosedRange<Double>, into diagnostics: inout Diagnostics) -> Double? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = node.float ?? node.int.map(Double.init) else {
            diagnostics.error(at: location, "\(what) must be a number from \(format(range.lowerBound)) to \(format(range.upperBound)), not \(kindDescription)")
            return nil
        }
        guard range.contains(value) else {
            diagnostics.error(at: location, "\(what) must be from \(format(range.lowerBound)) to \(format(range.upperBound)), not \(format(value))")
            return nil
        }
        return value
    }

    /// Any number, or an error.
    public func number(_ what: String, into diagnostics: inout Diagnostics) -> Double? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = node.float ?? node.int.map(Double.init) else {
            diagnostics.error(at: location, "\(what) must be a number, not \(kindDescription)")
            return nil
        }
        return value
    }

    /// A boolean, or an error.
    public func bool(_ what: String, into diagnostics: inout Diagnostics) -> Bool? {
        if case .scalar(let scalar) = node, scalar.style == .plain, let value = node.bool { return value }
        diagnostics.error(at: location, "\(what) must be true or false, not \(kindDescription)")
        return nil
    }

    /// A list, or an error.
    public func list(_ what: String, into diagnostics: inout Diagnostics) -> [YAMLNode]? {
        if let items { return items }
        diagnostics.error(at: location, "\(what) must be a list, not \(kindDescription)")
        return nil
    }

    /// A list of strings (a single string is accepted as a list of one), or errors.
    public func stringList(_ what: String, into diagnostics: inout Diagnostics) -> [(String, YAMLNode)]? {
        if case .scalar = node, !isNull, let text = scalarText { return [(text, self)] }
        guard let items = list(what, into: &diagnostics) else { return nil }
        var result: [(String, YAMLNode)] = []
        for item in items {
            if let text = item.string("each entry of \(what)", into: &diagnostics) { result.append((text, item)) }
        }
        return result
    }

    /// A mapping's values by key, after reporting unknown keys (with the closest valid key),
    /// duplicate keys and missing required keys. `what` names the mapping in messages ("intent 'refund'").
    public func fields(
        of what: String, allowed: [String], required: [String] = [], into diagnostics: inout Diagnostics
    ) -> [String: YAMLNode]? {
        guard let entries else {
            diagnostics.error(at: location, "\(what) must be a mapping, not \(kindDescription)")
            return nil
        }
        var fields: [String: YAMLNode] = [:]
        for entry in entries {
            guard allowed.contains(entry.key) else {
                diagnostics.error(
                    at: entry.keyNode.location,
                    "unknown key '\(entry.key)' in \(what)\(NameSuggestion.hint(for: entry.key, in: allowed))")
                continue
            }
            if fields[entry.key] != nil {
                diagnostics.error(at: entry.keyNode.location, "duplicate key '\(entry.key)' in \(what)")
                continue
            }
            fields[entry.key] = entry.value
        }
        for key in required where fields[key] == nil {
            diagnostics.error(at: location, "missing required key '\(key)' in \(what)")
        }
        return fields
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
