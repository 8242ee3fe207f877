import Foundation
import Testing

/// `symphony test`: rule tests on a virtual clock, their report, JUnit output and errors.
@Suite struct TestCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let rules = """
        rules:
          - name: ban
            on: login.failed
            when: { field: payload.ip, exists: true }
            count: { key: "{{ payload.ip }}", at_least: 3, within: 10m }
            actions:
              - emit: { type: ip.ban, payload: { ip: "{{ window.key }}", count: "{{ window.count }}" } }
          - name: remind
            on: order.placed
            when: { field: payload.total, gt: 100 }
            actions:
              - delay: { after: 2d, type: order.reminder, payload: { order: "{{ payload.order }}" } }
              - audit: "reminder set for {{ payload.order }}"
        """

    /// A directory with the rules above and a test file with `tests`.
    func project(tests: String) throws -> String {
        let directory = try freshDirectory()
        try Data(Self.rules.utf8).write(to: URL(fileURLWithPath: directory + "/rules.yaml"))
        try Data(tests.utf8).write(to: URL(fileURLWithPath: directory + "/rules.test.yaml"))
        return directory
    }

    @Test("passing and failing tests: one line each, the failure's expected, found and why-not, a summary, exit 1")
    func passAndFail() throws {
        let directory = try project(
            tests: """
                tests:
                  - name: three failures in ten minutes ban
                    events:
                      - {type: login.failed, payload: {ip: 10.0.0.1}}
                      - {at: 4m, type: login.failed, payload: {ip: 10.0.0.1}}
                      - {at: 9m, type: login.failed, payload: {ip: 10.0.0.1}}
                    expect:
                      - {rule: ban, action: emit, type: ip.ban, payload: {ip: 10.0.0.1, count: 3}, count: 1, at: 9m}
                  - name: a small order gets a reminder
                    events:
                      - {type: order.placed, payload: {order: A-1, total: 20}}
                    expect:
                      - {rule: remind, action: delay, type: order.reminder}
                """)
        let result = try CommandRunner.run(["test", directory])
        #expect(result.status == 1, "\(result.stderr)")
        let lines = result.stdoutLines
        #expect(lines.first == directory + "/rules.test.yaml")
        #expect(lines.contains("  PASS  three failures in ten minutes ban"))
        #expect(lines.contains("  FAIL  a small order gets a reminder"))
        #expect(lines.contains { $0.contains("expected rule remind delay order.reminder") && $0.contains("rules.test.yaml:13:") })
        #expect(lines.contains("          found none"))
        #expect(lines.contains("          why not: rule 'remind' did not fire on:"))
        #expect(lines.contains { $0.hasPrefix("            +0s order.placed (t1): ") && $0.contains("payload.total") })
        #expect(lines.contains("          +0s order.placed t1 {\"order\":\"A-1\",\"total\":20}"))
        #expect(lines.last == "1 passed, 1 failed")
    }

    @Test("time is virtual: a 2-day delay comes due in the test, and a window closes after its length")
    func virtualTime() throws {
        let directory = try project(
            tests: """
                tests:
                  - name: a big order is reminded two days later
                    start: 2026-03-01T12:00:00Z
                    events:
                      - {type: order.placed, payload: {order: B-7, total: 250}}
                    expect:
                      - {rule: remind, action: delay, type: order.reminder, due: 2d}
                      - {rule: remind, action: audit, message: "reminder set for B-7"}
                      - {event: order.reminder, at: 2d, payload: {order: B-7}}
                  - name: failures spread over more than ten minutes do not ban
                    events:
                      - {type: login.failed, payload: {ip: 10.0.0.2}}
                      - {at: 6m, type: login.failed, payload: {ip: 10.0.0.2}}
                      - {at: 12m, type: login.failed, payload: {ip: 10.0.0.2}}
                    expect:
                      - {rule: ban, count: 0}
                    expect_not:
                      - {type: ip.ban}
                """)
        let result = try CommandRunner.run(["test", directory, "--verbose"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdoutLines.last == "2 passed, 0 failed")
        // --verbose shows what happened, with derived ids that repeat from run to run.
        #expect(result.stdoutLines.contains("          +2d order.reminder d1 {\"order\":\"B-7\"}"))
        let again = try CommandRunner.run(["test", directory, "--verbose"])
        #expect(again.stdout == result.stdout)
    }

    @Test("expect_not: an outcome that must not happen fails the test and is listed")
    func forbidden() throws {
        let directory = try project(
            tests: """
                tests:
                  - name: no ban for a known address
                    events:
                      - {type: login.failed, payload: {ip: 10.0.0.3}}
                      - {at: 1m, type: login.failed, payload: {ip: 10.0.0.3}}
                      - {at: 2m, type: login.failed, payload: {ip: 10.0.0.3}}
                    expect_not:
                      - {rule: ban, action: emit}
                """)
        let result = try CommandRunner.run(["test", directory])
        #expect(result.status == 1)
        #expect(result.stdoutLines.contains { $0.contains("expected no rule ban emit") })
        #expect(result.stdoutLines.contains { $0.contains("found 1:") })
        #expect(result.stdoutLines.contains { $0.contains("+2m login.failed → ban emit ip.ban {\"count\":3,\"ip\":\"10.0.0.3\"}") })
    }

    @Test("--format junit: one testsuite per file, a failure element with the report")
    func junit() throws {
        let directory = try project(
            tests: """
                tests:
                  - name: passes
                    events: [{type: order.placed, payload: {order: C-1, total: 500}}]
                    expect: [{rule: remind}]
                  - name: fails <on purpose> & says so
                    events: [{type: order.placed, payload: {order: C-2, total: 5}}]
                    expect: [{rule: remind}]
                """)
        let result = try CommandRunner.run(["test", directory, "--format", "junit"])
        #expect(result.status == 1)
        let xml = result.stdout
        #expect(xml.hasPrefix(#"<?xml version="1.0" encoding="UTF-8"?>"#))
        #expect(xml.contains(#"<testsuites name="symphony test" tests="2" failures="1">"#))
        #expect(xml.contains(#"<testcase name="passes" classname="\#(directory)/rules.test.yaml"/>"#))
        #expect(xml.contains(#"<testcase name="fails &lt;on purpose&gt; &amp; says so""#))
        #expect(xml.contains(#"<failure message="expected rule remind fires"#))
        #expect(xml.hasSuffix("</testsuites>\n"))
    }

    @Test("mistakes in a test file are located errors, with suggestions; nothing runs and the exit is 1")
    func errors() throws {
        let directory = try project(
            tests: """
                tests:
                  - name: typos
                    events:
                      - {at: soon, type: order.placed, payload: {total: 5}}
                    expect:
                      - {rule: remnd, action: delya}
                    expect_not:
                      - {rule: ban, count: 2}
                    expecting: []
                """)
        let result = try CommandRunner.run(["test", directory])
        #expect(result.status == 1)
        let problems = result.problems
        #expect(problems.contains("rules.test.yaml:4:14: error: 'at' must be a duration such as 30s, 5m or 2d, not 'soon'"), "\(problems)")
        #expect(problems.contains("rules.test.yaml:6:16: error: no rule is named 'remnd'; did you mean 'remind'?"), "\(problems)")
        #expect(problems.contains("rules.test.yaml:6:31: error: 'action' must be one of"), "\(problems)")
        #expect(problems.contains("'count' has no place under 'expect_not'"), "\(problems)")
        #expect(problems.contains("rules.test.yaml:9:5: error: unknown key 'expecting' in a test; did you mean 'expect'?"), "\(problems)")
        #expect(result.stdoutLines.last == "0 passed, 0 failed; the files above have errors")
    }

    @Test("a rule directory does not read its test files as rules; run and validate still load it")
    func testFilesAreNotRules() throws {
        let directory = try project(tests: "tests: []\n")
        let validate = try CommandRunner.run(["validate", directory])
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdoutLines.last == "\(directory): valid: 2 rules, 0 intents")
        let none = try CommandRunner.run(["test", directory])
        #expect(none.status == 1)
        #expect(none.problems.contains("no tests ran"))
    }

    @Test("every shipped rule set has tests, and they pass")
    func shippedRuleSets() throws {
        let rules = Self.root.appendingPathComponent("rules").path
        for set in try FileManager.default.contentsOfDirectory(atPath: rules) {
            let files = try FileManager.default.contentsOfDirectory(atPath: rules + "/" + set)
            #expect(files.contains { $0.hasSuffix(".test.yaml") }, "rules/\(set) has no tests")
        }
        let result = try CommandRunner.run(["test", rules])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdoutLines.last?.hasSuffix(" passed, 0 failed") == true)
    }
}
