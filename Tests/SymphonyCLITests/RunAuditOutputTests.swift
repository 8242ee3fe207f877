import Foundation
import Testing

/// `symphony run` shows what its `audit` actions wrote, not only a count.
@Suite struct RunAuditOutputTests {
    static let rules = """
        rules:
          - name: note
            on: order
            actions: [{audit: "order {{ payload.n }} seen"}]
        """

    @Test("the default output shows the first 20 audit messages on stderr and counts the rest; ndjson and quiet do not")
    func auditMessages() throws {
        let rules = try temporaryFile(named: "rules.yaml", contents: Data(Self.rules.utf8))
        let events = (1...25).map { #"{"type":"order","payload":{"n":\#($0)}}"# }.joined(separator: "\n") + "\n"
        let run = try CommandRunner.run(["run", rules, "--events", "-", "--no-history", "--workers", "1"], stdin: events)
        #expect(run.status == 0, "\(run.stderr)")
        let audits = run.stderrLines.filter { $0.hasPrefix("audit: ") }
        #expect(audits.count == 21, "\(run.stderr)")
        #expect(audits.first == "audit: order 1 seen (rule note)")
        #expect(audits.last == "audit: … and 5 more audit messages ('symphony history' shows them all)")
        #expect(run.stderrLines.last?.contains("audit 25") == true)
        #expect(run.stdout.isEmpty)

        let ndjson = try CommandRunner.run(["run", rules, "--events", "-", "--no-history", "--format", "ndjson"], stdin: events)
        #expect(!ndjson.stderr.contains("audit: order"))
        #expect(ndjson.stdoutLines.filter { $0.contains(#""message":"order "#) }.count == 25)
        let quiet = try CommandRunner.run(["run", rules, "--events", "-", "--no-history", "--format", "quiet"], stdin: events)
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
    }
}
