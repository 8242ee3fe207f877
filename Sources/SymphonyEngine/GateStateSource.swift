import SymphonyRecords

/// Where the gates find a key's state when it is kept outside the process (a cluster keeps it in
/// its database, so that every node counts a key in one place).
///
/// `RuleGates` asks once per slot between two `takeShared()` calls, on the slot's first use; what
/// the source returns is used and changed in memory until then. A source that cannot load (the
/// database failed) returns nil and remembers the failure: its caller must not store what the
/// gates decided meanwhile.
public protocol GateStateSource: Sendable {
    /// The stored state of `slot`, locked for the caller until its batch ends; nil when none is stored.
    func record(for slot: GateSlot) -> GateRecord?

    /// A rendered key as the source stores it: two keys it stores alike must be one key in
    /// memory too (the gates use this form everywhere, `{{ window.key }}` included).
    func storedKey(_ key: String) -> String
}
