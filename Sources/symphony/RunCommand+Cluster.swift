import ArgumentParser
import Foundation
import SymphonyAccess
import SymphonyCluster
import SymphonyCrypto
import SymphonyPipeline
import SymphonyPostgres
import SymphonyRecords
import SymphonyRules

/// `symphony run --store postgres://…`: the run as one node of a cluster sharing PostgreSQL.
extension RunCommand {
    /// The PostgreSQL URL from `--store` or $SYMPHONY_STORE, if any.
    var storeURL: String? { NodeStore.url(store) }

    /// Refuses options a cluster node does not take, and stores that are not PostgreSQL URLs.
    func validateStoreOptions() throws {
        try NodeStore.validate(
            store: store, node: node,
            refused: [
                (replay, "--replay"), (noHistory, "--no-history"), (db != nil, "--db"), (checkpoint != nil, "--checkpoint"), (noEncryption, "--no-encryption"),
                (!retiredKeyFile.isEmpty, "--retired-key-file"), (stageTimes, "--stage-times"), (retentionOptions.retain != nil, "--retain"),
                (strict, "--strict"), (output == .ndjson, "--format ndjson"),
            ])
    }

    /// Runs this process as a node: exits once its input ended and the cluster's queue is empty
    /// (or, with --follow, on SIGINT or SIGTERM).
    func runOnCluster(url: String, ruleSet: RuleSet, access: AccessGuard, principal: String) throws -> Never {
        var configuration = try NodeStore.configuration(url: url, node: node, keyFile: keyFile, ruleSet: ruleSet, access: access, principal: principal)
        if let workers { configuration.workers = workers }
        configuration.runsSideEffects = !noActions
        configuration.hopLimit = hopLimit
        configuration.derivedEventBudget = maxDerived
        let stop = try StopRequest.forCommand()
        let signals = RunSignals(stop: stop)
        signals.install()
        let sink = TerminalOutput(stdout: OutputLines(), lines: .emittedEvents, auditMessages: output != .quiet)
        let node = try NodeStore.open(configuration, rules: rules, output: sink, stop: stop)
        // Files resume where any earlier run stopped reading them; standard input is read once.
        let lineParser = lines.flatMap { ruleSet.lineParsers[$0] }
        let sources: [any EventSource] = try (events.isEmpty ? ["-"] : events).map { path in
            guard path != "-" else {
                var source = LineEventSource(paths: ["-"], rawLinesType: lines, lineParser: lineParser, report: { sink.problem($0) })
                source.plainJSON = plainJSONOptions.mode
                return source
            }
            var source = try NodeStore.file(
                path, of: node, rawLinesType: lines, lineParser: lineParser, plainJSON: plainJSONOptions.mode, report: { sink.problem($0) })
            source.endsAtEnd = !follow
            return source
        }
        let summary = node.run(sources: sources, untilDrained: !follow)
        withExtendedLifetime(signals) {}
        sink.finish()
        if output != .quiet {
            printError(NodeStore.summaryLine(summary, node: configuration.node) + (stop.reason.hasPrefix("SIG") ? "; interrupted by \(stop.reason)" : ""))
        }
        if let failure = summary.failure {
            printError("symphony: --store: \(failure)")
            throw ExitCode(74)
        }
        if stop.reason.hasPrefix("SIG") { throw ExitCode(stop.reason == "SIGINT" ? 130 : 143) }
        if summary.unreadable > 0 { throw ExitCode.noInput }
        throw ExitCode(summary.rejected > 0 ? ExitCode.inputRejected.rawValue : 0)
    }
}
