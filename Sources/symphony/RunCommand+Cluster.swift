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
        guard let key = try StateLocation.loadKey(keyFile, createIfMissing: false) else {
            printError("symphony: --store: every node seals and opens the shared queue with one key: pass it with --key-file (or $SYMPHONY_KEY_FILE)")
            throw ExitCode(1)
        }
        var configuration = ClusterConfiguration(
            url: url, node: node ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())", ruleSet: ruleSet, sealer: EnvelopeSealer(key: key),
            access: access, principal: principal)
        if let workers { configuration.workers = workers }
        configuration.runsSideEffects = !noActions
        configuration.hopLimit = hopLimit
        configuration.derivedEventBudget = maxDerived
        let stop = try StopRequest.forCommand()
        let signals = RunSignals(stop: stop)
        signals.install()
        let sink = TerminalOutput(stdout: OutputLines(), lines: .emittedEvents, auditMessages: output != .quiet)
        let node: ClusterNode
        do {
            node = try ClusterNode(configuration: configuration, output: sink, stop: stop)
        } catch {
            printError("symphony: --store: \(error)")
            throw ExitCode(74)
        }
        node.audit(ClusterConfiguration.rulesLoaded(rules, ruleSet: ruleSet, node: configuration.node, principal: principal))
        // Files resume where any earlier run stopped reading them; standard input is read once.
        let lineParser = lines.flatMap { ruleSet.lineParsers[$0] }
        let sources: [any EventSource] = try (events.isEmpty ? ["-"] : events).map { path in
            guard path != "-" else {
                var source = LineEventSource(paths: ["-"], rawLinesType: lines, lineParser: lineParser, report: { sink.problem($0) })
                source.plainJSON = plainJSONOptions.mode
                return source
            }
            // One name per file, whichever way it was given ('./a', 'a', a symbolic link).
            let given = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            let absolute = URL(fileURLWithPath: given).resolvingSymlinksInPath().standardizedFileURL.path
            let resume: FilePosition?
            do {
                resume = try node.position(of: absolute)
            } catch {
                printError("symphony: --store: \(error)")
                throw ExitCode(74)
            }
            var source = FollowedFileSource(
                path: absolute, rawLinesType: lines, lineParser: lineParser, plainJSON: plainJSONOptions.mode, resume: resume,
                report: { sink.problem($0) })
            source.endsAtEnd = !follow
            return source
        }
        let summary = node.run(sources: sources, untilDrained: !follow)
        withExtendedLifetime(signals) {}
        sink.finish()
        if output != .quiet {
            printError(
                "symphony: node \(configuration.node): \(summary.read) events read, \(summary.rejected) rejected, \(summary.denied) denied, "
                    + "\(summary.handled) handled, \(summary.fired) delayed events fired, \(summary.statements) database round trips"
                    + (summary.unopened > 0 ? ", \(summary.unopened) queued events could not be opened" : "")
                    + (summary.repeated > 0 ? ", \(summary.repeated) events repeated an id already handled (not handled again)" : "")
                    + (stop.reason.hasPrefix("SIG") ? "; interrupted by \(stop.reason)" : ""))
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
