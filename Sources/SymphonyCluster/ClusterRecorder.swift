import Glibc
import SymphonyConcurrency
import SymphonyPipeline
import SymphonyPostgres
import SymphonyRecords

/// Records that come from any thread of a node — side-effect tries, audit records, denied
/// input — on a chain of the node's own (`NODE/effects`, `NODE/audit`): each call in one
/// transaction, with one link covering its rows and whatever else must change in the same commit.
/// One connection serves the calls in turn; a failed call drops it, and the next connects afresh.
final class ClusterRecorder: Sendable {
    private let configuration: ClusterConfiguration
    private let output: any OutputSink
    /// The connection and the chain writer, used by one attempt at a time.
    private let writer: Locked<Writer>

    private struct Writer {
        var connection: PostgresConnection?
        let chain: PostgresChainWriter
        /// Whether the last failure was warned about (no more warnings until a call succeeds).
        var warned = false
    }

    /// A recorder on chain `NODE/name`.
    init(configuration: ClusterConfiguration, chain name: String, output: any OutputSink) {
        self.configuration = configuration
        self.output = output
        writer = Locked(Writer(connection: nil, chain: PostgresChainWriter(chain: "\(configuration.node)/\(name)", key: configuration.sealer.keyRing.activeKey)))
    }

    /// How many times a call tries before it gives up.
    static let attempts = 4

    /// Writes `executions` and `audits`, and does `alongside`, in one transaction — tried again
    /// on a new connection (after 0.2, 0.4, 0.6 s) when it fails, and at once when another process
    /// under this node's name moved the chain's head. False when every try failed (warned about
    /// once, naming `what`, until a call succeeds again). The connection is held for one try at a
    /// time: other callers are not kept waiting while this one waits to try again.
    @discardableResult
    func record(
        executions: [PostgresHandlingRecords.Execution] = [], audits: [AuditRecord] = [], what: String,
        alongside: ((PostgresConnection) throws -> Void)? = nil
    ) -> Bool {
        let node = configuration.node
        var failure: (any Error)?
        for attempt in 1...Self.attempts {
            let tried: Result<Void, any Error> = writer.withLock { writer in
                let chain = writer.chain
                do {
                    if writer.connection == nil { writer.connection = try PostgresConnection(url: configuration.url) }
                    let now = configuration.clock.now()
                    try writer.connection!.transaction { connection in
                        chain.beginAttempt()
                        try alongside?(connection)
                        let link = try chain.nextLink(on: connection)
                        let handled = try PostgresHandlingRecords.markHandled([], node: node, at: now, link: link, on: connection)
                        let recorded = try PostgresHandlingRecords.record(executions, node: node, link: link, on: connection)
                        let audited = audits.isEmpty ? nil : try PostgresAuditTrail.record(audits, node: node, link: link, on: connection)
                        try chain.append(handled: handled, executions: recorded, audit: audited, at: now, on: connection)
                    }
                    chain.committed()
                    writer.warned = false
                    return .success(())
                } catch {
                    chain.rolledBack()
                    if !(error is PostgresChainWriter.HeadMoved) { writer.connection = nil }
                    return .failure(error)
                }
            }
            guard case .failure(let error) = tried else { return true }
            failure = error
            if error is PostgresChainWriter.HeadMoved { continue }
            if attempt < Self.attempts { usleep(UInt32(200_000 * attempt)) }
        }
        let warn = writer.withLock { writer in
            defer { writer.warned = true }
            return !writer.warned
        }
        if warn {
            output.problem("symphony: node \(node): \(what) could not be recorded: \(failure.map { "\($0)" } ?? "unknown error")")
        }
        return false
    }
}
