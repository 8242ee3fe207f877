import SymphonyConcurrency
import SymphonyPipeline
import SymphonyPostgres
import SymphonyRecords

/// Records that come from any thread of a node — side-effect tries, audit records, denied
/// input — on a chain of the node's own (`NODE/effects`, `NODE/audit`): each call in one
/// transaction, with one link covering its rows and whatever else must change in the same commit.
/// One connection serves the calls in turn; a failed call drops it, and the next connects afresh.
// @unchecked Sendable: `connection` and `chain` are touched only while holding `lock`.
final class ClusterRecorder: @unchecked Sendable {
    private let configuration: ClusterConfiguration
    private let output: any OutputSink
    private let lock = Locked(())
    private var connection: PostgresConnection?
    private let chain: PostgresChainWriter
    private let warned = Locked(false)

    /// A recorder on chain `NODE/name`.
    init(configuration: ClusterConfiguration, chain name: String, output: any OutputSink) {
        self.configuration = configuration
        self.output = output
        chain = PostgresChainWriter(chain: "\(configuration.node)/\(name)", key: configuration.sealer.keyRing.activeKey)
    }

    /// Writes `executions` and `audits`, and does `alongside`, in one transaction; false when it
    /// failed (warned about once, naming `what`, until a call succeeds again).
    @discardableResult
    func record(
        executions: [PostgresHandlingRecords.Execution] = [], audits: [AuditRecord] = [], what: String,
        alongside: ((PostgresConnection) throws -> Void)? = nil
    ) -> Bool {
        let node = configuration.node
        return lock.withLock { _ in
            do {
                if connection == nil { connection = try PostgresConnection(url: configuration.url) }
                let now = configuration.clock.now()
                try connection!.transaction { connection in
                    chain.beginAttempt()
                    try alongside?(connection)
                    let link = try chain.nextLink(on: connection)
                    let handled = try PostgresHandlingRecords.markHandled([], node: node, at: now, link: link, on: connection)
                    let recorded = try PostgresHandlingRecords.record(executions, node: node, link: link, on: connection)
                    let audited = audits.isEmpty ? nil : try PostgresAuditTrail.record(audits, node: node, link: link, on: connection)
                    try chain.append(handled: handled, executions: recorded, audit: audited, at: now, on: connection)
                }
                chain.committed()
                warned.withLock { $0 = false }
                return true
            } catch {
                chain.rolledBack()
                connection = nil
                if warned.withLock({ earlier in defer { earlier = true }; return !earlier }) {
                    output.problem("symphony: node \(node): \(what) could not be recorded: \(error)")
                }
                return false
            }
        }
    }
}
