import SymphonyEvents
import SymphonyJSON
import SymphonyRecords

/// An `exec` action as written: the program and each argument one template, never a shell line.
public struct ExecTemplate: Sendable {
    /// The program, then its arguments.
    public var command: [Template]
    /// The working directory.
    public var workingDirectory: Template?
    /// Names of environment variables passed on (the allow-list).
    public var environment: [String]
    /// Text for standard input.
    public var standardInput: Template?
    /// SIGTERM after this long (SIGKILL shortly after).
    public var timeout: Duration
    /// Bytes of each output stream kept.
    public var outputLimit: Int
    /// Exit statuses that count as success.
    public var successStatuses: [Int32]

    /// The request this action makes for one event.
    public func render(_ context: TemplateContext) -> ExecSpec {
        ExecSpec(
            command: command.map { $0.render(context) }, workingDirectory: workingDirectory?.render(context), environment: environment,
            standardInput: standardInput?.render(context), timeout: timeout, outputLimit: outputLimit, successStatuses: successStatuses)
    }
}

/// An `http` action as written.
public struct HTTPTemplate: Sendable {
    /// What the request carries.
    public enum Body: Sendable {
        /// `json:` a JSON tree of templates, sent as `application/json`.
        case json(PayloadTemplate)
        /// `body:` text with a content type; placeholders are JSON-escaped when the type is JSON.
        case text(Template, contentType: String)
        /// Neither: the triggering event as JSON (the shape `emit` prints).
        case event
        /// No body (GET, HEAD, DELETE without one).
        case none
    }

    /// The method (`POST` unless written).
    public var method: String
    /// The URL; placeholders are percent-encoded.
    public var url: Template
    /// Headers; `${NAME}` in a value is read from the environment when the request is sent.
    public var headers: [(name: String, value: Template)]
    /// The body.
    public var body: Body
    /// How long the whole request may take.
    public var timeout: Duration

    /// The request this action makes for one event.
    public func render(_ context: TemplateContext) -> HTTPSpec {
        var rendered = headers.map { HTTPSpec.Header(name: $0.name, value: $0.value.render(context)) }
        let text: String
        var contentType: String?
        switch body {
        case .json(let tree):
            text = tree.render(context).jsonText
            contentType = "application/json"
        case .text(let template, let type):
            text = template.render(context, escaping: type.lowercased().contains("json") ? .json : .none)
            contentType = type
        case .event:
            text = EventJSON.text(context.event)
            contentType = "application/json"
        case .none:
            text = ""
        }
        if let contentType, !rendered.contains(where: { $0.name.lowercased() == "content-type" }) {
            rendered.append(HTTPSpec.Header(name: "Content-Type", value: contentType))
        }
        return HTTPSpec(method: method, url: url.render(context, escaping: .url), headers: rendered, body: text, timeout: timeout)
    }
}

/// A `file` action as written.
public struct FileTemplate: Sendable {
    /// The file.
    public var path: Template
    /// The line; nil writes the triggering event as JSON.
    public var line: Template?
    /// Permission bits when the file is created.
    public var mode: Int

    /// The request this action makes for one event. A rendered line's newlines become `\n`
    /// (two characters): one action appends one line.
    public func render(_ context: TemplateContext) -> FileSpec {
        var text = line?.render(context) ?? EventJSON.text(context.event)
        if text.contains(where: \.isNewline) {
            text = text.replacing("\r\n", with: "\\n").replacing("\n", with: "\\n").replacing("\r", with: "\\r")
        }
        return FileSpec(path: path.render(context), line: text, mode: mode)
    }
}

/// The rule set's settings for side effects (`pools:` and `targets:` in rule files).
public struct SideEffectSettings: Sendable, Hashable {
    /// A per-target limit.
    public struct TargetLimit: Sendable, Hashable {
        /// Calls per second at most (nil: no rate limit).
        public var perSecond: Double?
        /// Calls in flight at once at most (nil: only the pool's size).
        public var concurrency: Int?

        /// A limit.
        public init(perSecond: Double? = nil, concurrency: Int? = nil) {
            self.perSecond = perSecond
            self.concurrency = concurrency
        }
    }

    /// Default pool sizes: 4 programs, 8 HTTP requests, 2 file appends at once.
    public static let defaultPoolSizes: [ActionKind: Int] = [.exec: 4, .http: 8, .file: 2]

    /// Threads per side-effect kind.
    public var poolSizes: [ActionKind: Int] = Self.defaultPoolSizes
    /// Limits by target: an HTTP `host` or `host:port`, a program, or a file path.
    public var targets: [String: TargetLimit] = [:]

    /// The defaults.
    public init() {}

    /// The limit for `target` (`host:port` of an HTTP request is also looked up by its host alone).
    public func limit(for target: String, kind: ActionKind) -> TargetLimit? {
        if let limit = targets[target] { return limit }
        if kind == .http, let colon = target.lastIndex(of: ":") { return targets[String(target[..<colon])] }
        return nil
    }
}
