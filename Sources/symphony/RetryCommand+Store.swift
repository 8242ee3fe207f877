import ArgumentParser
import Foundation
import Glibc
import SymphonyCluster
import SymphonyCrypto
import SymphonyPipeline
import SymphonyPostgres
import SymphonyRecords
import SymphonyRules

/// `symphony retry --store postgres://…`: a cluster's dead letters.
extension RetryCommand {
    /// Lists the cluster's dead letters, or runs them again here (checked against the policy
    /// first), as `retry` does with a SQLite history.
    func runOnStore(url: String) throws {
        let access = try accessOptions.accessGuard()
        try accessOptions.require(.readHistory, with: access)
        guard let key = try StateLocation.loadKey(keyFile, createIfMissing: false) else {
            printError("symphony: --store: the cluster's side effects are sealed with its key: pass it with --key-file (or $SYMPHONY_KEY_FILE)")
            throw ExitCode(1)
        }
        let ruleSet = RuleSet(rules: [], recognizer: try .init([]), sideEffects: try sideEffectSettings())
        let principal = accessOptions.principal
        let configuration = ClusterConfiguration(
            url: url, node: "retry-\(ProcessInfo.processInfo.hostName)-\(getpid())", ruleSet: ruleSet, sealer: EnvelopeSealer(key: key), access: access,
            principal: principal)
        let output = OutputLines()
        defer { output.flush() }
        let sink = TerminalOutput(stdout: OutputLines(), lines: .emittedEvents)
        do {
            let (dead, unopened) = try ClusterRetry.deadLetters(configuration: configuration)
            if !unopened.isEmpty {
                printError("symphony: \(unopened.count) dead letters cannot be opened with this key (\(unopened.prefix(5).joined(separator: ", "))); they are left as they are")
            }
            if list { return write(dead, to: output) }
            let wanted = try wantedKeys(among: dead)
            // Each is checked again: the policy may have changed since it was queued.
            var allowed: [OutboxEntry] = []
            var denials: [AuditRecord] = []
            for (entry, _) in dead where wanted?.contains(entry.key) ?? true {
                do {
                    try access.check(Self.operation(for: entry.request), as: principal)
                    allowed.append(entry)
                } catch {
                    printError("symphony: \(entry.key): \(error.description); it stays a dead letter")
                    denials.append(AuditRecord(principal: principal, operation: .accessDenied, target: entry.key, outcome: "denied", details: error.description))
                }
            }
            if !denials.isEmpty { ClusterRetry.audit(denials, configuration: configuration, output: sink) }
            guard !allowed.isEmpty else {
                if dead.isEmpty { printError("symphony: no dead letters to retry") }
                if dead.isEmpty { return }
                throw ExitCode(77)
            }
            ClusterRetry.audit(
                [
                    AuditRecord(
                        principal: principal, operation: .actionsRetry, target: configuration.node, outcome: "ok",
                        details: "\(allowed.count) dead side effects queued again: " + allowed.prefix(20).map(\.key).joined(separator: ", "))
                ], configuration: configuration, output: sink)
            let (statistics, queued) = try ClusterRetry.run(allowed, configuration: configuration, output: sink) { record in
                let outcome = record.outcome == .ok ? "ok" : "failed"
                output.write("\(record.rule)  \(record.kind.name)  \(outcome)  \(record.message ?? "")" + (record.error.map { "  \($0)" } ?? ""))
                output.flush()
            }
            let succeeded = statistics.succeeded.values.reduce(0, +)
            printError(
                "symphony: \(queued) retried: \(succeeded) succeeded, \(statistics.deadLettered) dead letters again"
                    + (statistics.relinquished > 0
                        ? ", \(statistics.relinquished) taken over by running nodes while they waited here (they run there: see history --store)" : ""))
            if statistics.deadLettered > 0 || statistics.relinquished > 0 { throw ExitCode(1) }
        } catch let error as PostgresError {
            printError("symphony: --store: \(error.message)")
            throw ExitCode(1)
        }
    }
}
