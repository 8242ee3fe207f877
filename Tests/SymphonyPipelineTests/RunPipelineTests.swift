import Foundation
import SymphonyAccess
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyEngine
import SymphonyEvents
import SymphonyPipeline
import SymphonyRecords
import SymphonyRules
import Testing

@testable import SymphonyStore

/// Collects what a run shows.
final class CollectingOutput: OutputSink {
    private let state = Locked<(emitted: [Event], outcomes: [ActionOutcome], problems: [String])>(([], [], []))
    var reportsOutcomes: Bool { true }
    var emitted: [Event] { state.withLock { $0.emitted } }
    var outcomes: [ActionOutcome] { state.withLock { $0.outcomes } }
    var problems: [String] { state.withLock { $0.problems } }
    func emitted(_ event: Event) { state.withLock { $0.emitted.append(event) } }
    func handled(_ outcomes: [ActionOutcome]) { state.withLock { $0.outcomes.append(contentsOf: outcomes) } }
    func problem(_ line: String) { state.withLock { $0.problems.append(line) } }
    func flush() {}
}

/// A history backend under test, and how to read back what a run recorded in it.
struct Backend: CustomTestStringConvertible, Sendable {
    let name: String
    /// Makes an empty history; returns it and a reader of what it holds after `close()`.
    let make: @Sendable () throws -> (recorder: any HistoryRecorder, recorded: @Sendable () throws -> Recorded)
    var testDescription: String { name }

    /// What a run recorded, in a form both backends give.
    struct Recorded: Equatable {
        /// Input and derived events stored, by type.
        var eventTypes: [String: Int]
        /// (rule, action, outcome, message) for every execution, sorted.
        var executions: [String]
        /// Rejected lines' reasons.
        var rejected: [String]
        /// Audit operations (without the run's own key.use / rules.load, which the CLI writes).
        var auditOperations: [String]
    }

    static let inMemory = Backend(name: "in-memory") {
        let history = InMemoryHistory()
        return (
            history,
            {
                var types: [String: Int] = [:]
                for event in history.inputs { types[event.type, default: 0] += 1 }
                for execution in history.executions { if let derived = execution.derivedEvent { types[derived.type, default: 0] += 1 } }
                return Recorded(
                    eventTypes: types,
                    executions: history.executions.map { "\($0.rule) \($0.kind.name) \($0.outcome.name) \($0.message ?? "-")" }.sorted(),
                    rejected: history.rejected.map(\.reason), auditOperations: history.audits.map(\.operation.rawValue).sorted())
            }
        )
    }

    static let sqlite = Backend(name: "SQLite") {
        let path = NSTemporaryDirectory() + "symphony-pipeline-" + UUID().uuidString + ".db"
        let key = try EncryptionKey(bytes: [UInt8](repeating: 7, count: 32))
        let store = try HistoryStore(path: path, key: key)
        return (
            store,
            {
                let reader = try HistoryReader(path: path, sealer: EnvelopeSealer(key: key))
                var query = HistoryQuery()
                query.limit = 10_000
                let rows = try reader.executions(query)
                let database = try SQLiteDatabase(path: path, readOnly: true, create: false)
                var types: [String: Int] = [:]
                for (type, count) in try database.prepare("SELECT type, count(*) FROM events GROUP BY type").rows([], { ($0.text(0) ?? "", Int($0.int(1))) }) {
                    types[type] = count
                }
                return Recorded(
                    eventTypes: types, executions: rows.map { "\($0.rule) \($0.action) \($0.outcome) \($0.message ?? "-")" }.sorted(),
                    rejected: try database.prepare("SELECT reason FROM dead_letters ORDER BY seq").rows { $0.text(0) ?? "" },
                    auditOperations: try AuditReader(path: path).list(limit: 1_000).map(\.operation.rawValue).sorted())
            }
        )
    }
}

@Suite(.timeLimit(.minutes(12))) struct RunPipelineTests {
    static let rules = """
        rules:
          - name: refund
            on: ticket.created
            when: {field: payload.text, contains: refund}
            actions:
              - publish: {type: billing.refund, payload: {customer: "{{ payload.customer }}"}}
              - audit: "refund for {{ payload.customer }}"
              - delay: {after: 1h, type: ticket.follow_up}
          - name: bill
            on: billing.refund
            actions:
              - emit: {type: billing.queued, payload: {customer: "{{ payload.customer }}"}}
          - name: page
            on: billing.refund
            actions:
              - publish: {type: alerts.page}
        """

    static func ruleSet() throws -> RuleSet {
        let (ruleSet, diagnostics) = RuleSetLoader.load(documents: [(file: "rules.yaml", text: rules)])
        return try #require(ruleSet, "\(diagnostics.sorted)")
    }

    static func input() -> [Result<Event, InputLineError>] {
        [
            .success(Event(type: "ticket.created", payload: ["customer": "ada", "text": "I want a refund"], id: "t-1")),
            .failure(InputLineError(reason: "not valid JSON", content: Array("{oops".utf8))),
            .success(Event(type: "ticket.created", payload: ["customer": "bo", "text": "hello"], id: "t-2")),
            .success(Event(type: "alerts.page", id: "a-1")),  // refused by the policy
        ]
    }

    @Test("a run records the same history in every backend and shows outcomes, emitted events and problems", arguments: [Backend.inMemory, Backend.sqlite])
    func run(_ backend: Backend) throws {
        let (recorder, recorded) = try backend.make()
        let policy = AccessPolicy(
            roles: ["everything": [.publish(try TypePattern("ticket.*")), .publish(try TypePattern("billing.*"))]], principals: ["user:test": ["everything"]])
        var configuration = RunConfiguration(ruleSet: try Self.ruleSet(), access: AccessGuard(policy: policy), principal: "user:test")
        configuration.history = recorder
        configuration.workerCount = 2
        let output = CollectingOutput()
        let pipeline = try RunPipeline(configuration: configuration, output: output, stop: try StopRequest())
        #expect(try pipeline.feed(ArrayEventSource(name: "test", events: Self.input())))
        let summary = pipeline.finish()

        #expect(summary.read == 4)
        #expect(summary.rejected == 1)
        #expect(summary.denied == 2)  // the input event, and 'page' publishing alerts.page
        #expect(summary.pending == 1)
        #expect(summary.historyFailure == nil)
        #expect(summary.actions == ["publish": 1, "audit": 1, "delay": 1, "emit": 1])
        #expect(output.emitted.map(\.type) == ["billing.queued"])
        #expect(output.problems == ["test:2: rejected: not valid JSON", "test:4: denied: access denied: 'user:test' lacks the permission 'events:publish:alerts.page'"])
        #expect(output.outcomes.count == 5)  // the refused input event is no action outcome

        let history = try recorded()
        #expect(history.eventTypes == ["ticket.created": 2, "billing.refund": 1, "ticket.follow_up": 1, "billing.queued": 1])
        #expect(
            history.executions == [
                "(input) publish denied -", "bill emit ok -", "page publish denied -", "refund audit ok refund for ada", "refund delay ok -",
                "refund publish ok -",
            ])
        #expect(history.rejected == ["not valid JSON"])
        #expect(history.auditOperations == ["access.denied", "access.denied"])
    }

    @Test("a stop requested before feeding reads nothing and starts nothing; the history still closes", arguments: [Backend.inMemory, Backend.sqlite])
    func stoppedBeforeInput(_ backend: Backend) throws {
        let (recorder, recorded) = try backend.make()
        var configuration = RunConfiguration(ruleSet: try Self.ruleSet(), principal: "user:test")
        configuration.history = recorder
        let stop = try StopRequest()
        let pipeline = try RunPipeline(configuration: configuration, output: DiscardingOutput(), stop: stop)
        stop.request()
        #expect(try pipeline.feed(ArrayEventSource(events: Self.input())))
        let summary = pipeline.finish()
        #expect(summary.read == 0)
        #expect(summary.stopped)
        #expect(try recorded().executions.isEmpty)
        if let memory = recorder as? InMemoryHistory { #expect(memory.isClosed) }
    }

    @Test("pending delays made by another rule set's rules stay pending; this rule set's fire", arguments: [Backend.inMemory, Backend.sqlite])
    func pendingBelongsToItsRuleSet(_ backend: Backend) throws {
        let (recorder, _) = try backend.make()
        let past = Timestamp(secondsSinceEpoch: 1_000)
        func entry(_ id: String, rule: String) -> ScheduledEntry {
            ScheduledEntry(
                id: ScheduleID(rawValue: id), event: Event(type: "ticket.follow_up", id: "e-\(id)", causation: Causation(parentID: "t-0", rule: rule, hop: 1)),
                due: past)
        }
        try recorder.scheduledEntries.save(entry("mine", rule: "refund"))
        try recorder.scheduledEntries.save(entry("theirs", rule: "remind-someone-else"))
        try recorder.flush()
        var configuration = RunConfiguration(ruleSet: try Self.ruleSet(), principal: "user:test")
        configuration.history = recorder
        let pipeline = try RunPipeline(configuration: configuration, output: DiscardingOutput(), stop: try StopRequest())
        try pipeline.feed(ArrayEventSource(events: []))
        let summary = pipeline.finish()
        #expect(summary.processed == 1)
        #expect(summary.pendingOfOtherRuleSets == ["remind-someone-else": 1])
        #expect(try recorder.scheduledEntries.loadPending().map(\.id.rawValue) == ["theirs"])
    }

    @Test("when history cannot commit, a delay is not shown as ok, input stops, and the summary counts the lost rows")
    func writeFailure() throws {
        let path = NSTemporaryDirectory() + "symphony-pipeline-fail-" + UUID().uuidString + ".db"
        let store = try HistoryStore(path: path, key: try EncryptionKey(bytes: [UInt8](repeating: 7, count: 32)))
        // As a full disk would: every commit that stores a delayed event fails.
        try SQLiteDatabase(path: path).execute("CREATE TRIGGER refuse BEFORE INSERT ON scheduled BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
        var configuration = RunConfiguration(ruleSet: try Self.ruleSet(), principal: "user:test")
        configuration.history = store
        configuration.workerCount = 1
        let output = CollectingOutput()
        let pipeline = try RunPipeline(configuration: configuration, output: output, stop: try StopRequest())
        try pipeline.feed(ArrayEventSource(events: [.success(Event(type: "ticket.created", payload: ["customer": "ada", "text": "refund please"], id: "t-1"))]))
        // The failure is known once the delay's commit failed (the worker waited for it): input after that is not read.
        pipeline.system.dispatcher.waitUntilIdle()
        try pipeline.feed(ArrayEventSource(name: "later", events: Self.input()))
        let summary = pipeline.finish()
        let delay = try #require(output.outcomes.first { $0.action == .delay })
        #expect(delay.status == .failed)
        #expect(delay.error?.hasPrefix("history could not be written: ") == true)
        #expect(summary.historyFailure != nil)
        #expect(summary.historyLostRows > 0)
        #expect(summary.read == 2)  // the first event, and the line in hand when the failure was seen
        #expect(summary.stopped)
        #expect(output.problems.contains("symphony: history could not be written; reading no more input"))
    }

    /// Logs, in order, what the output and the history were asked to do.
    final class OrderLog: Sendable {
        let entries = Locked<[String]>([])
        func add(_ entry: String) { entries.withLock { $0.append(entry) } }
    }

    final class LoggingOutput: OutputSink {
        let log: OrderLog
        let reportsOutcomes: Bool
        init(log: OrderLog, reportsOutcomes: Bool = false) {
            self.log = log
            self.reportsOutcomes = reportsOutcomes
        }
        func emitted(_ event: Event) { log.add("emit \(event.type)") }
        func handled(_ outcomes: [ActionOutcome]) { log.add("show " + outcomes.map(\.action.name).joined(separator: ",")) }
        func problem(_ line: String) {}
        func flush() { log.add("flush") }
    }

    final class LoggingHistory: HistoryRecorder {
        let log: OrderLog
        let inner = InMemoryHistory()
        init(log: OrderLog) { self.log = log }
        var scheduledEntries: any ScheduledEntryStore { inner.scheduledEntries }
        var hasFailed: Bool { false }
        var lostRows: Int { 0 }
        func recordInputs(_ events: [Event], received: [Timestamp], sealed: [SealedEvent?]) {}
        func record(_ executions: [ExecutionRecord], audits: [AuditRecord], completing fired: (entry: FiredEntry, event: Event)?) {
            log.add("record " + executions.map(\.kind.name).joined(separator: ","))
            inner.record(executions, audits: audits, completing: fired)
        }
        func recordRejected(source: String, line: Int?, reason: String, content: [UInt8]) {}
        func audit(_ record: AuditRecord) {}
        func handled(through eventID: String) {}
        func unhandledInputs() throws -> [Event] { [] }
        func markRecordedHandled() throws {}
        func handledEvents(within horizon: Duration, isRelevant: (String) -> Bool) throws -> [Event] { [] }
        func flush() throws {}
        func close() throws {}
    }

    @Test("an emitted line is written out before its outcome is recorded (output is at-least-once across a crash)")
    func emitFlushedBeforeRecord() throws {
        let log = OrderLog()
        var configuration = RunConfiguration(ruleSet: try Self.ruleSet(), principal: "user:test")
        configuration.history = LoggingHistory(log: log)
        configuration.workerCount = 1
        let pipeline = try RunPipeline(configuration: configuration, output: LoggingOutput(log: log), stop: try StopRequest())
        try pipeline.feed(ArrayEventSource(events: [.success(Event(type: "billing.refund", payload: ["customer": "ada"], id: "b-1"))]))
        _ = pipeline.finish()
        let entries = log.entries.withLock { $0 }
        let emitted = try #require(entries.firstIndex(of: "emit billing.queued"))
        let recorded = try #require(entries.firstIndex(of: "record emit,publish"))
        #expect(entries[emitted..<recorded].contains("flush"), "\(entries)")
    }

    @Test("a stop request wakes whoever waits for it, and keeps its first reason")
    func stopWakesWaiter() throws {
        let stop = try StopRequest()
        let woke = Locked(false)
        let waiter = Thread {
            stop.wait()
            woke.withLock { $0 = true }
        }
        waiter.start()
        stop.request(because: "history could not be written")
        stop.request()
        while !woke.withLock({ $0 }) { usleep(1_000) }  // bounded by the suite's time limit
        #expect(stop.reason == "history could not be written")
    }

    @Test("with outcomes shown, an emit's line is written before it is recorded, and a delay's only after its commit")
    func outcomesOrder() throws {
        let log = OrderLog()
        var configuration = RunConfiguration(ruleSet: try Self.ruleSet(), principal: "user:test")
        configuration.history = LoggingHistory(log: log)
        configuration.workerCount = 1
        let pipeline = try RunPipeline(configuration: configuration, output: LoggingOutput(log: log, reportsOutcomes: true), stop: try StopRequest())
        try pipeline.feed(
            ArrayEventSource(events: [
                .success(Event(type: "billing.refund", payload: ["customer": "ada"], id: "b-1")),
                .success(Event(type: "ticket.created", payload: ["customer": "bo", "text": "refund"], id: "t-1")),
            ]))
        _ = pipeline.finish()
        let entries = log.entries.withLock { $0 }
        // billing.refund: emit and publish shown and flushed, then recorded.
        let shownEmit = try #require(entries.firstIndex(of: "show emit,publish"))
        #expect(entries[shownEmit + 1] == "flush")
        #expect(entries[shownEmit + 2] == "record emit,publish")
        // ticket.created: publish and audit shown first, recorded, then the delay once committed.
        let recordedTicket = try #require(entries.firstIndex(of: "record publish,audit,delay"))
        #expect(entries[recordedTicket - 2] == "show publish,audit")
        #expect(entries[recordedTicket + 1] == "show delay")
    }

    @Test("input an earlier run recorded but did not handle is handled first, once; what it handled is not", arguments: [Backend.inMemory, Backend.sqlite])
    func intakeLog(_ backend: Backend) throws {
        let (recorder, recorded) = try backend.make()
        // As a run killed mid-way leaves it: four inputs recorded, the first marked handled, the
        // third handled past the mark (its outcome recorded), the second and fourth not handled.
        let inputs: [Event] = (1...4).map { (number: Int) -> Event in
            Event(type: "ticket.created", payload: ["customer": .string("c\(number)"), "text": "hello"], id: "t-\(number)")
        }
        recorder.recordInputs(inputs, received: inputs.map { _ in Timestamp.now() }, sealed: inputs.map { _ -> SealedEvent? in nil })
        recorder.record(
            [ExecutionRecord(eventID: "t-3", eventType: "ticket.created", rule: "greet", kind: .audit, outcome: .ok, message: "hi c3", started: .now(), finished: .now())],
            audits: [])
        recorder.handled(through: "t-1")
        try recorder.flush()
        #expect(try recorder.unhandledInputs().map(\.id) == ["t-2", "t-4"])

        let rules = """
            rules:
              - name: greet
                on: ticket.created
                actions: [{audit: "hi {{ payload.customer }}"}]
            """
        let (ruleSet, diagnostics) = RuleSetLoader.load(documents: [(file: "rules.yaml", text: rules)])
        var configuration = RunConfiguration(ruleSet: try #require(ruleSet, "\(diagnostics.sorted)"), principal: "user:test")
        configuration.history = recorder
        let pipeline = try RunPipeline(configuration: configuration, output: DiscardingOutput(), stop: try StopRequest())
        try pipeline.feed(ArrayEventSource(events: [.success(Event(type: "ticket.created", payload: ["customer": "c5", "text": "x"], id: "t-5"))]))
        let summary = pipeline.finish()
        #expect(summary.recovered == 2)
        #expect(summary.read == 1)
        #expect(try recorded().executions == ["greet audit ok hi c2", "greet audit ok hi c3", "greet audit ok hi c4", "greet audit ok hi c5"])
        // Nothing is left to recover for the next run.
        if backend.name == "in-memory" { #expect(try recorder.unhandledInputs().isEmpty) }
    }

    @Test("after a clean run whose last events no rule acted on, the next run recovers nothing")
    func cleanRunLeavesNothingToRecover() throws {
        let path = NSTemporaryDirectory() + "symphony-pipeline-clean-" + UUID().uuidString + ".db"
        let key = try EncryptionKey(bytes: [UInt8](repeating: 7, count: 32))
        for round in 1...2 {
            var configuration = RunConfiguration(ruleSet: try Self.ruleSet(), principal: "user:test")
            configuration.history = try HistoryStore(path: path, key: key)
            let pipeline = try RunPipeline(configuration: configuration, output: DiscardingOutput(), stop: try StopRequest())
            // No rule acts on these: nothing but the intake mark says they were handled.
            try pipeline.feed(ArrayEventSource(events: (1...100).map { .success(Event(type: "ignored", id: "r\(round)-\($0)")) }))
            let summary = pipeline.finish()
            #expect(summary.recovered == 0, "round \(round)")
        }
    }

    /// A history that holds back the record that completes a fired entry until the test opens its gate.
    final class GatedHistory: HistoryRecorder {
        let inner: any HistoryRecorder
        /// Signalled when a record completing a fired entry arrives.
        let arrived = DispatchSemaphore(value: 0)
        /// Signalled by the test to let such a record through.
        let gate = DispatchSemaphore(value: 0)
        /// "entry-id rule,rule" for each record that completed an entry, in order.
        let completed = Locked<[String]>([])
        init(_ inner: any HistoryRecorder) { self.inner = inner }
        var scheduledEntries: any ScheduledEntryStore { inner.scheduledEntries }
        var hasFailed: Bool { inner.hasFailed }
        var lostRows: Int { inner.lostRows }
        func recordInputs(_ events: [Event], received: [Timestamp], sealed: [SealedEvent?]) { inner.recordInputs(events, received: received, sealed: sealed) }
        func record(_ executions: [ExecutionRecord], audits: [AuditRecord], completing fired: (entry: FiredEntry, event: Event)?) {
            if let fired {
                arrived.signal()
                gate.wait()
                completed.withLock { $0.append("\(fired.entry.id.rawValue) \(executions.map(\.rule).joined(separator: ","))") }
            }
            inner.record(executions, audits: audits, completing: fired)
        }
        func recordRejected(source: String, line: Int?, reason: String, content: [UInt8]) {
            inner.recordRejected(source: source, line: line, reason: reason, content: content)
        }
        func audit(_ record: AuditRecord) { inner.audit(record) }
        func handled(through eventID: String) { inner.handled(through: eventID) }
        func unhandledInputs() throws -> [Event] { try inner.unhandledInputs() }
        func markRecordedHandled() throws { try inner.markRecordedHandled() }
        func handledEvents(within horizon: Duration, isRelevant: (String) -> Bool) throws -> [Event] {
            try inner.handledEvents(within: horizon, isRelevant: isRelevant)
        }
        func flush() throws { try inner.flush() }
        func close() throws { try inner.close() }
    }

    @Test(
        "a fired delayed event's entry stays pending until its handling is recorded, and is completed with that record (also when no rule acted)",
        arguments: [Backend.inMemory, Backend.sqlite])
    func firedEntryCompletedWithItsRecord(_ backend: Backend) throws {
        let (inner, _) = try backend.make()
        let past = Timestamp(secondsSinceEpoch: 1_000)
        let causation = Causation(parentID: "t-0", rule: "refund", hop: 1)
        // Overdue delays the `refund` rule made: they fire as the run starts. Rules act on the first only.
        try inner.scheduledEntries.save(
            ScheduledEntry(
                id: ScheduleID(rawValue: "s-acted"), event: Event(type: "billing.refund", payload: ["customer": "ada"], id: "d-1", causation: causation),
                due: past))
        try inner.scheduledEntries.save(
            ScheduledEntry(id: ScheduleID(rawValue: "s-quiet"), event: Event(type: "ticket.follow_up", id: "d-2", causation: causation), due: past))
        try inner.flush()
        let history = GatedHistory(inner)
        var configuration = RunConfiguration(ruleSet: try Self.ruleSet(), principal: "user:test")
        configuration.history = history
        configuration.workerCount = 1
        let pipeline = try RunPipeline(configuration: configuration, output: DiscardingOutput(), stop: try StopRequest())
        // The first fired event was handled; its record waits at the gate: the entries are still pending.
        history.arrived.wait()
        try inner.flush()
        #expect(try inner.scheduledEntries.loadPending().map(\.id.rawValue).sorted() == ["s-acted", "s-quiet"])
        history.gate.signal()
        history.gate.signal()
        try pipeline.feed(ArrayEventSource(events: []))
        let summary = pipeline.finish()
        #expect(summary.processed == 3)  // the two fired events and the alert `page` published
        #expect(history.completed.withLock { $0 } == ["s-acted bill,page", "s-quiet "])
        #expect(try inner.scheduledEntries.loadPending().isEmpty)
    }

    @Test("a delayed event is sealed once: its scheduled entry, its events row and the envelope the queue gets when it fires are the same bytes")
    func delayedEventSealedOnce() throws {
        let path = NSTemporaryDirectory() + "symphony-pipeline-sealed-" + UUID().uuidString + ".db"
        let key = try EncryptionKey(bytes: [UInt8](repeating: 7, count: 32))
        let store = try HistoryStore(path: path, key: key)
        let clock = ManualClock(start: Timestamp(secondsSinceEpoch: 1_000))
        var configuration = RunConfiguration(ruleSet: try Self.ruleSet(), principal: "user:test")
        configuration.history = store
        configuration.encryption = .keyRing(KeyRing(active: key))  // the queue seals under the history's key, as `symphony run` does
        configuration.clock = clock
        configuration.workerCount = 1
        let pipeline = try RunPipeline(configuration: configuration, output: DiscardingOutput(), stop: try StopRequest())
        let queued = Locked<[UInt8]?>(nil)  // the envelope handed over with the queued event when the entry fires
        try pipeline.system.subscribe("ticket.follow_up", completingFiredEntries: { _, fired in queued.withLock { $0 = fired?.sealed?.envelope } })
        try pipeline.feed(ArrayEventSource(events: [.success(Event(type: "ticket.created", payload: ["customer": "ada", "text": "refund"], id: "t-1"))]))
        pipeline.system.dispatcher.waitUntilIdle()
        clock.advance(by: .seconds(3_600))  // the follow-up fires
        let summary = pipeline.finish()
        #expect(summary.pending == 0)
        let database = try SQLiteDatabase(path: path, readOnly: true, create: false)
        let rows = try database.prepare(
            "SELECT s.state, s.envelope, e.payload, e.type FROM scheduled s JOIN events e ON e.id = s.event_id"
        ).rows { ($0.text(0) ?? "", $0.blob(1) ?? [], $0.blob(2) ?? [], $0.text(3) ?? "") }
        let (state, stored, payload, type) = try #require(rows.first)
        #expect(rows.count == 1 && state == "done" && type == "ticket.follow_up")
        #expect(!stored.isEmpty && stored == payload)
        #expect(queued.withLock { $0 } == stored)
        #expect(EnvelopeFormat.keyID(of: stored) == key.id)
    }
}
