import SymphonyEvents
import SymphonyJSON
import SymphonyRules
import Testing

/// Named patterns, typed captures, time formats and line parsers.
@Suite struct LineParserTests {
    static func time(_ text: String) -> Timestamp { TimestampParser.parse(text)! }

    @Test("%{NAME}, %{NAME:field} and %{NAME:field:type} expand, nested fragments included")
    func expansion() throws {
        var library = PatternLibrary()
        library.define("HEAD", as: "%{SYSLOGTIMESTAMP:time} %{HOSTNAME:host}")
        let (pattern, types) = try library.expand("^%{HEAD} port %{INT:port:int} %{WORD}$").get()
        #expect(pattern.hasPrefix("^(?:(?<time>"))
        #expect(pattern.contains("(?<port>[+-]?\\d+)"))
        #expect(pattern.hasSuffix(" (?:\\w+)$"))
        #expect(types == ["port": .int])
        #expect(try library.expand(#"100\%{INT}"#).get().pattern == #"100\%{INT}"#, "an escaped % stays literal")
    }

    @Test("bad references are errors with their offset", arguments: [
        ("x %{NOPE}", "unknown pattern 'NOPE'", 2),
        ("%{IPV}", "unknown pattern 'IPV'; did you mean 'IP'?", 0),
        ("%{INT:port:integer}", "unknown capture type 'integer'; use string, int, float, bool", 0),
        ("%{INT:2x}", "capture name '2x' must be letters, digits and '_', not starting with a digit", 0),
        ("ab %{INT", "'%{' is not closed with '}'", 3),
        ("%{LOOP}", "in pattern 'LOOP': pattern 'LOOP' refers to itself (LOOP → LOOP)", 0),
    ])
    func badReferences(source: String, message: String, offset: Int) {
        var library = PatternLibrary()
        library.define("LOOP", as: "a%{LOOP}")
        guard case .failure(let problem) = library.expand(source) else {
            Issue.record("\(source) expanded")
            return
        }
        #expect(problem.message == message)
        #expect(problem.offset == offset)
    }

    @Test("strftime-style formats", arguments: [
        ("10/Dec/2026:06:55:46 +0100", "%d/%b/%Y:%H:%M:%S %z", "2026-12-10T05:55:46Z"),
        ("2026-12-10 06:55:46.25", "%F %T.%f", "2026-12-10T06:55:46.25Z"),
        ("2026-12-10T06:55:46-02:30", "%FT%T%z", "2026-12-10T09:25:46Z"),
        ("December  1 99 23:59:59", "%B %e %y %T", "1999-12-01T23:59:59Z"),
        ("1765349746", "%s", "2025-12-10T06:55:46Z"),
        ("2024-02-29 00:00:00", "%F %T", "2024-02-29T00:00:00Z"),
    ])
    func strftime(text: String, format: String, expected: String) {
        #expect(StrftimeParser.parse(text, format: format) == Self.time(expected))
    }

    @Test("times that do not fit their format are refused", arguments: [
        ("2026-13-10 06:55:46", "%F %T"), ("2025-02-29 00:00:00", "%F %T"), ("2026-12-10 06:55:46 extra", "%F %T"),
        ("10/Dez/2026", "%d/%b/%Y"), ("2026-12-10 24:00:00", "%F %T"), ("", "%s"),
    ])
    func refused(text: String, format: String) {
        #expect(StrftimeParser.parse(text, format: format) == nil)
    }

    @Test("syslog times take the reading time's year, or the year before across the December→January turn")
    func syslogYear() {
        let january = Self.time("2027-01-02T00:00:00Z")
        #expect(TimeFormat.syslog.parse("Dec 31 23:59:59", reference: january) == Self.time("2026-12-31T23:59:59Z"))
        #expect(TimeFormat.syslog.parse("Jan  1 00:00:01", reference: january) == Self.time("2027-01-01T00:00:01Z"))
        // Up to a day ahead of the reading time still counts as this year (clocks differ a little).
        #expect(TimeFormat.syslog.parse("Jan  2 23:00:00", reference: january) == Self.time("2027-01-02T23:00:00Z"))
        #expect(TimeFormat.syslog.parse("Jan  4 00:00:00", reference: january) == Self.time("2026-01-04T00:00:00Z"))
        #expect(TimeFormat.syslog.parse("Feb 30 00:00:00", reference: january) == nil)
    }

    @Test("epoch formats and RFC 3339")
    func otherFormats() {
        let now = Self.time("2026-12-03T00:00:00Z")
        #expect(TimeFormat(name: "epoch")?.parse("1765349746.5", reference: now) == Self.time("2025-12-10T06:55:46.5Z"))
        #expect(TimeFormat(name: "epoch_ms")?.parse("1765349746500", reference: now) == Self.time("2025-12-10T06:55:46.5Z"))
        #expect(TimeFormat(name: "epoch")?.parse("nan", reference: now) == nil)
        #expect(TimeFormat(name: "rfc3339")?.parse("2025-12-10T06:55:46Z", reference: now) == Self.time("2025-12-10T06:55:46Z"))
        #expect(TimeFormat(name: "iso") == nil)
    }

    static let rules = """
        patterns:
          SSHD: '%{SYSLOGTIMESTAMP:time} %{HOSTNAME:host} sshd\\[%{INT:pid:int}\\]:'
        lines:
          sshd.line:
            match: '^%{SSHD} Failed password for %{USER:user} from %{IP:ip} port %{INT:port:int}'
            time: {field: time, format: syslog}
        rules:
          - name: failures
            on: sshd.line
            when: {field: payload.ip, matches: '^%{IPV4}$'}
            actions: [stop]
        """

    @Test("a line parser types its captures, reads the time, and keeps what it cannot read")
    func decode() throws {
        let parser = try #require(try validRules(Self.rules).lineParsers["sshd.line"])
        let reference = Self.time("2026-12-20T00:00:00Z")
        let line = "Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for root from 173.234.31.186 port 38926 ssh2"
        let decoded = parser.decode(line, reference: reference)
        #expect(decoded.problem == nil)
        #expect(decoded.time == Self.time("2026-12-10T06:55:46Z"))
        #expect(decoded.payload["port"] == .int(38926))
        #expect(decoded.payload["pid"] == .int(24200))
        #expect(decoded.payload["ip"] == "173.234.31.186")
        #expect(decoded.payload["message"] == .string(line))

        let other = parser.decode("Dec 10 06:55:48 LabSZ sshd[24200]: Connection closed", reference: reference)
        #expect(other.payload == ["message": "Dec 10 06:55:48 LabSZ sshd[24200]: Connection closed"])
        #expect(other.time == nil)
        #expect(other.problem == "does not match the 'sshd.line' line pattern; kept as message only")

        let badTime = parser.decode("Dec 99 06:55:46 h sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2", reference: reference)
        #expect(badTime.time == nil)
        #expect(badTime.problem == "the time in 'time' does not parse as syslog")
        #expect(badTime.payload["port"] == .int(22), "the other fields are still read")
    }

    @Test("patterns and line parsers get located errors", arguments: [
        ("patterns: {IP2: '%{NOPE}'}", "rules.yaml:1:18: error: invalid regex: unknown pattern 'NOPE'"),
        ("patterns: {9x: 'a'}", "pattern name '9x' must be letters, digits and '_', starting with a letter"),
        ("lines: {Bad Type: {match: 'x'}}", "rules.yaml:1:9: error:"),
        ("lines: {a.b: {match: '(?<t>x)', time: {field: tt, format: syslog}}}", "'tt' is not captured by the 'match' regex; did you mean 't'?"),
        ("lines: {a.b: {match: '(?<t>x)', time: {field: t, format: iso}}}", "unknown time format 'iso'"),
        ("lines: {a.b: {match: '(?<t>x)', time: {field: t, format: '%Y %Q'}}}", "time format directive '%Q' is not supported"),
        ("lines: {a.b: {match: '%{INT:n:int}('}}", "invalid regex: Missing closing parenthesis. (after expanding its %{…} patterns)"),
        ("lines: {a.b: {pattern: 'x'}}", "unknown key 'pattern' in line parser 'a.b'"),
    ])
    func diagnostics(section: String, expected: String) throws {
        let (ruleSet, lines) = try loadRules(["rules.yaml": section + "\nrules: [{name: r, on: t, actions: [stop]}]\n"])
        #expect(ruleSet == nil)
        #expect(lines.contains { $0.contains(expected) }, "\(lines)")
    }

    @Test("times a 64-bit nanosecond timestamp cannot hold are refused, never a crash", arguments: [
        ("epoch", "10000000000"), ("epoch", "-9300000000"), ("epoch_ms", "9223372036854775807"), ("%s", "999999999999"),
        ("%F %T", "2300-01-01 00:00:00"), ("%F %T", "1600-01-01 00:00:00"),
    ])
    func outOfRange(format: String, text: String) throws {
        let parsed = try #require(TimeFormat(name: format)).parse(text, reference: Self.time("2026-12-03T00:00:00Z"))
        #expect(parsed == nil)
    }

    @Test("year inference also takes the year after for a log a little ahead of the clock; %% is no directive; a negative epoch keeps its fraction's sign")
    func yearAfterAndEdges() throws {
        let newYearsEve = Self.time("2026-12-31T23:00:00Z")
        #expect(TimeFormat.syslog.parse("Jan  1 00:30:00", reference: newYearsEve) == Self.time("2027-01-01T00:30:00Z"))
        #expect(TimeFormat.syslog.parse("Dec 31 22:00:00", reference: newYearsEve) == Self.time("2026-12-31T22:00:00Z"))
        let literalPercent = try #require(TimeFormat(name: "%%Y %b %e %T"))
        #expect(literalPercent.parse("%Y Dec  1 10:00:00", reference: newYearsEve) == Self.time("2026-12-01T10:00:00Z"), "%%Y is a literal: the year is inferred")
        #expect(StrftimeParser.parse("-1.5", format: "%s.%f") == Timestamp(nanosecondsSinceEpoch: -1_500_000_000))
    }

    @Test("epoch seconds are decimal, their fraction exact")
    func epochExact() throws {
        let reference = Self.time("2026-12-03T00:00:00Z")
        #expect(TimeFormat.epochSeconds.parse("1765349746.25", reference: reference) == Self.time("2025-12-10T06:55:46.25Z"))
        #expect(TimeFormat.epochSeconds.parse("1765349746.123456789", reference: reference)?.nanosecondsSinceEpoch == 1_765_349_746_123_456_789)
        #expect(TimeFormat.epochSeconds.parse("0x10", reference: reference) == nil)
        #expect(TimeFormat.epochSeconds.parse("1e9", reference: reference) == nil)
    }
}
