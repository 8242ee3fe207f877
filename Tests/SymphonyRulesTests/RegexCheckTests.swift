import Foundation
import SymphonyRules
import Testing

@Suite struct RegexCheckTests {
    @Test("conditions, named patterns, line parsers and intent patterns are checked for catastrophic backtracking, with locations")
    func backtracking() throws {
        let text = """
            patterns:
              SLOW: '(\\w+\\s?)*'
            lines:
              auth.line:
                match: '^(a|aa)+$'
            intents:
              - name: evil
                patterns: ['order (a+)+$']
            rules:
              - {name: risky, on: log, when: {field: payload.m, matches: '(x+x+)+y'}, actions: [stop]}
              - {name: uses-slow, on: log, when: {field: payload.m, matches: 'user %{SLOW}!'}, actions: [stop]}
            """
        let (ruleSet, lines) = try loadRules(["rules.yaml": text])
        #expect(ruleSet != nil)
        #expect(lines.count == 4, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("rules.yaml:2:10: warning: named pattern 'SLOW' ('(\\w+\\s?)*') backtracks catastrophically: on the ") })
        #expect(lines.contains { $0.hasPrefix("rules.yaml:5:13: warning: regex '^(a|aa)+$' backtracks catastrophically: on the ") })
        #expect(lines.contains { $0.hasPrefix("rules.yaml:8:17: warning: intent 'evil' pattern 'order (a+)+$' backtracks catastrophically") })
        #expect(lines.contains { $0.hasPrefix("rules.yaml:10:63: warning: regex '(x+x+)+y' backtracks catastrophically") })
        // The use of a slow named pattern is not reported again.
        #expect(!lines.contains { $0.contains("user %{SLOW}!") })
        #expect(lines.allSatisfy { $0.contains("PCRE2 stops at the match limit") })
        #expect(lines.contains { $0.contains("its repetition '(a|aa)+' can match the same text in many ways") })
    }

    @Test("patterns that can match the empty string match every text: a warning, except for named patterns")
    func everyText() throws {
        let text = """
            patterns:
              PORT: '(?::\\d+)?'
            lines:
              any.line:
                match: '^(?<rest>.*)$'
              blank.line:
                match: '^$'
            intents:
              - name: greedy
                patterns: ['(?:please)?']
            rules:
              - {name: always, on: log, when: {field: payload.m, matches: 'error|'}, actions: [stop]}
              - {name: empty-value, on: log, when: {field: payload.m, matches: '^\\s*$'}, actions: [stop]}
            """
        let (ruleSet, lines) = try loadRules(["rules.yaml": text])
        #expect(ruleSet != nil)
        #expect(lines == [
            "rules.yaml:5:13: warning: regex '^(?<rest>.*)$' can match the empty string, so it matches every text: every line, blank ones included, becomes an event of type 'any.line'; make some part of it required (a '+' instead of a '*', no '?' after the whole group), or write '^$' to test for an empty value",
            "rules.yaml:10:17: warning: intent 'greedy' pattern '(?:please)?' can match the empty string, so it matches every text and adds its weight to every text's score; make some part of it required (a '+' instead of a '*', no '?' after the whole group)",
            "rules.yaml:12:64: warning: regex 'error|' can match the empty string, so it matches every text: the condition holds for any value of the field; make some part of it required (a '+' instead of a '*', no '?' after the whole group), or write '^$' to test for an empty value",
        ])
    }

    @Test("intent patterns without a literal for the pre-filter get a warning saying the cost and the fix")
    func noLiteral() throws {
        let text = """
            intents:
              - name: vague
                patterns:
                  - '(?:can ?not|unable to)\\s+\\w+'
                  - 'refund now|money back'
                  - 'refund\\s+(?:now|today)'
                  - '(?<order>\\d{4,})'
                  - '\\b(?:refund|money back)\\s+\\w+'
                  - '\\b(?:refund|money back)?\\s+\\w+'
            """
        let (ruleSet, lines) = try loadRules(["intents.yaml": text])
        #expect(ruleSet != nil)
        #expect(lines.count == 4, "\(lines)")
        #expect(lines[0].hasPrefix("intents.yaml:4:10: warning: intent 'vague' pattern '(?:can ?not|unable to)\\s+\\w+' has no literal for the pre-filter, so it runs on every text"))
        #expect(lines[0].contains("3.4 ms per text against 35 µs"))
        #expect(lines[0].hasSuffix("add a word of at least 3 ASCII letters or digits that every match must contain, outside groups, classes and alternation, or a group of such words one of which it must contain (e.g. '(?:cannot|can not|unable to)\\s+\\w+' rather than '(?:can ?not|unable to)\\s+\\w+')"))
        #expect(lines[1].hasPrefix("intents.yaml:5:10: warning: intent 'vague' pattern 'refund now|money back' has no literal"))
        #expect(lines[1].hasSuffix("split its top-level alternatives into separate patterns, each with a word of its own"))
        #expect(lines[2].hasPrefix("intents.yaml:7:10: warning: intent 'vague' pattern '(?<order>\\d{4,})' has no literal"))
        // A required group of words is a literal for the pre-filter; the same group made optional is not.
        #expect(lines[3].hasPrefix("intents.yaml:9:10: warning: intent 'vague' pattern '\\b(?:refund|money back)?\\s+\\w+' has no literal"))
    }

    @Test("realistic log conditions in fail2ban's style give no warning")
    func realisticLogRegexes() throws {
        let conditions = [
            #"^(?:\[\])?\s*(?:\S+\s+)?(?:kernel:\s?\[ *\d+\.\d+\]:?\s+)?(?:\S+\s+)?[\[\(]?sshd(?:\(\S+\))?[\]\)]?:?(?:\[\d+\])?:?\s+(?:error: )?Failed password for (?:invalid user )?(?<user>.*?) from (?<ip>%{IPV4}) port \d+(?: ssh\d)?\s*$"#,
            #"^(?:\S+ )*sshd\[\d+\]: Invalid user (?<user>\S*) from (?<ip>%{IP})(?: port \d+)?(?: \[preauth\])?\s*$"#,
            #"^%{IPORHOST:client} \S+ \S+ \[%{HTTPDATE:time}\] "(?:GET|POST|HEAD) (?:\S+ )*HTTP/\d\.\d" (?:401|403) \d+"#,
            #"pam_unix\(sshd:auth\):\s+authentication failure;(?:\s+(?:(?:logname|e?uid|tty)=\S*)){0,4}\s+ruser=\S*\s+rhost=(?<host>\S+)(?:\s+user=\S*)?\s*$"#,
            #"^%{SYSLOGTIMESTAMP} \S+ postfix/smtpd\[\d+\]: warning: [-._\w]+\[(?<ip>[\d.]+)\]: SASL (?:LOGIN|PLAIN) authentication failed"#,
        ]
        var text = "rules:\n"
        for (index, condition) in conditions.enumerated() {
            text += "  - {name: r\(index), on: log, when: {field: payload.message, matches: '\(condition)'}, actions: [stop]}\n"
        }
        let (ruleSet, lines) = try loadRules(["f2b.yaml": text])
        #expect(ruleSet != nil)
        #expect(lines == [])
    }
}
