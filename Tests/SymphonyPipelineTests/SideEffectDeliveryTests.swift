import Foundation
import SymphonyAccess
import SymphonyConcurrency
import SymphonyDelivery
import SymphonyEngine
import SymphonyEvents
import SymphonyJSON
import SymphonyPipeline
import SymphonyRecords
import SymphonyRules
import Testing

/// A runner whose tries follow a script (per action key, in order; then `fallback`), and which
/// remembers every try. `gate` holds tries until opened, to show a slow side effect stalls nothing else.
final class ScriptedRunner: SideEffectRunner {
    private struct State {
        var script: [AttemptResult.Verdict]
        var tries: [OutboxEntry] = []
    }

    private let state: Locked<State>
    private let fallback: AttemptResult.Verdict
    let gate: ConditionGate?

    init(_ script: [AttemptResult.Verdict] = [], fallback: AttemptResult.Verdict = .ok, gate: ConditionGate? = nil) {
        state = Locked(State(script: script))
        self.fallback = fallback
        self.gate = gate
    }

    var tries: [OutboxEntry] { state.withLock { $0.tries } }

    func attempt(_ entry: OutboxEntry) -> AttemptResult {
        gate?.waitUntilOpen()
        let verdict = state.withLock { state -> AttemptResult.Verdict in
            state.tries.append(entry)
            return state.script.isEmpty ? fallback : state.script.removeFirst()
        }
        switch verdict {
        case .ok: return AttemptResult(verdict: .ok, message: "done")
        case .retry: return AttemptResult(verdict: verdict, message: "HTTP 503", error: "HTTP 503")
        case .fail: return AttemptResult(verdict: .fail, message: "HTTP 404", error: "HTTP 404")
        case .relinquished: return AttemptResult(verdict: .relinquished, message: "taken over")
        }
    }
}

/// A gate threads wait at until it is opened.
final class ConditionGate: Sendable {
    private let lock = ConditionLock()
    nonisolated(unsafe) private var open = false
    func waitUntilOpen() { lock.withLock { while !open { lock.wait() } } }
    func openGate() { lock.withLock { open = true; lock.broadcast() } }
}

/// Side effects through the outbox and the dispatcher, on a manual clock with a scripted runner:
/// retries, give-ups, dead letters, resuming after a restart, back-pressure, `--no-actions`.
@Suite(.timeLimit(.minutes(12))) struct SideEffectDeliveryTests {
    static let start = Timestamp(secondsSinceEpoch: 1_764_000_000)
    static let everything = AccessGuard(policy: AccessPolicy(roles: ["all": [.all]], principals: ["user:test": ["all"]]))

    static func rules(retry: String = "{attempts: 3, backoff: 1s, max_backoff: 10s, within: 1m}", concurrency: String = "") -> String {
        """
        rules:
          - name: notify
            on: alert
            retry: \(retry)
            \(concurrency)
            actions:
              - http: {url: "https://hooks.example.com/alert/{{ payload.id }}", json: {text: "{{ payload.text }}"}}
              - publish: {type: alert.seen, payload: {id: "{{ payload.id }}"}}
          - name: seen
            on: alert.seen
            actions: [{audit: "seen {{ payload.id }}"}]
        """
    }

    struct Run {
        let pipeline: RunPipeline
        let output: CollectingOutput
        let clock: ManualClock
        let history: any HistoryRecorder
    }

    func start(
        _ text: String = rules(), runner: any SideEffectRunner, history: any HistoryRecorder = InMemoryHistory(), clock: ManualClock = ManualClock(start: start),
        access: AccessGuard = everything, runsSideEffects: Bool = true, memoryLimit: Int = 10_000
    ) throws -> Run {
        let (ruleSet, diagnostics) = RuleSetLoader.load(documents: [(file: "rules.yaml", text: text)])
        var configuration = RunConfiguration(ruleSet: try #require(ruleSet, "\(diagnostics.sorted)"), access: access, principal: "user:test")
        configuration.history = history
        configuration.clock = clock
        configuration.workerCount = 1
        configuration.sideEffectRunner = runner
        configuration.jitter = { 1 }
        configuration.runsSideEffects = runsSideEffects
        configuration.sideEffectMemoryLimit = memoryLimit
        let output = CollectingOutput()
        return Run(pipeline: try RunPipeline(configuration: configuration, output: output, stop: try StopRequest()), output: output, clock: clock, history: history)
    }

    func alert(_ id: Int, text: String = "disk \"full\"") -> Event { Event(type: "alert", payload: ["id": .int(Int64(id)), "text": .string(text)]) }

    @Test("a side effect is rendered, queued and run once; its try is recorded as ok; JSON bodies escape what they insert")
    func runsOnce() throws {
        let runner = ScriptedRunner()
        let history = InMemoryHistory()
        let run = try start(runner: runner, history: history)
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert(7))]))
        run.pipeline.waitUntilSideEffectsIdle()
        let summary = run.pipeline.finish()
        let tries = runner.tries
        #expect(tries.count == 1)
        guard case .http(let spec)? = tries.first?.request else { Issue.record("not an http request"); return }
        #expect(spec.url == "https://hooks.example.com/alert/7")
        #expect(spec.body == #"{"text":"disk \"full\""}"#)
        #expect(spec.headers.contains(HTTPSpec.Header(name: "Content-Type", value: "application/json")))
        #expect(tries.first?.key == "notify/\(tries.first!.eventID)/0")
        let records = history.executions.filter { $0.kind == .http }
        #expect(records.count == 1)
        #expect(records.first?.outcome == .ok)
        #expect(records.first?.message?.contains("try 1 of 3") == true)
        #expect(summary.actions["http"] == 1)
        #expect(summary.sideEffects.succeeded["http"] == 1)
        #expect(try history.pendingActions().isEmpty)
    }

    @Test("503, 503, then ok: each try is recorded, the waits double on the clock, and nothing runs before its time")
    func retriesWithBackoff() throws {
        let runner = ScriptedRunner([.retry(after: nil), .retry(after: nil), .ok])
        let history = InMemoryHistory()
        let run = try start(runner: runner, history: history)
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert(1))]))
        run.pipeline.waitUntilSideEffectsIdle()
        #expect(runner.tries.count == 1)
        run.clock.advance(by: .milliseconds(999))  // the first wait is 1 s (jitter 1)
        run.pipeline.waitUntilSideEffectsIdle()
        #expect(runner.tries.count == 1)
        run.clock.advance(by: .milliseconds(1))
        run.pipeline.waitUntilSideEffectsIdle()
        #expect(runner.tries.count == 2)
        run.clock.advance(by: .milliseconds(1_999))  // the second wait is 2 s
        run.pipeline.waitUntilSideEffectsIdle()
        #expect(runner.tries.count == 2)
        run.clock.advance(by: .milliseconds(1))
        run.pipeline.waitUntilSideEffectsIdle()
        #expect(runner.tries.count == 3)
        let summary = run.pipeline.finish()
        let outcomes = history.executions.filter { $0.kind == .http }.map(\.outcome)
        #expect(outcomes == [.failed, .failed, .ok])
        #expect(history.executions.filter { $0.kind == .http }.first?.error?.contains("retrying in 1.0 s") == true)
        #expect(Set(runner.tries.map(\.key)).count == 1, "every try carries the same idempotency key")
        #expect(summary.sideEffects.retried == 2)
        #expect(summary.sideEffects.deadLettered == 0)
    }

    @Test("the receiver's Retry-After is waited for when it is longer than the backoff")
    func honoursRetryAfter() throws {
        let runner = ScriptedRunner([.retry(after: .seconds(7)), .ok])
        let run = try start(runner: runner)
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert(1))]))
        run.pipeline.waitUntilSideEffectsIdle()
        run.clock.advance(by: .milliseconds(6_999))
        run.pipeline.waitUntilSideEffectsIdle()
        #expect(runner.tries.count == 1)
        run.clock.advance(by: .milliseconds(1))
        run.pipeline.waitUntilSideEffectsIdle()
        #expect(runner.tries.count == 2)
        _ = run.pipeline.finish()
    }

    @Test("gives up after its attempts: a dead letter, recorded and counted; a 4xx-like failure is not retried at all")
    func deadLetters() throws {
        let runner = ScriptedRunner([.retry(after: nil), .retry(after: nil), .retry(after: nil), .fail])
        let history = InMemoryHistory()
        let run = try start(runner: runner, history: history)
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert(1))]))
        for _ in 0..<3 {
            run.pipeline.waitUntilSideEffectsIdle()
            run.clock.advance(by: .seconds(10))
        }
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert(2))]))
        run.pipeline.waitUntilSideEffectsIdle()
        let summary = run.pipeline.finish()
        #expect(runner.tries.count == 4)
        #expect(summary.sideEffects.deadLettered == 2)
        #expect(summary.errors >= 2)
        let dead = history.deadActions
        #expect(dead.count == 2)
        #expect(dead.first?.reason.hasPrefix("gave up after 3 tries") == true)
        #expect(dead.last?.reason.hasPrefix("not retried: HTTP 404") == true)
        let last = try #require(history.executions.last { $0.kind == .http })
        #expect(last.outcome == .failed)
        #expect(last.error?.contains("dead letter") == true)
    }

    @Test("a relinquished entry (another process took it over) is dropped untried: nothing recorded, nothing retried, still pending in the outbox")
    func relinquished() throws {
        let runner = ScriptedRunner([.relinquished])
        let history = InMemoryHistory()
        let run = try start(runner: runner, history: history)
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert(1))]))
        run.pipeline.waitUntilSideEffectsIdle()
        run.clock.advance(by: .seconds(60))
        run.pipeline.waitUntilSideEffectsIdle()
        let summary = run.pipeline.finish()
        #expect(runner.tries.count == 1)
        #expect(summary.sideEffects.relinquished == 1 && summary.sideEffects.retried == 0 && summary.sideEffects.deadLettered == 0)
        #expect(summary.sideEffects.pending == 0, "it left this dispatcher")
        #expect(!history.executions.contains { $0.kind == .http }, "no try is recorded")
        #expect(try history.pendingActions().count == 1, "whoever took it over finishes it")
    }

    @Test("'within' bounds the total time: a retry that would start later gives up")
    func withinBoundsTime() throws {
        let runner = ScriptedRunner(fallback: .retry(after: nil))
        let run = try start(Self.rules(retry: "{attempts: 10, backoff: 20s, max_backoff: 40s, within: 30s}"), runner: runner)
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert(1))]))
        run.pipeline.waitUntilSideEffectsIdle()
        run.clock.advance(by: .seconds(20))
        run.pipeline.waitUntilSideEffectsIdle()
        let summary = run.pipeline.finish()
        #expect(runner.tries.count == 2, "the third try would start 60 s after queueing, past 'within: 30s'")
        #expect(summary.sideEffects.deadLettered == 1)
    }

    @Test("a side effect that hangs stalls no event: every event is handled while it waits, then it drains")
    func slowSideEffectStallsNothing() throws {
        let gate = ConditionGate()
        let runner = ScriptedRunner(gate: gate)
        let history = InMemoryHistory()
        let run = try start(runner: runner, history: history)
        _ = try run.pipeline.feed(ArrayEventSource(events: (1...50).map { .success(alert($0)) }))
        run.pipeline.waitUntilIdle()  // returns although no try has finished
        #expect(history.executions.filter { $0.kind == .audit }.count == 50)
        #expect(history.executions.filter { $0.kind == .http }.isEmpty)
        gate.openGate()
        let summary = run.pipeline.finish()
        #expect(runner.tries.count == 50)
        #expect(summary.sideEffects.succeeded["http"] == 50)
        #expect(summary.sideEffects.waited == 42, "50 requests on a pool of 8: all but the first 8 waited, however fast they came")
    }

    @Test("past the memory limit, side effects wait in the history's outbox and are read back as others finish: each runs once", arguments: [ReopenableHistory.inMemory(), ReopenableHistory.sqlite()])
    func boundedMemory(_ store: ReopenableHistory) throws {
        let gate = ConditionGate()
        let runner = ScriptedRunner(gate: gate)
        let run = try start(runner: runner, history: try store.open(), memoryLimit: 4)
        _ = try run.pipeline.feed(ArrayEventSource(events: (1...40).map { .success(alert($0)) }))
        run.pipeline.waitUntilIdle()
        try run.history.flush()  // every entry committed, so handed to the dispatcher (4 held, the rest left in the outbox)
        #expect(run.pipeline.dispatcher?.statistics.pending == 40)
        gate.openGate()
        let summary = run.pipeline.finish()
        #expect(runner.tries.count == 40)
        #expect(Set(runner.tries.map(\.key)).count == 40, "none ran twice")
        #expect(summary.sideEffects.succeeded["http"] == 40)
        #expect(summary.sideEffects.pending == 0)
    }

    @Test("a rule's concurrency: 1 runs its side effects one at a time, in order")
    func ruleConcurrency() throws {
        let runner = ScriptedRunner()
        let run = try start(Self.rules(concurrency: "concurrency: 1"), runner: runner)
        _ = try run.pipeline.feed(ArrayEventSource(events: (1...20).map { .success(alert($0)) }))
        run.pipeline.waitUntilSideEffectsIdle()
        _ = run.pipeline.finish()
        let ids = runner.tries.compactMap { entry -> String? in
            if case .http(let spec) = entry.request { return String(spec.url.split(separator: "/").last!) } else { return nil }
        }
        #expect(ids == (1...20).map(String.init))
    }

    @Test("targets: per_second spreads calls to a host over time on the clock (a burst of one second's worth, then the rate)")
    func rateLimit() throws {
        let runner = ScriptedRunner()
        let run = try start("targets: {hooks.example.com: {per_second: 2}}\n" + Self.rules(), runner: runner)
        _ = try run.pipeline.feed(ArrayEventSource(events: (1...5).map { .success(alert($0)) }))
        run.pipeline.waitUntilSideEffectsIdle()
        #expect(runner.tries.count == 2)
        run.clock.advance(by: .milliseconds(500))
        run.pipeline.waitUntilSideEffectsIdle()
        #expect(runner.tries.count == 3)
        run.clock.advance(by: .seconds(1))
        run.pipeline.waitUntilSideEffectsIdle()
        #expect(runner.tries.count == 5)
        _ = run.pipeline.finish()
    }

    @Test("a stop leaves what is not finished pending in the history; the next run resumes it with the same key", arguments: [ReopenableHistory.inMemory(), ReopenableHistory.sqlite()])
    func resumesAfterRestart(_ store: ReopenableHistory) throws {
        let first = ScriptedRunner(fallback: .retry(after: nil))
        let run = try start(runner: first, history: try store.open())
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert(1)), .success(alert(2))]))
        run.pipeline.waitUntilSideEffectsIdle()
        run.pipeline.stop.request(because: "test")
        let summary = run.pipeline.finish()
        #expect(summary.sideEffects.pending == 2)
        let keys = Set(first.tries.map(\.key))
        #expect(keys.count == 2)

        let second = ScriptedRunner()
        let again = try start(runner: second, history: try store.open(), clock: ManualClock(start: Self.start.advanced(by: .seconds(5))))
        again.pipeline.waitUntilSideEffectsIdle()
        let resumed = again.pipeline.finish()
        #expect(resumed.resumedActions == 2)
        #expect(Set(second.tries.map(\.key)) == keys)
        #expect(second.tries.allSatisfy { $0.attempts == 1 }, "the try count carries over")
        let third = try store.open()
        #expect(try third.pendingActions().isEmpty)
        try third.close()
    }

    @Test("an input event whose rules only queue side effects counts as handled: a restart does not handle it again", arguments: [ReopenableHistory.inMemory(), ReopenableHistory.sqlite()])
    func queuedCountsAsHandled(_ store: ReopenableHistory) throws {
        let text = """
            rules:
              - name: only-hook
                on: alert
                actions:
                  - http: "https://hooks.example.com/x"
            """
        let first = try start(text, runner: ScriptedRunner(), history: try store.open())
        _ = try first.pipeline.feed(ArrayEventSource(events: (1...5).map { .success(alert($0)) }))
        first.pipeline.waitUntilSideEffectsIdle()
        _ = first.pipeline.finish()
        let runner = ScriptedRunner()
        let second = try start(text, runner: runner, history: try store.open())
        let summary = second.pipeline.finish()
        #expect(summary.recovered == 0)
        #expect(runner.tries.isEmpty)
    }

    @Test("--no-actions renders and records each side effect as skipped, runs none, and runs everything else")
    func noActions() throws {
        let runner = ScriptedRunner()
        let history = InMemoryHistory()
        let run = try start(runner: runner, history: history, runsSideEffects: false)
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert(3))]))
        let summary = run.pipeline.finish()
        #expect(runner.tries.isEmpty)
        let skipped = try #require(history.executions.first { $0.kind == .http })
        #expect(skipped.outcome == .skipped)
        #expect(skipped.message == "not run (--no-actions): POST https://hooks.example.com/alert/3")
        #expect(summary.actions["publish"] == 1)
        #expect(summary.errors == 0, "a side effect not run on purpose is no error")
    }

    @Test("without a policy, exec is refused (and audited); http and file are allowed; a policy can grant actions:exec")
    func execNeedsPermission() throws {
        let text = """
            rules:
              - name: ban
                on: alert
                actions:
                  - exec: [/bin/true, "{{ payload.id }}"]
            """
        let runner = ScriptedRunner()
        let history = InMemoryHistory()
        let run = try start(text, runner: runner, history: history, access: AccessGuard(policy: .allowAll))
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert(1))]))
        _ = run.pipeline.finish()
        #expect(runner.tries.isEmpty)
        let denied = try #require(history.executions.first { $0.kind == .exec })
        #expect(denied.outcome == .denied)
        #expect(denied.error?.contains("actions:exec") == true)
        #expect(history.audits.contains { $0.operation == .accessDenied })

        let granted = ScriptedRunner()
        let policy = AccessPolicy(roles: ["ops": [.exec, .publish(try TypePattern("**"))]], principals: ["user:test": ["ops"]])
        let allowed = try start(text, runner: granted, access: AccessGuard(policy: policy))
        _ = try allowed.pipeline.feed(ArrayEventSource(events: [.success(alert(1))]))
        allowed.pipeline.waitUntilSideEffectsIdle()
        _ = allowed.pipeline.finish()
        #expect(granted.tries.count == 1)
    }

    @Test("http permissions name hosts: actions:http:<host> allows that host only")
    func httpHostPermission() throws {
        let runner = ScriptedRunner()
        let history = InMemoryHistory()
        let policy = AccessPolicy(
            roles: ["hooks": [.http(hostPattern: "other.example.com"), .publish(try TypePattern("**"))]], principals: ["user:test": ["hooks"]])
        let run = try start(runner: runner, history: history, access: AccessGuard(policy: policy))
        _ = try run.pipeline.feed(ArrayEventSource(events: [.success(alert(1))]))
        _ = run.pipeline.finish()
        #expect(runner.tries.isEmpty)
        #expect(history.executions.first { $0.kind == .http }?.error?.contains("actions:http:hooks.example.com") == true)
    }
}
