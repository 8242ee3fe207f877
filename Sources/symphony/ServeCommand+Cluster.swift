import ArgumentParser
import Foundation
import Glibc
import SymphonyAccess
import SymphonyCluster
import SymphonyConcurrency
import SymphonyCrypto
import SymphonyPipeline
import SymphonyPostgres
import SymphonyRecords
import SymphonyRules
import SymphonyServer

/// `symphony serve --store postgres://…`: the service as one node of a cluster sharing PostgreSQL.
extension ServeCommand {
    /// The PostgreSQL URL from `--store` or $SYMPHONY_STORE, if any.
    var storeURL: String? { NodeStore.url(store) }

    /// Refuses options a cluster node does not take, and stores that are not PostgreSQL URLs.
    func validateStoreOptions() throws {
        try NodeStore.validate(
            store: store, node: node, refused: [(noHistory, "--no-history"), (db != nil, "--db"), (retentionOptions.retain != nil, "--retain")])
    }

    /// Serves as a node until SIGINT or SIGTERM (or a failure of the node): submissions go to the
    /// shared queue, this node's workers and scheduler take part in the cluster's work, and
    /// --follow files feed it. Exits 130 or 143 after a signal, 74 when the node failed.
    func serveOnCluster(url: String, ruleSet: RuleSet, access: AccessGuard, principal: String, server serverConfiguration: ServerConfiguration) throws -> Never {
        var configuration = try NodeStore.configuration(url: url, node: node, keyFile: keyFile, ruleSet: ruleSet, access: access, principal: principal)
        if let workers { configuration.workers = workers }
        configuration.runsSideEffects = !noActions
        let stop = try StopRequest.forCommand()
        let sink = TerminalOutput(stdout: OutputLines(), lines: .emittedEvents)
        let clusterNode = try NodeStore.open(configuration, rules: rules, output: sink, stop: stop)
        // Followed files resume where this node stopped reading them, as with 'symphony run --store --follow'.
        let lineParser = lines.flatMap { ruleSet.lineParsers[$0] }
        let sources: [any EventSource] = try follow.map { path in
            try NodeStore.file(
                path, of: clusterNode, rawLinesType: lines, lineParser: lineParser, plainJSON: plainJSONOptions.mode, report: { sink.problem($0) })
        }
        let metrics = ServerMetrics()
        var withReload = serverConfiguration
        // SIGHUP and `POST /v1/reload` give the node's workers the re-read rules from their next batch on.
        let reloader = RuleSetReloader(rules: rules, keyFile: keyFile, target: clusterNode, history: clusterNode, principal: principal)
        withReload.reload = { requester in reloader.reload(trigger: "POST /v1/reload", as: requester) }
        let server = SymphonyHTTPServer(serving: clusterNode, configuration: withReload, history: clusterNode, metrics: metrics)
        // The node works until the stop; if it stops first (it failed), the server stops too.
        let summary = Locked<ClusterNode.Summary?>(nil)
        let worker = WorkerThread(name: "sym-node") {
            summary.withLock { $0 = clusterNode.run(sources: sources, untilDrained: false) }
            Task { await server.shutdown() }
        }
        let (failure, signal) = Self.serveUntilStopped(server, reloader: reloader, host: serverConfiguration.host, sink: sink)
        stop.request(because: signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "the service is stopping")
        worker.join()
        clusterNode.flushAudits()  // what the server audited after the node stopped (a failure first, then the server)
        sink.finish()
        guard let done = summary.withLock({ $0 }) else { preconditionFailure("the node's thread ended without its summary") }
        if let failure { printError("symphony: the server failed: \(failure)") }
        printError(NodeStore.summaryLine(done, node: configuration.node))
        if let nodeFailure = done.failure {
            printError("symphony: --store: \(nodeFailure)")
            throw ExitCode(74)
        }
        if failure != nil { throw ExitCode(1) }
        throw ExitCode(128 + signal)
    }
}
