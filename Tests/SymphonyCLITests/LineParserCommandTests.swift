import Foundation
import Testing

/// `symphony run --lines TYPE` with a rule set that declares a line parser for TYPE, and a
/// `count:` rule on the parsed fields: the fail2ban job ("ban after N failures within T").
@Suite(.timeLimit(.minutes(12))) struct LineParserCommandTests {
    static let rules = """
        patterns:
          SSHD: '%{SYSLOGTIMESTAMP:time} %{HOSTNAME:host} sshd\\[%{INT:pid:int}\\]:'
        lines:
          sshd.line:
            match: '^%{SSHD} Failed password for (?:invalid user )?%{USER:user} from %{IP:ip} port %{INT:port:int}'
            time: {field: time, format: '%b %e %T'}
        rules:
          - name: ban
            on: sshd.line
            when: {field: payload.ip, exists: true}
            count: {key: "{{ payload.ip }}", at_least: 3, within: 10m}
            actions:
              - emit: {type: ssh.ban, payload: {ip: "{{ window.key }}", failures: "{{ window.count }}", first: "{{ window.first }}", port: "{{ payload.port }}"}}

        """

    static let log = """
        Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2
        Dec 10 06:55:48 LabSZ sshd[24200]: Connection closed by 173.234.31.186 [preauth]
        Dec 10 07:00:47 LabSZ sshd[24203]: Failed password for root from 173.234.31.186 port 38990 ssh2
        Dec 10 07:01:00 LabSZ sshd[24204]: Failed password for root from 5.36.59.76 port 42393 ssh2
        Dec 10 07:05:46 LabSZ sshd[24206]: Failed password for root from 173.234.31.186 port 39100 ssh2
        Dec 10 07:05:47 LabSZ sshd[24207]: Failed password for root from 173.234.31.186 port 39101 ssh2
        Dec 99 07:05:47 LabSZ sshd[24207]: Failed password for root from 5.36.59.76 port 39101 ssh2

        """

    @Test("lines become typed events at their own time; the count rule bans once per 3 failures within 10 minutes; unreadable parts are reported and kept")
    func failToBan() throws {
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8))
        let result = try CommandRunner.run(["run", "--rules", rules, "--lines", "sshd.line", "--workers", "1", "--no-history"], stdin: Self.log)
        #expect(result.status == 0)
        let bans = result.stdoutLines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["payload"] as? [String: Any]
        }
        #expect(bans.count == 1)
        #expect(bans.first?["ip"] as? String == "173.234.31.186")
        #expect(bans.first?["failures"] as? Int == 3)
        #expect(bans.first?["port"] as? Int == 39100, "a typed capture stays a number")
        #expect((bans.first?["first"] as? String)?.hasSuffix("-12-10T06:55:46.000000000Z") == true, "the window runs on the lines' own times")
        #expect(result.stderrLines.contains("<stdin>:2: does not match the 'sshd.line' line pattern; kept as message only; it takes the time of the line before it"))
        #expect(result.stderrLines.contains("<stdin>:7: the time in 'time' does not parse as '%b %e %T'; it takes the time of the line before it"))
        let summary = try #require(result.stderrLines.last)
        #expect(summary.hasPrefix("symphony: 7 events read (2 only partly parsed by the line parser, kept), 0 rejected, 7 processed, 1 rules fired;"))
        #expect(summary.contains("gates held 5 matching events (count windows 5; throttles 0)"), "the line without a time counts at its reading time")
    }
}
