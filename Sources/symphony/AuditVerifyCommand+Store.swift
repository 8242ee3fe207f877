import ArgumentParser
import SymphonyPipeline
import SymphonyPostgres

/// `symphony audit verify --store postgres://…`: checks a cluster's chains.
extension AuditVerifyCommand {
    /// Recomputes every chain of the cluster's records (one per worker of each node) and checks
    /// its signed head; exit 2 names the first chain and link that do not hold.
    func verifyStore(url: String) throws {
        try options.accessOptions.require(.verifyAudit, with: try options.accessOptions.accessGuard())
        let (key, retired) = try keys()
        let verdict: PostgresChainVerifier.Verdict
        do {
            verdict = try PostgresHistoryReader(url: url).verify(keys: [key] + retired)
        } catch let error as PostgresChainVerifier.UnknownKey {
            printError(
                "symphony: cannot verify with this key: \(error.description), and the key given is \(key.idString)"
                    + (retired.isEmpty ? "" : " (retired: \(retired.map(\.idString).joined(separator: ", ")))")
                    + "; pass the cluster's key with --key-file (and older ones with --retired-key-file)")
            throw ExitCode(1)
        } catch let error as PostgresError {
            printError("symphony: --store: \(error.message)")
            throw ExitCode(1)
        }
        switch verdict {
        case .intact(let chains, let links, let rows):
            print("cluster records intact: \(chains) chains, \(links) links covering \(rows) rows")
        case .broken(let chain, let link, let problem):
            printError("symphony: cluster records broken" + (chain.isEmpty ? "" : " in chain '\(displayText(chain))' at link \(link)") + ": \(problem)")
            throw ExitCode(2)
        }
    }
}
