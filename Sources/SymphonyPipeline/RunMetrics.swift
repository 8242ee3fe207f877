import CoreMetrics
import SymphonyEngine
import SymphonyEvents
import SymphonyRecords

/// What a run reports as it goes, through swift-metrics: action outcomes by kind and status, how
/// long actions took, and how late delayed events fired. The factory decides where they go — a
/// Prometheus registry for `symphony serve`, nowhere (the default) for `symphony run`.
///
/// Every metric is made once, here; recording one is a counter or histogram update.
public final class RunMetrics: Sendable {
    /// Metrics that go nowhere.
    public static let discarded = RunMetrics(factory: NOOPMetricsHandler.instance)

    /// False for `discarded`: nothing is recorded at all, so `symphony run` pays nothing.
    private let enabled: Bool
    private let outcomes: [ActionKind: [ExecutionOutcome: CoreMetrics.Counter]]
    private let durations: [ActionKind: CoreMetrics.Timer]
    private let fireDelay: CoreMetrics.Timer
    private let lateFirings: CoreMetrics.Counter

    /// Metrics made with `factory`:
    /// - `symphony_actions_total{kind, status}`: actions that ended (each try of a side effect);
    /// - `symphony_action_duration_seconds{kind}`: how long each took (a histogram);
    /// - `symphony_scheduler_fire_delay_seconds`: how long after its due time a delayed event
    ///   fired (a histogram), and `symphony_scheduler_late_total` those later than
    ///   `FiredEntry.lateness`.
    public init(factory: any MetricsFactory) {
        enabled = !(factory is NOOPMetricsHandler)
        var outcomes: [ActionKind: [ExecutionOutcome: CoreMetrics.Counter]] = [:]
        var durations: [ActionKind: CoreMetrics.Timer] = [:]
        for kind in ActionKind.allCases {
            for status in ExecutionOutcome.allCases {
                outcomes[kind, default: [:]][status] = CoreMetrics.Counter(
                    label: "symphony_actions_total", dimensions: [("kind", kind.name), ("status", status.name)], factory: factory)
            }
            durations[kind] = CoreMetrics.Timer(label: "symphony_action_duration_seconds", dimensions: [("kind", kind.name)], factory: factory)
        }
        self.outcomes = outcomes
        self.durations = durations
        fireDelay = CoreMetrics.Timer(label: "symphony_scheduler_fire_delay_seconds", factory: factory)
        lateFirings = CoreMetrics.Counter(label: "symphony_scheduler_late_total", factory: factory)
    }

    /// Counts and times the actions one event's rules ran. Side effects queued for later are
    /// counted when each try ends (`attempted`), not here.
    func handled(_ handled: [ActionOutcome]) {
        guard enabled else { return }
        for outcome in handled where outcome.queued == nil {
            ended(outcome.action, outcome.status, from: outcome.started, to: outcome.finished)
        }
    }

    /// Counts and times one try of a side effect.
    func attempted(_ execution: ExecutionRecord) {
        guard enabled else { return }
        ended(execution.kind, execution.outcome, from: execution.started, to: execution.finished)
    }

    /// Records how late a delayed event fired.
    func fired(_ entry: FiredEntry) {
        guard enabled else { return }
        fireDelay.recordNanoseconds(max(0, entry.firedAt.nanosecondsSinceEpoch - entry.due.nanosecondsSinceEpoch))
        if entry.isLate { lateFirings.increment() }
    }

    private func ended(_ kind: ActionKind, _ status: ExecutionOutcome, from started: Timestamp, to finished: Timestamp) {
        outcomes[kind]?[status]?.increment()
        durations[kind]?.recordNanoseconds(max(0, finished.nanosecondsSinceEpoch - started.nanosecondsSinceEpoch))
    }
}
