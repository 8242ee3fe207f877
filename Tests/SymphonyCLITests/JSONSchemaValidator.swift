import Foundation
import SymphonyJSON
import Yams

/// Validates JSON values against OpenAPI 3.0 schema objects, the subset docs/reference/openapi.yaml uses:
/// `$ref`, `type`, `nullable`, `properties`, `required`, `additionalProperties`, `items`,
/// `enum`, `minimum`, `maximum`, `oneOf`, `anyOf`, `allOf`. Annotations (`description`,
/// `example`, `default`, `format`, …) are not checked; any other keyword is reported as a
/// violation, so a schema the validator would only half check never passes silently.
struct JSONSchemaValidator {
    /// One way a value departs from its schema: the JSON path (`$.errors[0].line`) and what is wrong.
    struct Violation: CustomStringConvertible, Equatable {
        let path: String
        let message: String
        var description: String { "\(path): \(message)" }
    }

    /// Keywords that describe without constraining.
    static let annotations: Set<String> = [
        "description", "example", "examples", "default", "format", "title", "deprecated", "readOnly", "writeOnly", "externalDocs",
    ]
    /// Keywords that constrain and are checked.
    static let assertions: Set<String> = [
        "$ref", "type", "nullable", "properties", "required", "additionalProperties", "items", "enum", "minimum", "maximum", "oneOf", "anyOf", "allOf",
    ]

    /// The schema a `$ref` names.
    let resolve: (String) throws -> Node

    /// Every violation of `schema` by `value`; empty when it validates.
    func violations(of value: JSONValue, against schema: Node) -> [Violation] {
        var found: [Violation] = []
        check(value, schema, at: "$", depth: 0, into: &found)
        return found
    }

    private func check(_ value: JSONValue, _ schema: Node, at path: String, depth: Int, into found: inout [Violation]) {
        guard depth < 64 else { return found.append(Violation(path: path, message: "the schema nests too deep (a circular $ref?)")) }
        guard let keywords = schema.mapping else { return found.append(Violation(path: path, message: "the schema is not a mapping")) }
        if let reference = keywords["$ref"] {
            // OpenAPI 3.0: a $ref's siblings are ignored.
            do {
                try check(value, resolve(reference.string ?? ""), at: path, depth: depth + 1, into: &found)
            } catch {
                found.append(Violation(path: path, message: "\(error)"))
            }
            return
        }
        for key in keywords.keys.compactMap(\.string) where !Self.assertions.contains(key) && !Self.annotations.contains(key) {
            found.append(Violation(path: path, message: "the schema keyword '\(key)' is not supported by this validator"))
        }
        if value == .null && keywords["nullable"]?.bool == true { return }
        if let type = keywords["type"]?.string, !Self.has(value, type: type) {
            return found.append(Violation(path: path, message: "expected \(type), found \(Self.kind(of: value))"))
        }
        if let choices = keywords["enum"]?.sequence, !choices.contains(where: { Self.json(of: $0).map { Self.equal($0, value) } ?? false }) {
            let listed = choices.map { $0.string ?? "?" }.joined(separator: ", ")
            found.append(Violation(path: path, message: "\(value.jsonText) is not one of the enum values [\(listed)]"))
        }
        if let number = value.doubleValue {
            if let bound = keywords["minimum"], let minimum = bound.float, number < minimum {
                found.append(Violation(path: path, message: "\(value.jsonText) is less than the minimum \(bound.string ?? "")"))
            }
            if let bound = keywords["maximum"], let maximum = bound.float, number > maximum {
                found.append(Violation(path: path, message: "\(value.jsonText) is more than the maximum \(bound.string ?? "")"))
            }
        }
        if case .object(let members) = value {
            checkObject(members, keywords, at: path, depth: depth, into: &found)
        }
        if case .array(let elements) = value, let items = keywords["items"] {
            for (index, element) in elements.enumerated() {
                check(element, items, at: "\(path)[\(index)]", depth: depth + 1, into: &found)
            }
        }
        checkCombinations(value, keywords, at: path, depth: depth, into: &found)
    }

    private func checkObject(_ members: [String: JSONValue], _ keywords: Node.Mapping, at path: String, depth: Int, into found: inout [Violation]) {
        let properties = keywords["properties"]?.mapping
        for name in (keywords["required"]?.sequence ?? []).compactMap(\.string) where members[name] == nil {
            found.append(Violation(path: path, message: "the required property '\(name)' is missing"))
        }
        for (name, member) in members.sorted(by: { $0.key < $1.key }) {
            let memberPath = Self.path(path, member: name)
            if let property = properties?[name] {
                check(member, property, at: memberPath, depth: depth + 1, into: &found)
            } else if let additional = keywords["additionalProperties"] {
                if additional.bool == false {
                    found.append(Violation(path: memberPath, message: "the property is not in the schema, which allows no others"))
                } else if additional.mapping != nil {
                    check(member, additional, at: memberPath, depth: depth + 1, into: &found)
                }
            }
        }
    }

    /// `oneOf` (exactly one matches), `anyOf` (at least one), `allOf` (every one).
    private func checkCombinations(_ value: JSONValue, _ keywords: Node.Mapping, at path: String, depth: Int, into found: inout [Violation]) {
        func failures(_ list: [Node]) -> [[Violation]] {
            list.map { schema in
                var nested: [Violation] = []
                check(value, schema, at: path, depth: depth + 1, into: &nested)
                return nested
            }
        }
        if let list = keywords["oneOf"]?.sequence {
            let matching = failures(Array(list)).filter(\.isEmpty).count
            if matching != 1 { found.append(Violation(path: path, message: "matches \(matching) of the \(list.count) oneOf schemas, not exactly one")) }
        }
        if let list = keywords["anyOf"]?.sequence, !failures(Array(list)).contains(where: \.isEmpty) {
            found.append(Violation(path: path, message: "matches none of the \(list.count) anyOf schemas"))
        }
        if let list = keywords["allOf"]?.sequence {
            found += failures(Array(list)).flatMap { $0 }
        }
    }

    static func has(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("number", .int), ("number", .double), ("integer", .int):
            true
        case ("integer", .double(let number)):
            number.rounded() == number && number.isFinite
        default:
            false
        }
    }

    static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// A YAML scalar as the JSON value it stands for (by its resolved tag).
    static func json(of node: Node) -> JSONValue? {
        guard case .scalar = node else { return nil }
        switch node.any {
        case is NSNull: return .null
        case let flag as Bool: return .bool(flag)
        case let number as Int: return .int(Int64(number))
        case let number as Double: return .double(number)
        case let text as String: return .string(text)
        default: return nil
        }
    }

    /// JSON equality with numbers compared by value (`1` equals `1.0`).
    static func equal(_ left: JSONValue, _ right: JSONValue) -> Bool {
        if let a = left.doubleValue, let b = right.doubleValue { return a == b }
        return left == right
    }

    /// `$.name`, or `$["odd name"]` when the name is not a plain identifier.
    static func path(_ base: String, member name: String) -> String {
        let plain = !name.isEmpty && name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" }
        return plain ? "\(base).\(name)" : "\(base)[\(JSONValue.string(name).jsonText)]"
    }
}
