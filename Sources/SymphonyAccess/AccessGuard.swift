/// The one place every engine operation is checked — the counterpart of a `@requires_permission` decorator.
///
/// Call sites check before they act: `try access.check(.readHistory, as: principal)` throws
/// `AccessDenied` after passing it to `onDenial`; `perform(_:as:_:)` wraps a body in that check.
/// The CLI and the engine call `check` (grep for `.check(` and `require(`) and record a denial
/// themselves, in history and the audit trail, where it happens; they give no `onDenial`.
public struct AccessGuard: Sendable {
    /// The policy in force.
    public let policy: AccessPolicy
    private let onDenial: @Sendable (AccessDenied) -> Void

    /// A guard enforcing `policy`; `onDenial` is called for each refusal.
    public init(policy: AccessPolicy, onDenial: @escaping @Sendable (AccessDenied) -> Void = { _ in }) {
        self.policy = policy
        self.onDenial = onDenial
    }

    /// Throws `AccessDenied` (after reporting it) unless `principal` may perform `operation`.
    public func check(_ operation: AccessOperation, as principal: String) throws(AccessDenied) {
        guard policy.allows(principal, operation) else {
            let denial = AccessDenied(principal: principal, operation: operation)
            onDenial(denial)
            throw denial
        }
    }

    /// Runs `body` only if `principal` may perform `operation`.
    public func perform<Result>(_ operation: AccessOperation, as principal: String, _ body: () throws -> Result) throws -> Result {
        try check(operation, as: principal)
        return try body()
    }
}
