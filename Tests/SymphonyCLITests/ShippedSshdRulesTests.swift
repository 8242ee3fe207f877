import Foundation
import Testing

/// The shipped `rules/sshd` jail over the shipped `samples/sshd.log`: the documented bans, alerts and summary.
@Suite(.timeLimit(.minutes(12))) struct ShippedSshdRulesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func payloads(_ lines: [String], type: String) -> [[String: Any]] {
        lines.compactMap { line -> [String: Any]? in
            guard let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], event["type"] as? String == type else { return nil }
            return event["payload"] as? [String: Any]
        }
    }

    @Test("five failed logins within ten minutes ban an address (IPv4 and IPv6); five spread over fourteen minutes do not")
    func bans() throws {
        let result = try CommandRunner.run([
            "run", "--rules", Self.root.appendingPathComponent("rules/sshd").path, "--lines", "sshd.log",
            "--events", Self.root.appendingPathComponent("samples/sshd.log").path, "--workers", "1", "--no-history",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let bans = Self.payloads(result.stdoutLines, type: "ssh.ban")
        #expect(bans.map { $0["ip"] as? String } == ["203.0.113.7", "2001:db8::bad:1"])
        #expect(bans.map { $0["count"] as? Int } == [5, 5])
        #expect(bans.map { $0["host"] as? String } == ["web-1", "web-1"])
        // The window runs on the lines' own times (the year is inferred from the reading time).
        #expect((bans.first?["first"] as? String)?.hasSuffix("-11-29T03:11:44.000000000Z") == true)
        #expect((bans.first?["last"] as? String)?.hasSuffix("-11-29T03:13:02.000000000Z") == true)
        #expect((bans.last?["first"] as? String)?.hasSuffix("-11-29T03:15:31.000000000Z") == true)
        #expect((bans.last?["last"] as? String)?.hasSuffix("-11-29T03:15:47.000000000Z") == true)

        let alerts = Self.payloads(result.stdoutLines, type: "alert.ssh.root_attempt")
        #expect(alerts.map { $0["ip"] as? String } == ["203.0.113.7", "2001:db8::bad:1"], "one root alert per address: the throttle holds the rest")
        #expect(result.stdoutLines.count == 4)

        #expect(result.stderrLines.contains { $0.hasSuffix("sshd.log:11: does not match the 'sshd.log' line pattern; kept as message only; it takes the time of the line before it") })
        let summary = try #require(result.stderrLines.last)
        #expect(summary.hasPrefix("symphony: 21 events read (1 only partly parsed by the line parser, kept), 0 rejected, 38 processed, 38 rules fired;"), "\(summary)")
        #expect(summary.contains("gates held 19 matching events (count windows 14; throttles 5)"), "\(summary)")
    }
}
