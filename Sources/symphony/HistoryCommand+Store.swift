import ArgumentParser
import SymphonyPipeline
import SymphonyPostgres
import SymphonyRecords

/// `symphony history --store postgres://…`: what a cluster's nodes did.
extension HistoryCommand {
    /// Refuses, with --store, the options a cluster's records cannot answer yet.
    func validateStoreOptions() throws {
        guard storeOption.url(db: db) != nil else { return }
        let unsupported: [(Bool, String)] = [
            (keyFile != nil, "--key-file"), (!retiredKeyFile.isEmpty, "--retired-key-file"),
        ]
        if let (_, option) = unsupported.first(where: { $0.0 }) {
            throw ValidationError(
                "\(option) cannot be used with \(storeOption.origin): a cluster's records hold what each node handled and what its actions did, "
                    + "not event payloads, so there is nothing for a key to open.")
        }
    }

    /// Lists a cluster's executions (or, with `--status pending`, its delayed events; with
    /// `--status queued` or `dead`, its side effects not finished or given up) with the
    /// same filters, columns and formats as the SQLite history.
    func runOnStore(url: String) throws {
        try accessOptions.require(.readHistory, with: try accessOptions.accessGuard())
        let output = OutputLines()
        defer { output.flush() }
        do {
            let reader = try PostgresHistoryReader(url: url)
            if let state {
                try write(state: try GateStateReport.rows(rule: state, ruleSet: try stateRuleSet(), reader: reader), to: output)
                return
            }
            if let trace {
                try write(trace: try reader.trace(trace), missing: "no event '\(trace)' was handled by the cluster's nodes", to: output)
                return
            }
            if status == "pending" {
                write(pending: try reader.pending(type: try type.map(pattern), key: key, rule: rule, limit: limit), to: output)
                return
            }
            if status == "queued" || status == "dead" {
                write(outbox: try reader.outbox(state: status == "dead" ? 2 : 0, rule: rule, limit: limit), to: output)
                return
            }
            let query = try executionQuery()
            if stats {
                try writeStats(reader.stats(query), lastLoaded: reader.lastLoadedRulePaths, to: output)
                return
            }
            let rows = try reader.executions(query)
            if rows.isEmpty { try warnAboutUnknownFilters(ruleNames: reader.ruleNames, hasEvents: reader.hasEvents(ofType:)) }
            write(executions: rows, to: output)
        } catch let error as PostgresError {
            printError("symphony: --store: \(error.message)")
            throw ExitCode(1)
        }
    }
}
