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
            let (allowed, denials) = recheck(dead, wanted: try wantedKeys(among: dead), access: access)
            if !denials.isEmpty { ClusterRetry.audit(denials, configuration: configuration, output: sink) }
            guard !allowed.isEmpty else {
                if dead.isEmpty { printError("symphony: no dead letters to retry") }
                if dead.isEmpty { return }
                throw ExitCode(77)
            }
            let requeued = try ClusterRetry.requeue(allowed, configuration: configuration)
            guard !requeued.isEmpty else { return printError(Self.noneRequeued) }
            ClusterRetry.audit([Self.retryRecord(requeued, target: configuration.node, principal: principal)], configuration: configuration, output: sink)
            let statistics = ClusterRetry.run(requeued, configuration: configuration, output: sink) { record in
                output.write(Self.attemptLine(record))
                output.flush()
            }
            printError(
                Self.summary(retried: requeued.count, statistics)
                    + (statistics.relinquished > 0
                        ? ", \(statistics.relinquished) taken over by running nodes while they waited here (they run there: see history --store)" : ""))
            if statistics.deadLettered > 0 || statistics.relinquished > 0 { throw ExitCode(1) }
        } catch let error as PostgresError {
            printError("symphony: --store: \(error.message)")
            throw ExitCode(1)
        }
    }
}
