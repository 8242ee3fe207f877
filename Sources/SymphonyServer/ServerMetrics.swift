import CoreMetrics
import Prometheus
import SymphonyConcurrency
import SymphonyEvents
import SymphonyPipeline

/// The service's metrics, in the Prometheus text format: swift-metrics counters, gauges and
/// histograms on a swift-prometheus registry of its own (no global bootstrap, so several servers
/// can share a process).
///
/// Two kinds of metrics land in it: those recorded as things happen, by whatever was given
/// `factory` (the run's `RunMetrics`, the history writer, the HTTP middleware), and the run's
/// counts read at scrape time, whose counters advance by what changed since the last scrape.
public final class ServerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    /// The factory to hand to what records metrics as it goes.
    public let factory: any MetricsFactory
    /// The last value each counter was advanced to, by its label and dimensions.
    private let last = Locked<[String: Int]>([:])
    /// Scrapes one at a time: a counter's delta is read and applied together.
    private let scraping = Locked<Void>(())

    private let acceptedCounter: CoreMetrics.Counter
    private let overloadedCounter: CoreMetrics.Counter

    /// Histogram buckets: durations from 10 µs (an in-process action) to a minute (a slow side
    /// effect); a delayed event's firing delay up to an hour; history batches of 1 to 20,000 rows.
    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
            .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60),
        ]
        factory.durationHistogramBuckets["symphony_scheduler_fire_delay_seconds"] = [
            .milliseconds(1), .milliseconds(10), .milliseconds(100), .seconds(1), .seconds(5), .seconds(10), .seconds(30),
            .seconds(60), .seconds(300), .seconds(3600),
        ]
        factory.defaultValueHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000]
        self.factory = factory
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
    func scrape(_ served: any ServedRun, inFlight: Int) -> [UInt8] {
        scraping.withLock { _ in
            let progress = served.progress
            advance("symphony_events_read_total", to: progress.read)
            advance("symphony_events_rejected_total", to: progress.rejected)
            advance("symphony_events_denied_total", to: progress.denied)
            advance("symphony_events_processed_total", to: progress.processed)
            advance("symphony_rule_firings_total", to: progress.rulesFired)
            advance("symphony_action_errors_total", to: progress.errors)
            advance("symphony_side_effect_retries_total", to: progress.sideEffects.retried)
            advance("symphony_side_effect_dead_letters_total", to: progress.sideEffects.deadLettered)
            gauge("symphony_side_effects_pending", to: progress.sideEffects.pending)
            let depths = served.queueDepthByPriority
            for priority in Event.priorities {
                gauge("symphony_queue_depth", [("priority", String(priority))], to: depths[priority] ?? 0)
            }
            gauge("symphony_scheduler_pending", to: progress.pending)
            gauge("symphony_ready", to: served.isTakingInput ? 1 : 0)
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

    private func gauge(_ label: String, _ dimensions: [(String, String)] = [], to value: Int) {
        CoreMetrics.Gauge(label: label, dimensions: dimensions, factory: factory).record(value)
    }
}
