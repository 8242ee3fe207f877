import Foundation
import Testing

/// Rule files that load but would not do what they say, and YAML that does not parse: each gets
/// a located message that says what to write instead.
@Suite struct RuleMistakeTests {
    func validate(_ rules: String, events: String? = nil) throws -> CommandResult {
        let path = try temporaryFile(named: "rules.yaml", contents: Data(rules.utf8))
        return try CommandRunner.run(["validate", path] + (events == nil ? [] : ["--events", "-"]), stdin: events)
    }

    @Test("array elements in paths: payload.commits[0].id in conditions and templates, [-1] for the last, [N] past the end is missing")
    func arrayIndexing() throws {
        let rules = """
            rules:
              - name: first-commit
                on: github.push
                when: {field: 'payload.commits[0].author', equals: ana}
                actions:
                  - emit: {type: out, payload: {first: "{{ payload.commits[0].id }}", last: "{{ payload.commits[-1].id }}", gone: "{{ payload.commits[5].id }}"}}
              - name: dotted-form
                on: github.push
                when: {field: payload.commits.1.id, exists: true}
                actions: [stop]
            """
        let event = #"{"type":"github.push","payload":{"commits":[{"id":"c1","author":"ana"},{"id":"c2","author":"ben"},{"id":"c3","author":"eve"}]}}"#
        let result = try validate(rules, events: event)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutLines.contains(#"      emit out {"first":"c1","gone":"","last":"c3"}"#), "\(result.stdout)")
        #expect(result.stdoutLines.contains { $0.contains("✔ dotted-form") })

        let broken = try validate(
            """
            rules:
              - name: a
                on: x
                when: {field: 'payload.items[first]', exists: true}
                actions: [stop]
            """)
        #expect(broken.status == 1)
        #expect(broken.problems.contains("field 'payload.items[first]' is not a dotted path such as payload.status or payload.items[0].id"))
    }

    @Test("YAML 1.1 booleans and {{ }} templates in condition operands are warned about, with what to write")
    func operandWarnings() throws {
        let result = try validate(
            """
            rules:
              - name: a
                on: x
                when:
                  - {field: payload.ok, equals: yes}
                  - {field: payload.mode, in: [fast, 'off', n]}
                  - {field: payload.user, equals: "{{ payload.owner }}"}
                actions: [stop]
            """)
        #expect(result.status == 0)
        let problems = result.problems
        #expect(problems.contains("rules.yaml:5:37: warning: 'yes' is read as the boolean true (YAML 1.1's spelling): write true to say so, or quote it ('yes') if you mean the text"), "\(problems)")
        #expect(problems.contains("rules.yaml:6:49: warning: 'n' is read as the text \"n\", not a boolean"), "\(problems)")
        #expect(!problems.contains("'off'"), "a quoted 'off' is text, as written")
        #expect(problems.contains("rules.yaml:7:40: warning: 'equals' compares with the text '{{ payload.owner }}' as written: conditions do not render {{ … }} templates"), "\(problems)")
    }

    @Test("YAML syntax errors show the line, a caret under the column, and a hint for the common ones")
    func syntaxErrors() throws {
        let escape = try validate(
            """
            rules:
              - name: a
                on: x
                when: {field: payload.m, matches: "\\w+"}
                actions: [stop]
            """)
        #expect(escape.status == 1)
        #expect(
            escape.stderrLines.suffix(4).first?.hasSuffix(
                "rules.yaml:4:40: error: YAML syntax error: found unknown escape character (while parsing a quoted scalar at line 4, column 39)") == true)
        #expect(
            escape.stderrLines.suffix(3) == [
                #"  4 |     when: {field: payload.m, matches: "\w+"}"#,
                "    |                                        ^",
                #"  hint: in double quotes a backslash starts an escape (\n, \t, \"); write regexes in single quotes, as in '\w+' (a quote inside is doubled: 'it''s')"#,
            ], "\(escape.stderr)")

        let tab = try validate("rules:\n  - name: a\n\ton: x\n")
        #expect(tab.problems.contains("hint: YAML indents with spaces only: replace the tab with spaces"), "\(tab.stderr)")
        let flow = try validate("rules:\n  - name: a\n    on: x\n    when: {field: payload.c[0].id, exists: true}\n    actions: [stop]\n")
        #expect(flow.problems.contains("hint: inside { … } or [ … ], a value holding , [ ] { } or # must be quoted"), "\(flow.stderr)")
        let indent = try validate("rules:\n  - name: a\n    on: x\n     actions: [stop]\n")
        #expect(indent.problems.contains("  4 |      actions: [stop]\n    |             ^\n  hint: check this line's indentation"), "\(indent.stderr)")
    }

    @Test("rules naming intents without the intents file: one error per intent condition that says what is missing, no echoes")
    func missingIntentsFile() throws {
        let result = try validate(
            """
            rules:
              - name: refund
                on: ticket
                when: {intent: refund_request}
                actions:
                  - emit: {type: refund, payload: {order: "{{ intent.slots.order }}", score: "{{ intent.score }}"}}
            """)
        #expect(result.status == 1)
        #expect(result.stderrLines.count == 1, "\(result.stderr)")
        #expect(result.problems.contains("rules.yaml:4:20: error: undefined intent 'refund_request': the rule set defines no intents — is the file with its 'intents:' section among the paths given?"), "\(result.stderr)")
    }
}
