import Foundation
import Testing

/// The shipped `rules/github` automation over the shipped `samples/github.jsonl`: the documented
/// reminders (scheduled, replaced, kept, cancelled, pending), throttled CI alerts, the force-push
/// count and the push-after-review-request pairing, outcome by outcome.
@Suite(.timeLimit(.minutes(12))) struct ShippedGithubRulesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// One action outcome of `--output ndjson`, reduced to what does not change from run to run.
    struct Outcome: Equatable, CustomStringConvertible {
        let event: String
        let rule: String
        let action: String
        /// The message with generated event ids replaced by `<id>`.
        let message: String?
        let derivedType: String?
        let derivedPayload: [String: Any]?

        var description: String { "\(event) \(rule) \(action) \(message ?? "-") \(derivedType ?? "-")" }

        static func == (lhs: Outcome, rhs: Outcome) -> Bool {
            lhs.event == rhs.event && lhs.rule == rhs.rule && lhs.action == rhs.action && lhs.message == rhs.message && lhs.derivedType == rhs.derivedType
        }
    }

    static func outcome(_ event: String, _ rule: String, _ action: String, _ message: String? = nil, _ derivedType: String? = nil) -> Outcome {
        Outcome(event: event, rule: rule, action: action, message: message, derivedType: derivedType, derivedPayload: nil)
    }

    static func outcomes(_ lines: [String]) throws -> [Outcome] {
        let generatedID = try NSRegularExpression(pattern: "\\b[0-9a-hjkmnp-tv-z]{9}-[0-9a-hjkmnp-tv-z]+\\b")
        return try lines.map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            // Every outcome is ok, except the events the CI-failure throttle suppressed (recorded as skipped).
            #expect(object["status"] as? String == (object["message"].map { "\($0)" }?.hasPrefix("throttle:") == true ? "skipped" : "ok"), "\(line)")
            let message = (object["message"] as? String).map {
                generatedID.stringByReplacingMatches(in: $0, range: NSRange($0.startIndex..., in: $0), withTemplate: "<id>")
            }
            let derived = object["derived"] as? [String: Any]
            return Outcome(
                event: object["event"] as? String ?? "", rule: object["rule"] as? String ?? "", action: object["action"] as? String ?? "",
                message: message, derivedType: derived?["type"] as? String, derivedPayload: derived?["payload"] as? [String: Any])
        }
    }

    func run() throws -> CommandResult {
        try CommandRunner.run([
            "run", "--rules", Self.root.appendingPathComponent("rules/github").path,
            "--events", Self.root.appendingPathComponent("samples/github.jsonl").path, "--workers", "1", "--no-history", "--output", "ndjson",
        ])
    }

    @Test("every outcome of the sample, in order: reminders scheduled, replaced, kept and cancelled; alerts throttled, counted and paired")
    func outcomes() throws {
        let result = try run()
        #expect(result.status == 0, "\(result.stderr)")
        let outcomes = try Self.outcomes(result.stdoutLines)
        let expected: [Outcome] = [
            Self.outcome("gh-02", "review-reminder", "delay", "key review-acme/api#101", "github.reminder.review"),
            Self.outcome("gh-03", "push-after-review-request", "emit", nil, "github.alert.moving_target"),
            Self.outcome("gh-05", "ci-failure-alert", "emit", nil, "github.alert.ci_failed"),
            Self.outcome(
                "gh-06", "ci-failure-alert", "emit",
                "throttle: fired for key acme/api:feature/rate-limit at 2026-11-30T09:05:00.000000000Z, at most once per 1h (1 suppressed since)"),
            Self.outcome("gh-07", "ci-failure-alert", "emit", nil, "github.alert.ci_failed"),
            Self.outcome(
                "gh-09", "ci-failure-alert", "emit",
                "throttle: fired for key acme/api:feature/rate-limit at 2026-11-30T09:05:00.000000000Z, at most once per 1h (2 suppressed since)"),
            Self.outcome("gh-10", "review-reminder", "delay", "key review-acme/api#101: replaced the pending <id>", "github.reminder.review"),
            Self.outcome("gh-11", "ci-failure-alert", "emit", nil, "github.alert.ci_failed"),
            Self.outcome("gh-12", "review-submitted", "cancel", "key review-acme/api#101: cancelled <id>"),
            Self.outcome("gh-15", "review-reminder", "delay", "key review-acme/api#102", "github.reminder.review"),
            Self.outcome("gh-16", "review-reminder", "cancel", "unless github.pull_request.merged: key review-acme/api#102: cancelled <id>"),
            Self.outcome("gh-17", "review-reminder", "delay", "key review-acme/web#103", "github.reminder.review"),
            Self.outcome("gh-18", "review-reminder", "cancel", "unless github.pull_request.closed: key review-acme/web#103: cancelled <id>"),
            Self.outcome("gh-19", "review-reminder", "delay", "key review-acme/web#103", "github.reminder.review"),
            Self.outcome("gh-20", "reply-nudge", "delay", "key nudge-acme/api#105", "github.reminder.reply"),
            Self.outcome("gh-21", "reply-nudge", "delay", "key nudge-acme/api#105: kept the pending <id>; nothing scheduled"),
            Self.outcome("gh-23", "author-replied", "cancel", "key nudge-acme/api#105: cancelled <id>"),
            Self.outcome("gh-24", "review-reminder", "delay", "key review-acme/api#104", "github.reminder.review"),
            Self.outcome("gh-26", "reply-nudge", "delay", "key nudge-acme/api#104", "github.reminder.reply"),
            Self.outcome("gh-31", "force-push-storm", "emit", nil, "github.alert.force_push_storm"),
        ]
        #expect(outcomes == expected, "\(outcomes)")

        let summary = try #require(result.stderrLines.last)
        #expect(
            summary.hasPrefix(
                "symphony: 32 events read, 0 rejected, 32 processed, 16 rules fired; actions: publish 0, delay 9, audit 0, emit 5, stop 0, cancel 4; 0 errors; "
                    + "gates held 8 matching events (count windows 4; throttles 2; unpaired 'after' 2); "), "\(summary)")
        #expect(summary.hasSuffix("; 3 delayed events still pending (lost at exit with --no-history; use --follow to wait)"), "\(summary)")
        #expect(result.stderrLines.count == 1, "\(result.stderr)")
    }

    @Test("the cancels name the very reminders the earlier outcomes scheduled")
    func cancelsNameTheirDelays() throws {
        let result = try run()
        let objects = result.stdoutLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let scheduled = objects.filter { $0["action"] as? String == "delay" }.compactMap { ($0["derived"] as? [String: Any])?["id"] as? String }
        let messages = objects.compactMap { $0["message"] as? String }
        #expect(scheduled.count == 8, "the kept nudge scheduled nothing")
        // gh-10 replaced gh-02's reminder; gh-12 cancelled gh-10's; the unless clauses and gh-23 cancelled theirs.
        #expect(messages.contains("key review-acme/api#101: replaced the pending \(scheduled[0])"))
        #expect(messages.contains("key review-acme/api#101: cancelled \(scheduled[1])"))
        #expect(messages.contains("unless github.pull_request.merged: key review-acme/api#102: cancelled \(scheduled[2])"))
        #expect(messages.contains("unless github.pull_request.closed: key review-acme/web#103: cancelled \(scheduled[3])"))
        #expect(messages.contains("key nudge-acme/api#105: kept the pending \(scheduled[5]); nothing scheduled"))
        #expect(messages.contains("key nudge-acme/api#105: cancelled \(scheduled[5])"))
        // Pending at exit: every scheduled reminder no later outcome replaced or cancelled — the
        // reopened PR's reminder, PR 104's reminder and its nudge (the summary counts 3).
        let delays = objects.filter { $0["action"] as? String == "delay" }.compactMap { $0["derived"] as? [String: Any] }
        let ended = Set(messages.filter { !$0.contains("kept") }.compactMap { $0.split(separator: " ").last.map(String.init) })
        let pending = delays.filter { !ended.contains($0["id"] as? String ?? "") }
        #expect(pending.map { $0["type"] as? String } == ["github.reminder.review", "github.reminder.review", "github.reminder.reply"])
        #expect(pending.map { ($0["payload"] as? [String: Any])?["pr"] as? Int } == [103, 104, 104])
    }

    @Test("what the throttle, the count and the after: gate emitted")
    func gatedAlerts() throws {
        let result = try run()
        let emitted = try Self.outcomes(result.stdoutLines).filter { $0.action == "emit" }

        let ci = emitted.filter { $0.derivedType == "github.alert.ci_failed" }.compactMap(\.derivedPayload)
        #expect(ci.map { $0["branch"] as? String } == ["acme/api:feature/rate-limit", "acme/api:main", "acme/api:feature/rate-limit"])
        #expect(ci.map { $0["head"] as? String } == ["4b7d0a1", "e03a9c7", "d2f4b90"])
        #expect(ci.map { $0["held_back"] as? Int } == [0, 0, 2], "09:20 and 09:50 are held; 10:10 is 65 minutes after 09:05")

        let storm = try #require(emitted.first { $0.derivedType == "github.alert.force_push_storm" }?.derivedPayload)
        #expect(storm["repo"] as? String == "acme/api")
        #expect(storm["pushes"] as? Int == 3)
        #expect(storm["first"] as? String == "2026-11-30T16:00:00.000000000Z")
        #expect(storm["last"] as? String == "2026-11-30T16:09:00.000000000Z")

        let moving = try #require(emitted.first { $0.derivedType == "github.alert.moving_target" }?.derivedPayload)
        #expect(moving["branch"] as? String == "acme/api:feature/rate-limit")
        #expect(moving["request"] as? String == "gh-02")
        #expect(moving["requested"] as? String == "2026-11-30T09:00:30.000000000Z")
        #expect(moving["head"] as? String == "9f1c2e4")
    }

    @Test("the rule set validates without diagnostics, and every sample line is accepted by the dry run")
    func validates() throws {
        let result = try CommandRunner.run([
            "validate", Self.root.appendingPathComponent("rules/github").path, "--events", Self.root.appendingPathComponent("samples/github.jsonl").path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "")
    }
}
