import SymphonyPipeline
import ArgumentParser
import Foundation
import SymphonyAccess
import SymphonyStore
import SymphonyRecords

/// `--policy` and `--as`, shared by every subcommand that checks access.
struct AccessOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("An access policy file; without one, everything is allowed.", valueName: "PATH"))
    var policy: String?

    @Option(name: .customLong("as"), help: ArgumentHelp("The principal this command acts as (default user:$USER).", valueName: "PRINCIPAL"))
    var principalOption: String?

    /// The acting principal.
    var principal: String { principalOption ?? StateLocation.defaultPrincipal }

    /// The guard for this command; exits 1 when the policy file has errors.
    func accessGuard(onDenial: @escaping @Sendable (AccessDenied) -> Void = { _ in }) throws -> AccessGuard {
        guard let policy else { return AccessGuard(policy: .allowAll, onDenial: onDenial) }
        let (loaded, diagnostics) = AccessPolicy.load(path: policy)
        report(diagnostics.sorted)
        guard let loaded else { throw ExitCode(1) }
        return AccessGuard(policy: loaded, onDenial: onDenial)
    }

    /// Checks `operation` for the acting principal; on denial prints the reason, records it in the
    /// audit trail of `database` when one exists and the key can be read (`recordIn: nil` records
    /// nothing, for dry runs), and exits 77 (EX_NOPERM).
    func require(_ operation: AccessOperation, with access: AccessGuard, recordIn database: String? = nil, keyFile: String? = nil) throws {
        do {
            try access.check(operation, as: principal)
        } catch {
            printError("symphony: \(error.description)")
            if let database {
                CommandAudit.record(
                    AuditRecord(principal: principal, operation: .accessDenied, target: operation.requiredPermission, outcome: "denied", details: error.description),
                    database: database, keyFile: keyFile)
            }
            throw ExitCode(77)
        }
    }
}
