import SymphonyJSON
import SymphonyDiagnostics
import SymphonyEvents
import SymphonyRecords

/// A derived event as an action describes it: type, payload and priority, all templated.
public struct EventTemplate: Sendable {
    /// The derived event's type (a template; after rendering it must be a valid type).
    public var type: Template
    /// The payload: a JSON tree whose strings are templates.
    public var payload: PayloadTemplate
    /// The priority; nil keeps the triggering event's priority.
    public var priority: Int?
}

/// A JSON tree whose strings are templates.
public indirect enum PayloadTemplate: Sendable {
    case value(JSONValue)
    case template(Template)
    case array([PayloadTemplate])
    case object([String: PayloadTemplate])

    /// The tree rendered to JSON.
    public func render(_ context: TemplateContext) -> JSONValue {
        switch self {
        case .value(let value): value
        case .template(let template): template.renderValue(context)
        case .array(let items): .array(items.map { $0.render(context) })
        case .object(let members): .object(members.mapValues { $0.render(context) })
        }
    }

    /// The tree rendered straight into the event body's encoding, as a node at nesting `depth`
    /// (0 for a payload): what `render` gives, without building the tree.
    package func render(_ context: TemplateContext, into builder: inout EncodedPayload.Builder, depth: Int = 0) {
        switch self {
        case .value(let value): builder.append(value, depth: depth)
        case .template(let template): builder.append(template.renderValue(context), depth: depth)
        case .array(let items):
            builder.beginArray(count: items.count, depth: depth)
            for item in items { item.render(context, into: &builder, depth: depth + 1) }
        case .object(let members):
            builder.beginObject(count: members.count, depth: depth)
            for (key, member) in members {
                builder.key(key)
                member.render(context, into: &builder, depth: depth + 1)
            }
        }
    }
}

/// What a rule does when it matches.
public enum Action: Sendable {
    /// Re-publish a derived event into the queue.
    case publish(EventTemplate, location: SourceLocation?)
    /// Publish a derived event later: `after` a duration, or `at` a time (an RFC 3339 template);
    /// with a `key`, at most one such event per key is pending (see `DelayKey`).
    case delay(EventTemplate, after: Duration?, at: Template?, key: DelayKey?, location: SourceLocation?)
    /// Record a rendered message with the action's outcome (`executions.message`).
    case audit(message: Template, location: SourceLocation?)
    /// Write the derived event to standard output as JSON.
    case emit(EventTemplate, location: SourceLocation?)
    /// Run no lower-salience rules for this event.
    case stop(location: SourceLocation?)
    /// Remove the pending delayed event of a key (made by `rule` only, when given).
    case cancel(key: Template, rule: String?, location: SourceLocation?)
    /// Run a program (queued in the outbox, run on the exec pool, retried).
    case exec(ExecTemplate, location: SourceLocation?)
    /// Send an HTTP request (queued in the outbox, run on the http pool, retried).
    case http(HTTPTemplate, location: SourceLocation?)
    /// Append a line to a file (queued in the outbox, run on the file pool, retried).
    case file(FileTemplate, location: SourceLocation?)

    /// The kind of action (its `name` is what rule files write).
    public var kind: ActionKind {
        switch self {
        case .publish: .publish
        case .delay: .delay
        case .audit: .audit
        case .emit: .emit
        case .stop: .stop
        case .cancel: .cancel
        case .exec: .exec
        case .http: .http
        case .file: .file
        }
    }

    /// Every action keyword.
    public static let kinds = ActionKind.allCases.map(\.name)

    /// Where the action is written.
    public var location: SourceLocation? {
        switch self {
        case .publish(_, let location), .delay(_, _, _, _, let location), .audit(_, let location), .emit(_, let location),
            .stop(let location), .cancel(_, _, let location), .exec(_, let location), .http(_, let location), .file(_, let location):
            location
        }
    }
}

/// A rule: when an event of a matching type satisfies the condition, run the actions.
///
/// A class, not a struct: the engine hands the same rules around for every event, and passing a
/// reference costs one retain where copying a struct of arrays and strings retained each field.
public final class Rule: Sendable {
    /// Unique name.
    public let name: String
    /// Type patterns the rule applies to.
    public let on: [TypePattern]
    /// The condition (nil: always).
    public let when: Condition?
    /// Salience: higher runs first for an event; ties run in file order.
    public let salience: Int
    /// The actions, run in order.
    public let actions: [Action]
    /// Where the rule starts.
    public let location: SourceLocation?
    /// The rule's position in the rule set (files in sorted order, then rules in file order).
    public let order: Int
    /// The principal the rule's actions run as; nil means the rule set's owner.
    public let runAs: String?
    /// The `count:` gate: fire only at the Nth matching event of a key within a window.
    public let count: CountWindow?
    /// The `throttle:` gate: fire at most once per key per period.
    public let throttle: Throttle?
    /// The `after:` gate: fire only when an earlier event of another type with the same key came shortly before.
    public let after: SequenceGate?
    /// How the rule's side effects (`exec`, `http`, `file`) are retried.
    public let retry: RetryPolicy
    /// At most this many of the rule's side effects run at once (nil: only the pools' sizes limit them).
    public let concurrency: Int?

    /// The `source` of the events its actions derive (made once, not per event).
    public let derivedSource: String

    /// The `source` of the events the actions of the rule named `name` derive: `rule:` and the name.
    public static func derivedSource(ofRuleNamed name: String) -> String { "rule:" + name }

    /// True when the rule has an `exec`, `http` or `file` action.
    public var hasSideEffects: Bool { actions.contains { $0.kind.isSideEffect } }

    /// True when the rule has a `stop` action.
    public let stops: Bool
    /// True when the rule has a `count:`, `throttle:` or `after:` gate (it keeps state per key).
    /// Stored: the engine asks for every rule that matches, and comparing the gates with nil would copy them.
    public let isStateful: Bool

    /// A rule; `order` is its position in the rule set.
    public init(
        name: String, on: [TypePattern], when: Condition?, salience: Int, actions: [Action], location: SourceLocation?, order: Int,
        runAs: String?, count: CountWindow? = nil, throttle: Throttle? = nil, after: SequenceGate? = nil, retry: RetryPolicy = .default,
        concurrency: Int? = nil
    ) {
        self.retry = retry
        self.concurrency = concurrency
        self.name = name
        self.on = on
        self.when = when
        self.salience = salience
        self.actions = actions
        self.location = location
        self.order = order
        self.runAs = runAs
        self.count = count
        self.throttle = throttle
        self.after = after
        derivedSource = Self.derivedSource(ofRuleNamed: name)
        stops = actions.contains { if case .stop = $0 { true } else { false } }
        isStateful = count != nil || throttle != nil || after != nil
    }
}
