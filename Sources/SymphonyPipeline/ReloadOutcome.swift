/// What a reload of the rule set did: swapped in a new rule set, or refused one with errors.
public struct ReloadOutcome: Sendable {
    /// True when the new rule set runs now.
    public let reloaded: Bool
    /// How many rules run now (the new set's, or the old one's when refused).
    public let rules: Int
    /// The errors that refused the new rule set (`file:line:column: message`), empty when it loaded.
    public let errors: [String]

    /// An outcome.
    public init(reloaded: Bool, rules: Int, errors: [String]) {
        self.reloaded = reloaded
        self.rules = rules
        self.errors = errors
    }
}
