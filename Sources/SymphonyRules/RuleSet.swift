import SymphonyConcurrency
import SymphonyDiagnostics
import SymphonyEvents
import SymphonyIntents

/// A loaded, compiled rule set: its rules indexed by type pattern, and its intents.
///
/// `rules(for:)` returns only the rules whose `on` can match an event type — exact types through
/// a dictionary, wildcard patterns through a trie — ordered by salience (highest first), ties in
/// rule-set order; each type's list is cached, so after the first event of a type it is one probe.
public final class RuleSet: Sendable {
    /// The rules in rule-set order (files sorted by path, rules in file order).
    public let rules: [Rule]
    /// The rule set's intents.
    public let recognizer: IntentRecognizer
    /// Every regex of the rule set — named patterns, line parsers, `matches` conditions — as
    /// written and compiled, with where it is written (for the static checks).
    public let regexSources: [RegexSource]
    /// The principal rules run as when they name none (`owner:` in the rule files); nil when unset.
    public let owner: String?
    /// Parsers for raw lines (`lines:` in the rule files), by the `--lines` type they read.
    public let lineParsers: [String: LineParser]
    /// Pool sizes and per-target limits for `exec`, `http` and `file` actions.
    public let sideEffects: SideEffectSettings

    private let index: TypePatternIndex<Int>
    private let positionsByName: [String: Int]
    /// Per-thread stripes: workers look their event's type up on every event without contending.
    private let cache = StripedLocked { TypeLookupCache<[Rule]>() }

    /// A rule set of `rules` with the intents of `recognizer`.
    public init(
        rules: [Rule], recognizer: IntentRecognizer, regexSources: [RegexSource] = [], owner: String? = nil,
        lineParsers: [String: LineParser] = [:], sideEffects: SideEffectSettings = SideEffectSettings()
    ) {
        self.sideEffects = sideEffects
        self.rules = rules
        self.lineParsers = lineParsers
        self.owner = owner
        self.recognizer = recognizer
        self.regexSources = regexSources
        var index = TypePatternIndex<Int>()
        for (position, rule) in rules.enumerated() {
            for pattern in rule.on { index.insert(position, for: pattern) }
        }
        self.index = index
        positionsByName = Dictionary(rules.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The rules that apply to events of `type`, highest salience first (ties in rule-set order).
    public func rules(for type: String) -> [Rule] {
        cache.withLock { cache in
            cache.value(for: type) {
                var positions = Array(Set(index.entries(matching: type).map(\.value)))
                positions.sort { rules[$0].salience != rules[$1].salience ? rules[$0].salience > rules[$1].salience : $0 < $1 }
                return positions.map { rules[$0] }
            }
        }
    }

    /// The rule named `name`.
    public func rule(named name: String) -> Rule? { positionsByName[name].map { rules[$0] } }
}
