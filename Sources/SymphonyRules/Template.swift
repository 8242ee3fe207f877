import SymphonyJSON
import SymphonyEvents

/// A string with `{{ path }}` placeholders, filled in from the triggering event, regex captures and intent slots.
///
/// Paths: `id`, `type`, `priority`, `source`, `time`, `rule`, `payload.<field>…`,
/// `captures.<name>`, `intent.name`, `intent.score`, `intent.slots.<name>`, and in rules with a
/// `count:`, `throttle:` or `after:` gate `window.<key|count|first|last|ids>`,
/// `throttle.<key|suppressed>` and `after.<key|id|time>`. A template that is
/// exactly one placeholder keeps the value's JSON type when used as a payload value (a number
/// stays a number); otherwise values are written into the text (strings as they are, other JSON
/// as compact JSON). A path that has no value renders as an empty string.
///
/// The `json` filter (`{{ payload | json }}`) writes the value as JSON text whatever its type (a
/// string in quotes, a missing value as `null`). Where the text goes decides the escaping
/// (`Escaping`): a JSON body escapes each value for where it stands, a URL percent-encodes it.
public struct Template: Sendable, Hashable, CustomStringConvertible {
    /// One piece of a template.
    public enum Part: Sendable, Hashable {
        case text(String)
        /// `{{ path }}`, or `{{ path | json }}` when `json` is true.
        case placeholder(path: [String], column: Int, json: Bool)
    }

    /// How placeholder values are written into the text, by where it goes.
    public enum Escaping: Sendable {
        /// As they are (event types, audit messages, arguments, lines).
        case none
        /// Into JSON text: inside a string literal escaped as string contents, elsewhere as a JSON value.
        case json
        /// Into a URL: percent-encoded, except unreserved characters.
        case url
    }

    /// The template as written.
    public let source: String
    /// Its pieces.
    public let parts: [Part]

    /// The roots a placeholder path may start with.
    public static let roots = ["id", "type", "priority", "source", "time", "rule", "payload", "captures", "intent", "window", "throttle", "after"]

    /// Parses `source`; returns the problem (and its character offset) when a `{{` is not closed or a path is malformed.
    public static func parse(_ source: String) -> Result<Template, TemplateProblem> {
        let characters = Array(source)
        var parts: [Part] = []
        var text = ""
        var index = 0
        func isOpen(_ at: Int) -> Bool { at + 1 < characters.count && characters[at] == "{" && characters[at + 1] == "{" }
        func isClose(_ at: Int) -> Bool { at + 1 < characters.count && characters[at] == "}" && characters[at + 1] == "}" }
        while index < characters.count {
            guard isOpen(index) else {
                text.append(characters[index])
                index += 1
                continue
            }
            let start = index
            var end = index + 2
            while end < characters.count && !isClose(end) { end += 1 }
            guard end < characters.count else {
                return .failure(TemplateProblem(message: "'{{' is not closed with '}}'", offset: start))
            }
            var inner = String(characters[(start + 2)..<end]).trimmingSpaces
            var json = false
            if let bar = inner.firstIndex(of: "|") {
                let filter = String(inner[inner.index(after: bar)...]).trimmingSpaces
                guard filter == "json" else {
                    return .failure(TemplateProblem(message: "unknown filter '\(filter)' in '{{ \(inner) }}'; the only filter is 'json'", offset: start))
                }
                json = true
                inner = String(inner[..<bar]).trimmingSpaces
            }
            let path = FieldPathSyntax.segments(of: inner) ?? []
            let valid = !path.isEmpty && path.allSatisfy { segment in
                segment.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
            }
            guard valid else {
                return .failure(TemplateProblem(message: "'{{ \(inner) }}' is not a dotted path such as payload.customer or payload.items[0].id", offset: start))
            }
            if !text.isEmpty {
                parts.append(.text(text))
                text = ""
            }
            parts.append(.placeholder(path: path, column: start, json: json))
            index = end + 2
        }
        if !text.isEmpty { parts.append(.text(text)) }
        return .success(Template(source: source, parts: parts))
    }

    /// The placeholder paths, in order.
    public var paths: [[String]] {
        parts.compactMap { if case .placeholder(let path, _, _) = $0 { path } else { nil } }
    }

    /// True when the template has no placeholders.
    public var isLiteral: Bool { paths.isEmpty }

    /// The template rendered as text.
    public func render(_ context: TemplateContext) -> String {
        var output = ""
        for part in parts {
            switch part {
            case .text(let text): output += text
            case .placeholder(let path, _, let json):
                let value = context.value(at: path)
                if json {
                    output += (value ?? .null).jsonText
                    continue
                }
                switch value {
                case .string(let text)?: output += text
                case nil, .null?: break
                case let value?: output += value.jsonText
                }
            }
        }
        return output
    }

    /// The template rendered for where its text goes (see `Escaping`).
    public func render(_ context: TemplateContext, escaping: Escaping) -> String {
        switch escaping {
        case .none:
            return render(context)
        case .url:
            var output = ""
            for part in parts {
                switch part {
                case .text(let text): output += text
                case .placeholder(let path, let column, let json):
                    output += Self.percentEncoded(Template(source: "", parts: [.placeholder(path: path, column: column, json: json)]).render(context))
                }
            }
            return output
        case .json:
            var output = ""
            var inString = false
            for part in parts {
                switch part {
                case .text(let text):
                    output += text
                    inString = Self.endsInsideString(text, startingInside: inString)
                case .placeholder(let path, _, let json):
                    let value = context.value(at: path)
                    if inString {
                        // String contents: the text the value renders to, escaped (no quotes).
                        let text: String
                        switch value {
                        case .string(let string)? where !json: text = string
                        case nil where !json, .null? where !json: text = ""
                        default: text = (value ?? .null).jsonText
                        }
                        var quoted = ""
                        JSONValue.writeString(text, to: &quoted)
                        output += quoted.dropFirst().dropLast()
                    } else {
                        output += (value ?? .null).jsonText
                    }
                }
            }
            return output
        }
    }

    /// Whether JSON text that starts inside (or outside) a string literal ends inside one.
    static func endsInsideString(_ text: String, startingInside: Bool) -> Bool {
        var inside = startingInside
        var escaped = false
        for character in text.unicodeScalars {
            if escaped {
                escaped = false
            } else if inside && character == "\\" {
                escaped = true
            } else if character == "\"" {
                inside.toggle()
            }
        }
        return inside
    }

    /// `text` with every byte but RFC 3986's unreserved characters percent-encoded.
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF")
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output += "%"
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0F)])
            }
        }
        return output
    }

    /// The template rendered as a JSON value: a lone placeholder keeps its type, anything else is a string.
    public func renderValue(_ context: TemplateContext) -> JSONValue {
        if parts.count == 1, case .placeholder(let path, _, _) = parts[0] {
            return context.value(at: path) ?? (parts.count == 1 && isJSONFiltered ? .null : .string(""))
        }
        return .string(render(context))
    }

    private var isJSONFiltered: Bool {
        if case .placeholder(_, _, true)? = parts.first { return true }
        return false
    }

    public var description: String { source }

    /// Two templates are equal when they are written alike (where they stand in a file does not matter).
    public static func == (lhs: Template, rhs: Template) -> Bool { lhs.source == rhs.source }

    public func hash(into hasher: inout Hasher) { hasher.combine(source) }
}

/// Why a template does not parse.
public struct TemplateProblem: Error, Sendable, Hashable {
    /// What is wrong.
    public let message: String
    /// Character offset in the template.
    public let offset: Int
}

/// What templates can refer to while one rule runs on one event.
public struct TemplateContext: Sendable {
    /// The triggering event.
    public let event: Event
    /// The rule whose action is rendered.
    public let rule: String
    /// Named captures of the rule's `matches` conditions.
    public let captures: Captures
    /// The intent the rule's `intent` condition recognized, if any.
    public let intent: IntentMatch?
    /// The fields under `window.`, `throttle.` and `after.` when the rule's gates let it fire (empty otherwise).
    public var gates: [String: [String: JSONValue]] = [:]

    /// A context.
    public init(event: Event, rule: String, captures: Captures, intent: IntentMatch?) {
        self.event = event
        self.rule = rule
        self.captures = captures
        self.intent = intent
    }

    /// The value at a placeholder path, or nil.
    public func value(at path: [String]) -> JSONValue? {
        guard let root = path.first else { return nil }
        let rest = path.dropFirst()  // a slice: rendering a placeholder allocates no array
        // The usual roots first: a switch over strings compares them in order.
        switch root {
        case "payload":
            return RuleEvaluator.value(at: path[...], in: event)
        case "captures":
            guard rest.count == 1, let value = captures[rest[rest.startIndex]] else { return nil }
            return .string(value)
        case "id", "type", "priority", "source", "time":
            return rest.isEmpty ? RuleEvaluator.value(at: path[...], in: event) : nil
        case "rule": return rest.isEmpty ? .string(rule) : nil
        case "intent":
            guard let intent else { return nil }
            switch rest.first {
            case "name": return rest.count == 1 ? .string(intent.name) : nil
            case "score": return rest.count == 1 ? .double(intent.score) : nil
            case "slots":
                guard rest.count == 2, let value = intent.slots[rest[rest.startIndex + 1]] else { return nil }
                return .string(value)
            default: return nil
            }
        case "window", "throttle", "after":
            guard rest.count == 1 else { return nil }
            return gates[root]?[rest[rest.startIndex]]
        default:
            return nil
        }
    }
}

/// The intent a rule's `intent` condition recognized.
public struct IntentMatch: Sendable, Hashable {
    /// The intent's name.
    public let name: String
    /// Its score, 0…1.
    public let score: Double
    /// Its slots.
    public let slots: [String: String]

    /// An intent match.
    public init(name: String, score: Double, slots: [String: String]) {
        self.name = name
        self.score = score
        self.slots = slots
    }
}
