import SymphonyDelivery
import SymphonyPipeline
import SymphonyPostgres
import SymphonyRecords

/// `symphony retry --store`: a cluster's dead letters, listed, and run again by this process as
/// a node of its own for the time it takes (`configuration.node`): each is queued again with a
/// fresh count of tries, leased to it, tried on its pools, and recorded like any node's tries.
public enum ClusterRetry {
    /// The cluster's dead letters, oldest first, with why each gave up; and the keys of those
    /// `configuration`'s key cannot open.
    public static func deadLetters(configuration: ClusterConfiguration) throws -> (entries: [(entry: OutboxEntry, reason: String)], unopened: [String]) {
        try PostgresOutbox.dead(sealer: configuration.sealer, on: try PostgresConnection(url: configuration.url))
    }

    /// Queues `entries` again with a fresh count of tries, leased to `configuration.node`; returns
    /// those queued again (a dead letter another process retried meanwhile is left out).
    public static func requeue(_ entries: [OutboxEntry], configuration: ClusterConfiguration) throws -> [OutboxEntry] {
        try PostgresOutbox.requeue(
            entries, now: configuration.clock.now(), node: configuration.node, lease: ClusterDelivery.leaseMargin,
            on: try PostgresConnection(url: configuration.url))
    }

    /// Runs entries `requeue` queued until each is done or dead again; `onAttempt` sees every try.
    public static func run(
        _ requeued: [OutboxEntry], configuration: ClusterConfiguration, output: any OutputSink, onAttempt: @escaping @Sendable (ExecutionRecord) -> Void
    ) -> DeliveryStatistics {
        let delivery = ClusterDelivery(configuration: configuration, output: output, onAttempt: onAttempt)
        delivery.submit(requeued)
        delivery.drain()
        delivery.stop()
        return delivery.statistics
    }

    /// Appends `records` to the cluster's audit trail, on `configuration.node`'s audit chain.
    public static func audit(_ records: [AuditRecord], configuration: ClusterConfiguration, output: any OutputSink) {
        ClusterRecorder(configuration: configuration, chain: "audit", output: output).record(audits: records, what: "an audit record")
    }
}
