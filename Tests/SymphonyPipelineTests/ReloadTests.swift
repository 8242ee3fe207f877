import SymphonyEngine
import SymphonyEvents
import SymphonyJSON
import SymphonyPipeline
import SymphonyRecords
import SymphonyRules
import Testing

/// `RunPipeline.reload`: a new rule set in a running pipeline, gates' state kept where their rule and settings are.
@Suite struct ReloadTests {
    func ruleSet(atLeast: Int, message: String) throws -> RuleSet {
        let text = """
            rules:
              - name: alarm
                on: login.failed
                count: {key: "{{ payload.user }}", at_least: \(atLeast), within: 1h}
                actions: [{audit: "\(message) {{ window.count }}"}]
            """
        let (ruleSet, diagnostics) = RuleSetLoader.load(documents: [(file: "rules.yaml", text: text)])
        return try #require(ruleSet, "\(diagnostics.sorted)")
    }

    func failure(_ user: String) -> Event { Event(type: "login.failed", payload: ["user": .string(user)]) }

    @Test("a reload keeps an unchanged gate's window (only the actions changed); a gate whose settings changed starts empty")
    func keepsUnchangedGates() throws {
        var configuration = RunConfiguration(ruleSet: try ruleSet(atLeast: 3, message: "v1"), principal: "user:test")
        let history = InMemoryHistory()
        configuration.history = history
        configuration.workerCount = 1
        let pipeline = try RunPipeline(configuration: configuration, output: CollectingOutput(), stop: try StopRequest())
        _ = try pipeline.feed(ArrayEventSource(events: [.success(failure("ada")), .success(failure("ada"))]))
        pipeline.waitUntilIdle()
        pipeline.reload(try ruleSet(atLeast: 3, message: "v2"))
        _ = try pipeline.feed(ArrayEventSource(events: [.success(failure("ada"))]))
        pipeline.waitUntilIdle()
        #expect(history.executions.compactMap(\.message) == ["v2 3"])
        pipeline.reload(try ruleSet(atLeast: 2, message: "v3"))
        _ = try pipeline.feed(ArrayEventSource(events: [.success(failure("ada"))]))
        pipeline.waitUntilIdle()
        #expect(history.executions.compactMap(\.message) == ["v2 3"], "the changed gate starts empty: one event of two")
        _ = try pipeline.feed(ArrayEventSource(events: [.success(failure("ada"))]))
        let summary = pipeline.finish()
        #expect(history.executions.compactMap(\.message) == ["v2 3", "v3 2"])
        #expect(summary.rulesFired == 2)
    }
}
