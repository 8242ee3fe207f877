import SymphonyPipeline
import SymphonyRecords
import SymphonyRules
import SymphonyStore

/// Re-reads a running command's rule files and swaps them in (`ServedRun.reload`), or refuses
/// a rule set with errors (or one the run cannot take) and keeps the running one; audits either way. SIGHUP in `run` and
/// `serve`, and `POST /v1/reload`.
struct RuleSetReloader: Sendable {
    let rules: [String]
    let keyFile: String?
    let target: any ServedRun
    let history: (any AuditRecording)?
    let principal: String

    /// Reloads; `trigger` says what asked for it (`SIGHUP`, `POST /v1/reload`), for messages and the audit trail.
    func reload(trigger: String, as requester: String? = nil) -> ReloadOutcome {
        let (documents, readProblems) = RuleDocuments.read(rules, keyFile: keyFile)
        let (loaded, diagnostics) = RuleSetLoader.load(documents: documents)
        let errors = (readProblems.all + diagnostics.sorted).filter { $0.severity == .error }.map(\.description)
        guard let ruleSet = loaded, !readProblems.hasErrors, errors.isEmpty else {
            history?.audit(
                AuditRecord(
                    principal: requester ?? principal, operation: .rulesLoad, target: rules.joined(separator: " "), outcome: "failed",
                    details: "reload on \(trigger) refused: \(errors.count) errors; the running rules stay in force"))
            return ReloadOutcome(reloaded: false, rules: target.ruleSet.rules.count, errors: errors)
        }
        do {
            try target.reload(ruleSet)
        } catch {
            history?.audit(
                AuditRecord(
                    principal: requester ?? principal, operation: .rulesLoad, target: rules.joined(separator: " "), outcome: "failed",
                    details: "reload on \(trigger) refused: \(error); the running rules stay in force"))
            return ReloadOutcome(reloaded: false, rules: target.ruleSet.rules.count, errors: ["\(error)"])
        }
        history?.audit(
            AuditRecord(
                principal: requester ?? principal, operation: .rulesLoad, target: rules.joined(separator: " "), outcome: "ok",
                details: "reloaded on \(trigger): \(ruleSet.rules.count) rules, \(ruleSet.recognizer.definitions.count) intents"))
        return ReloadOutcome(reloaded: true, rules: ruleSet.rules.count, errors: [])
    }
}
