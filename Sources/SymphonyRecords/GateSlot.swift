/// One gate of one rule, for one key: the unit of state a cluster stores, locks and loads.
public struct GateSlot: Sendable, Hashable, Comparable {
    /// Which of a rule's gates.
    public enum Kind: String, Sendable, Hashable, Comparable, CaseIterable {
        case count, throttle, after

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The rule's name.
    public let rule: String
    /// The gate.
    public let kind: Kind
    /// The key, as the gate's template rendered it.
    public let key: String

    /// A slot.
    public init(rule: String, kind: Kind, key: String) {
        self.rule = rule
        self.kind = kind
        self.key = key
    }

    public static func < (lhs: GateSlot, rhs: GateSlot) -> Bool {
        (lhs.rule, lhs.kind, lhs.key) < (rhs.rule, rhs.kind, rhs.key)
    }
}
