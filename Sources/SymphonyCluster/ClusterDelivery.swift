import SymphonyConcurrency
import SymphonyCrypto
import SymphonyDelivery
import SymphonyEngine
import SymphonyEvents
import SymphonyPipeline
import SymphonyPostgres
import SymphonyRecords

/// A node's side effects (`exec`, `http`, `file`): the entries its batches queued in
/// `symphony_outbox` (leased to it), and those it claims whose lease ran out, tried on the
/// node's pools by an `ActionDispatcher` — with its retries, backoffs and per-rule and per-target
/// limits — and each try recorded, with the entry's new state, in one transaction on the node's
/// side-effect chain (`NODE/effects`).
///
/// Before each try the lease is renewed in the database; a try whose entry another node took
/// over meanwhile (this node's lease ran out while it waited) is not made here. A node that dies
/// mid-try leaves the entry to the others once its lease runs out, so a try may run twice: at
/// least once, with the entry's key (`SYMPHONY_ACTION_KEY`, `Idempotency-Key`) to spot repeats.
final class ClusterDelivery: Sendable {
    /// How long a lease outlasts what it covers (a try's timeout, or the wait for a retry).
    static let leaseMargin: Duration = .seconds(30)
    /// The most entries held in memory: more wait, unleased, in the outbox for any node.
    static let memoryLimit = 1_000

    private let node: String
    private let sealer: EnvelopeSealer
    private let dispatcher: ActionDispatcher
    private let recorder: ClusterRecorder
    private let connections: PostgresConnectionPool

    /// Delivery for `configuration`'s node; each try's outcome also goes to `output`, and to `onAttempt`.
    init(configuration: ClusterConfiguration, output: any OutputSink, onAttempt: (@Sendable (ExecutionRecord) -> Void)? = nil) {
        node = configuration.node
        sealer = configuration.sealer
        let connections = PostgresConnectionPool(url: configuration.url)
        self.connections = connections
        let recorder = ClusterRecorder(configuration: configuration, chain: "effects", output: output)
        self.recorder = recorder
        let (node, clock) = (configuration.node, configuration.clock)
        var settings = ActionDispatcher.Configuration(ruleSet: configuration.ruleSet, clock: configuration.clock)
        settings.memoryLimit = Self.memoryLimit
        let runner = LeasedRunner(runner: configuration.sideEffectRunner, node: configuration.node, connections: connections)
        dispatcher = ActionDispatcher(configuration: settings, runner: runner, history: nil) { record, entry, state in
            // The try and the entry's new state in one commit; one not recorded runs again once its lease runs out.
            let execution = PostgresHandlingRecords.Execution(
                eventID: record.eventID, rule: record.rule, action: record.kind.description, outcome: record.outcome.description, error: record.error,
                message: record.message, derivedEventID: nil, started: record.started, finished: record.finished, key: record.key)
            recorder.record(executions: [execution], what: "a side effect's outcome (it runs again once its lease runs out)") { connection in
                try PostgresOutbox.finish(entry, state: state, error: record.error, node: node, now: clock.now(), lease: Self.leaseMargin, on: connection)
            }
            if output.reportsOutcomes { output.handled([ActionOutcome(attempt: record)]) }
            onAttempt?(record)
        }
    }

    /// How many more entries this node takes into memory now.
    var room: Int { max(0, Self.memoryLimit - dispatcher.statistics.pending) }

    /// True when nothing is running, ready or waiting for a retry here.
    var isIdle: Bool { dispatcher.statistics.pending == 0 }

    /// What was tried so far.
    var statistics: DeliveryStatistics { dispatcher.statistics }

    /// Seals `entries` for their rows.
    func seal(_ entries: [OutboxEntry]) throws -> [(entry: OutboxEntry, sealed: [UInt8])] {
        try entries.map { ($0, try PostgresOutbox.seal($0, with: sealer)) }
    }

    /// Runs entries a batch of this node queued, leased to it, once that batch committed.
    func submit(_ entries: [OutboxEntry]) {
        dispatcher.submit(entries)
    }

    /// Claims due entries no node holds (their node died or stopped, or had no room), as many as
    /// there is room for, and runs them. Returns how many it claimed.
    func claimDue(now: Timestamp) throws -> Int {
        let room = self.room
        guard room > 0 else { return 0 }
        let claimed = try connections.withConnection { connection in
            try PostgresOutbox.claim(limit: min(room, 64), node: node, now: now, lease: Self.leaseMargin, sealer: sealer, on: connection)
        }
        dispatcher.submit(claimed)
        return claimed.count
    }

    /// Waits until every entry submitted is done or dead (retries included), or the dispatcher stopped.
    func drain() {
        dispatcher.drain()
    }

    /// Frees the leases an earlier process under this node's name held (it was killed): its side
    /// effects are claimed at once, here or elsewhere, instead of when the leases run out.
    func releaseEarlierLeases() throws {
        try connections.withConnection { try PostgresOutbox.release(node: node, on: $0) }
    }

    /// Starts no more tries, waits for the running ones, and gives up this node's leases so that
    /// other nodes take the rest at once.
    func stop() {
        dispatcher.stop()
        try? connections.withConnection { try PostgresOutbox.release(node: node, on: $0) }
    }

    /// How long a try of `request` holds its lease.
    static func lease(for request: ActionRequest) -> Duration {
        switch request {
        case .exec(let spec): spec.timeout + leaseMargin
        case .http(let spec): spec.timeout + leaseMargin
        case .file: leaseMargin
        }
    }
}

/// Tries an entry only while this node holds its lease: renews it first, and gives the entry up
/// (`relinquished`) when another node took it over or the database cannot say.
private struct LeasedRunner: SideEffectRunner {
    let runner: any SideEffectRunner
    let node: String
    let connections: PostgresConnectionPool

    func attempt(_ entry: OutboxEntry) -> AttemptResult {
        let lease = ClusterDelivery.lease(for: entry.request)
        let mine: Bool
        do {
            mine = try connections.withConnection { try PostgresOutbox.renew(entry, node: node, for: lease, on: $0) }
        } catch {
            // Without a renewed lease it is not tried: once the lease runs out, a node claims it again.
            return AttemptResult(verdict: .relinquished, message: "not tried: its lease could not be renewed")
        }
        guard mine else { return AttemptResult(verdict: .relinquished, message: "not tried: another node took it over") }
        return runner.attempt(entry)
    }
}
