import Foundation
import SymphonyActions
import SymphonyJSON
import Yams

/// An OpenAPI 3.0 file (docs/reference/openapi.yaml) as the contract test reads it: its operations, the
/// responses each documents, `$ref`s resolved within the file, and a check of a real response
/// against the documented one (status, Content-Type, headers, JSON body by its schema).
struct OpenAPIDocument {
    /// One operation: a method (upper case, as sent) on a path template (`/v1/webhooks/{source}`).
    struct Operation: Hashable, CustomStringConvertible {
        let method: String
        let path: String
        var description: String { "\(method) \(path)" }
    }

    /// A problem found while reading the document itself (a dangling `$ref`, a malformed entry).
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// The methods an OpenAPI path item may hold.
    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    let root: Node
    let validator: JSONSchemaValidator

    /// The repository this test file is in.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The repository's docs/reference/openapi.yaml.
    static func repository() throws -> OpenAPIDocument {
        try OpenAPIDocument(path: repositoryRoot.appendingPathComponent("docs/reference/openapi.yaml").path)
    }

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try self.init(yaml: text)
    }

    init(yaml: String) throws {
        guard let root = try Yams.compose(yaml: yaml), root.mapping != nil else { throw Malformed(description: "the document is not a YAML mapping") }
        self.root = root
        validator = JSONSchemaValidator(resolve: { reference in try Self.resolve(reference, in: root) })
    }

    /// Every documented operation.
    var operations: Set<Operation> {
        var found: Set<Operation> = []
        for (path, item) in root["paths"]?.mapping ?? [:] {
            for (method, _) in item.mapping ?? [:] where Self.methods.contains(method.string ?? "") {
                found.insert(Operation(method: method.string!.uppercased(), path: path.string ?? ""))
            }
        }
        return found
    }

    /// The status codes (or `default`) documented for `operation`.
    func statuses(of operation: Operation) -> Set<String> {
        Set(operationNode(operation)?["responses"]?.mapping?.keys.compactMap(\.string) ?? [])
    }

    /// `node` with its `$ref` followed (repeatedly); a node without one is returned as is.
    func dereferenced(_ node: Node) throws -> Node {
        var current = node
        var seen: Set<String> = []
        while let reference = current["$ref"]?.string {
            guard seen.insert(reference).inserted else { throw Malformed(description: "the reference '\(reference)' is circular") }
            current = try Self.resolve(reference, in: root)
        }
        return current
    }

    /// The target of a local reference `#/a/b` (a JSON Pointer: `~1` is `/`, `~0` is `~`).
    static func resolve(_ reference: String, in root: Node) throws -> Node {
        guard reference.hasPrefix("#/") else { throw Malformed(description: "the reference '\(reference)' is not local to the file") }
        var node = root
        for token in reference.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let next = node[key] else { throw Malformed(description: "the reference '\(reference)' names nothing ('\(key)' is missing)") }
            node = next
        }
        return node
    }

    /// Where `response` departs from what the document says `operation` answers with its status;
    /// empty when it conforms. Each problem is a sentence naming the header or JSON path.
    func problems(with response: HTTPResponseSummary, of operation: Operation) -> [String] {
        guard let responses = operationNode(operation)?["responses"] else { return ["\(operation) is not documented"] }
        guard let documented = Self.member(responses, String(response.status)) ?? Self.member(responses, "default") else {
            return ["status \(response.status) is not documented for \(operation) (documented: \(statuses(of: operation).sorted().joined(separator: ", ")))"]
        }
        do {
            let answer = try dereferenced(documented)
            return try headerProblems(response, documented: answer) + bodyProblems(response, documented: answer)
        } catch {
            return ["the document's response \(response.status) of \(operation): \(error)"]
        }
    }

    /// Where a request body sent as `contentType` departs from the documented request schema;
    /// empty when it conforms (or when the media type's schema is not JSON).
    func requestProblems(body: [UInt8], contentType: String, of operation: Operation) throws -> [String] {
        guard let requestBody = operationNode(operation)?["requestBody"] else { return ["\(operation) documents no request body"] }
        guard let media = try dereferenced(requestBody)["content"]?[contentType] else {
            return ["\(operation) documents no request body of type \(contentType)"]
        }
        guard contentType.hasSuffix("json"), let schema = media["schema"] else { return [] }
        return validator.violations(of: try JSONParser.parse(body), against: schema).map { "request body \($0)" }
    }

    /// The value of a mapping's `key`, compared as text: Yams' own subscript also compares the
    /// tags, so `"200"` (a quoted string) is not found by the key 200 (which resolves as an int).
    static func member(_ node: Node, _ key: String) -> Node? {
        node.mapping?.first { $0.key.string == key }?.value
    }

    private func operationNode(_ operation: Operation) -> Node? {
        root["paths"]?[operation.path]?[operation.method.lowercased()]
    }

    /// Documented headers: each required one is present; each present one matches its schema.
    private func headerProblems(_ response: HTTPResponseSummary, documented: Node) throws -> [String] {
        var problems: [String] = []
        for (nameNode, headerNode) in documented["headers"]?.mapping ?? [:] {
            let name = nameNode.string ?? ""
            let header = try dereferenced(headerNode)
            guard let value = response.header(name) else {
                if header["required"]?.bool == true { problems.append("the required header \(name) is missing") }
                continue
            }
            guard let schema = header["schema"] else { continue }
            let asJSON: JSONValue = schema["type"]?.string == "integer" ? Int64(value).map(JSONValue.int) ?? .string(value) : .string(value)
            problems += validator.violations(of: asJSON, against: schema).map { "header \(name): \($0)" }
        }
        return problems
    }

    /// The Content-Type is a documented one (none and an empty body when none is documented),
    /// and a JSON body validates against its schema.
    private func bodyProblems(_ response: HTTPResponseSummary, documented: Node) throws -> [String] {
        let content = documented["content"]?.mapping ?? [:]
        if content.isEmpty {
            return response.body.isEmpty ? [] : ["a body of \(response.body.count) bytes where the document says there is none"]
        }
        let documentedTypes = content.keys.compactMap(\.string)
        guard let contentType = response.header("Content-Type") else {
            return ["no Content-Type (documented: \(documentedTypes.joined(separator: ", ")))"]
        }
        let mediaType = Self.mediaType(contentType)
        guard let media = content.first(where: { Self.mediaType($0.key.string ?? "") == mediaType })?.value else {
            return ["Content-Type '\(contentType)' is not documented (documented: \(documentedTypes.joined(separator: ", ")))"]
        }
        guard let schema = media["schema"] else { return [] }
        let value: JSONValue
        if mediaType == "application/json" || mediaType.hasSuffix("+json") {
            do {
                value = try JSONParser.parse(response.body)
            } catch {
                return ["the body is not JSON: \(error)"]
            }
        } else {
            guard let text = String(validating: response.body, as: UTF8.self) else { return ["the \(mediaType) body is not UTF-8"] }
            value = .string(text)
        }
        return validator.violations(of: value, against: schema).map { "body \($0)" }
    }

    /// `type/subtype` of a Content-Type, lower-cased, without parameters.
    static func mediaType(_ contentType: String) -> String {
        String(contentType.split(separator: ";", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    }
}
