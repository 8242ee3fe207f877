import SymphonyEngine
import SymphonyEvents
import SymphonyRecords
import SymphonyPipeline

/// `symphony run`'s summary line on standard error and its exit status.
enum RunReport {
    /// The summary line.
    static func line(_ summary: RunSummary, historyKept: Bool) -> String {
        let seconds = max(1e-9, Double(summary.duration.nanoseconds) / 1e9)
        // Every kind, except `cancel` in runs that cancel nothing (most rule sets have none).
        let kinds = ActionKind.allCases.filter { ($0 != .cancel && !$0.isSideEffect) || summary.actions[$0.name, default: 0] > 0 }
            .map { "\($0.name) \(grouped(summary.actions[$0.name, default: 0]))" }
        return "symphony: "
            + (summary.recovered > 0 ? "\(grouped(summary.recovered)) events recorded by an earlier run that stopped before handling them were handled first; " : "")
            + (summary.restoredGateEvents > 0
                ? "rules with memory restored their state from \(grouped(summary.restoredGateEvents)) recorded events; " : "")
            + "\(grouped(summary.read)) events read"
            + (summary.replacedInvalidUTF8 > 0 ? " (\(grouped(summary.replacedInvalidUTF8)) with invalid UTF-8 replaced by U+FFFD)" : "")
            + (summary.partlyParsed > 0 ? " (\(grouped(summary.partlyParsed)) only partly parsed by the line parser, kept)" : "")
            + ", \(grouped(summary.rejected)) rejected, "
            + (summary.denied > 0 ? "\(grouped(summary.denied)) denied, " : "")
            + "\(grouped(summary.processed)) processed, "
            + "\(grouped(summary.rulesFired)) rules fired; actions: \(kinds.joined(separator: ", ")); "
            + "\(grouped(summary.errors)) errors"
            + (summary.conditionProblems > 0 ? " (and \(grouped(summary.conditionProblems)) regex conditions stopped at their match limit)" : "")
            + gates(summary.gates)
            + sideEffects(summary, historyKept: historyKept)
            + "; \(grouped(Int(Double(summary.read) / seconds))) events/s"
            + (summary.pending > 0
                ? "; \(grouped(summary.pending)) delayed event\(summary.pending == 1 ? "" : "s") still pending "
                    + (historyKept
                        ? (summary.historyFailure == nil ? "(stored: a later run fires them when due, or use --follow)" : "(not all stored: history failed)")
                        : "(lost at exit with --no-history; use --follow to wait)")
                : "")
            + otherRuleSets(summary.pendingOfOtherRuleSets)
            + (signal(summary).map { "; interrupted by \($0)" } ?? "")
    }

    /// `SIGINT` or `SIGTERM` when a signal ended the run, else nil.
    static func signal(_ summary: RunSummary) -> String? {
        guard summary.stopped, let reason = summary.stopReason, reason == "SIGINT" || reason == "SIGTERM" else { return nil }
        return reason
    }

    /// "; side effects: 2 retried, 1 dead letter (symphony retry), 5 waited for a free slot, 3 left pending", or nothing.
    private static func sideEffects(_ summary: RunSummary, historyKept: Bool) -> String {
        let delivery = summary.sideEffects
        var parts: [String] = []
        if summary.resumedActions > 0 { parts.append("\(grouped(summary.resumedActions)) queued by an earlier run resumed") }
        if delivery.retried > 0 { parts.append("\(grouped(delivery.retried)) tries retried") }
        if delivery.deadLettered > 0 {
            parts.append("\(grouped(delivery.deadLettered)) gave up (dead letter\(delivery.deadLettered == 1 ? "" : "s"); 'symphony retry' runs them again)")
        }
        if delivery.waited > 0 { parts.append("\(grouped(delivery.waited)) waited for a free slot") }
        if delivery.pending > 0 {
            parts.append(
                "\(grouped(delivery.pending)) not finished "
                    + (historyKept ? "(kept in the history: the next run resumes them)" : "(lost at exit with --no-history)"))
        }
        return parts.isEmpty ? "" : "; side effects: " + parts.joined(separator: ", ")
    }

    /// "; gates held 12 matching events (count windows 9, of them 1 late; throttles 3), 0 keys evicted", or nothing without gates.
    private static func gates(_ gates: GateStatistics) -> String {
        let held = gates.counting + gates.late + gates.suppressed + gates.unpaired
        guard held + gates.evictedKeys > 0 else { return "" }
        return "; gates held \(grouped(held)) matching events (count windows \(grouped(gates.counting + gates.late))"
            + (gates.late > 0 ? ", of them \(grouped(gates.late)) late" : "")
            + "; throttles \(grouped(gates.suppressed))"
            + (gates.unpaired > 0 ? "; unpaired 'after' \(grouped(gates.unpaired))" : "") + ")"
            + (gates.evictedKeys > 0 ? ", \(grouped(gates.evictedKeys)) keys evicted (max_keys)" : "")
    }

    /// "; 3 delayed events of rules not in this rule set left pending (remind: 2, escalate: 1)".
    private static func otherRuleSets(_ pending: [String: Int]) -> String {
        let total = pending.values.reduce(0, +)
        guard total > 0 else { return "" }
        let rules = pending.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(5).map { "\(displayText($0.key)): \(grouped($0.value))" }
        return "; \(grouped(total)) delayed event\(total == 1 ? "" : "s") of rules not in this rule set left pending ("
            + rules.joined(separator: ", ") + (pending.count > 5 ? ", …" : "") + ")"
    }

    /// 74 when history (or the checkpoint) could not be written, 66 when an input could not be
    /// read, 65 when lines were rejected, else 0.
    static func exitStatus(_ summary: RunSummary, checkpointFailed: Bool) -> Int32 {
        if summary.historyFailure != nil || checkpointFailed { return 74 }
        // The shells' convention for a process ended by a signal: 128 + its number.
        if let signal = signal(summary) { return signal == "SIGINT" ? 130 : 143 }
        if summary.inputUnreadable { return 66 }
        return summary.rejected > 0 ? 65 : 0
    }
}
