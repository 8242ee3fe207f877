import CoreMetrics
import Prometheus
import SymphonyConcurrency
import SymphonyPipeline

/// The service's metrics, in the Prometheus text format: swift-metrics counters and gauges on a
/// swift-prometheus registry of their own (no global bootstrap, so several servers can share a
/// process). The run's counts are read at scrape time; counters advance by what changed since.
final class ServerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    /// The last value each counter was advanced to, by its label and dimensions.
    private let last = Locked<[String: Int]>([:])
    /// Scrapes one at a time: a counter's delta is read and applied together.
    private let scraping = Locked<Void>(())

    private let acceptedCounter: CoreMetrics.Counter
    private let overloadedCounter: CoreMetrics.Counter

    init() {
        factory = PrometheusMetricsFactory(registry: registry)
        acceptedCounter = CoreMetrics.Counter(label: "symphony_http_events_accepted_total", factory: factory)
        overloadedCounter = CoreMetrics.Counter(label: "symphony_http_overloaded_total", factory: factory)
    }

    /// Events an HTTP submission put in the queue.
    func accepted(_ count: Int) {
        if count > 0 { acceptedCounter.increment(by: count) }
    }

    /// A request answered 503 because too many submissions were in flight.
    func overloaded() {
        overloadedCounter.increment()
    }

    /// The text of a scrape: the run's counts as of now.
    func scrape(_ pipeline: RunPipeline, inFlight: Int) -> [UInt8] {
        scraping.withLock { _ in
            let progress = pipeline.progress
            advance("symphony_events_read_total", to: progress.read)
            advance("symphony_events_rejected_total", to: progress.rejected)
            advance("symphony_events_denied_total", to: progress.denied)
            advance("symphony_events_processed_total", to: progress.processed)
            advance("symphony_rule_firings_total", to: progress.rulesFired)
            for (kind, count) in progress.actions {
                advance("symphony_actions_total", ["kind": kind, "status": "ok"], to: count)
            }
            advance("symphony_action_errors_total", to: progress.errors)
            advance("symphony_side_effect_retries_total", to: progress.sideEffects.retried)
            advance("symphony_side_effect_dead_letters_total", to: progress.sideEffects.deadLettered)
            gauge("symphony_side_effects_pending", to: progress.sideEffects.pending)
            gauge("symphony_queue_depth", to: pipeline.system.counters.queueDepth)
            gauge("symphony_scheduler_pending", to: progress.pending)
            gauge("symphony_ready", to: pipeline.isTakingInput ? 1 : 0)
            gauge("symphony_http_requests_in_flight", to: inFlight)
            return registry.emitToBuffer()
        }
    }

    private func advance(_ label: String, _ dimensions: [String: String] = [:], to value: Int) {
        let pairs = dimensions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let key = label + pairs.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = last.withLock { last -> Int in
            let previous = last[key]
            last[key] = max(value, previous ?? 0)
            return previous == nil ? value : value - previous!
        }
        // A counter seen for the first time is made (at 0) even when nothing happened yet.
        let counter = CoreMetrics.Counter(label: label, dimensions: pairs, factory: factory)
        if delta > 0 { counter.increment(by: delta) }
    }

    private func gauge(_ label: String, to value: Int) {
        CoreMetrics.Gauge(label: label, factory: factory).record(value)
    }
}
