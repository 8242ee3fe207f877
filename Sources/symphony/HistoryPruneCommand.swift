import ArgumentParser
import SymphonyPipeline
import Foundation
import SymphonyCrypto
import SymphonyEvents
import SymphonyRecords
import SymphonyStore

/// `symphony history prune`: remove the history committed before a time, keeping the rest verifiable.
struct HistoryPruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the history committed before a time; what is left still verifies.",
        discussion: """
            Removes the oldest part of the history chain — whole commits (links), with every event, execution, \
            scheduled entry, rejected line and audit record they wrote — and the finished side effects queued before \
            the cut. The chain's new start is signed with the key, so 'symphony audit verify' checks the history from \
            there on and reports what was pruned, when and by whom; the prune itself is recorded in the audit trail \
            (history.prune). Side effects not finished (queued or dead) and anything committed after the cut are never \
            removed; delayed events still pending, and the last run's intake mark, are recorded again by the prune's own \
            commit, so they go on as before. A large prune is done in commits of about 100,000 events and executions.

            --before takes a duration back from now (30d, 12h) or an RFC 3339 time. --dry-run shows what would go and \
            changes nothing (no key needed). Freed space is given back to the file system at once in databases made \
            by this version; --vacuum rebuilds an older file (VACUUM) so it shrinks too and does so from then on: it \
            needs as much free disk as the database takes, and no 'symphony run' writing meanwhile.

            Exit codes: 0 pruned, or nothing to prune; 1 the database or key could not be read, or the links to \
            prune do not verify (nothing is removed); 64 usage error; 77 --policy does not grant history:prune.
            """)

    @OptionGroup var location: HistoryLocationOptions
    var db: String? { location.db }
    var keyFile: String? { location.keyFile }
    var retiredKeyFile: [String] { location.retiredKeyFile }
    @Option(name: .long, help: ArgumentHelp("Remove what was committed before this: a duration back from now (30d) or an RFC 3339 time.", valueName: "WHEN"))
    var before: String
    @Flag(name: .long, help: "Show what would be removed; change nothing.") var dryRun = false
    @Flag(name: .long, help: "Afterwards, rebuild the file (VACUUM) so it shrinks; needs free disk as large as the database.") var vacuum = false
    @OptionGroup var accessOptions: AccessOptions

    func validate() throws {
        try StateLocation.validatePaths(db: db, keyFile: keyFile, retiredKeyFiles: retiredKeyFile)
        guard let cut = try pointInTime(before, flag: "--before") else { return }
        if cut > Timestamp.now() { throw ValidationError("--before must not be in the future, not '\(before)': it would remove history not yet written.") }
        if dryRun && vacuum { throw ValidationError("--dry-run and --vacuum contradict each other: a dry run changes nothing.") }
    }

    func run() throws {
        let path = StateLocation.database(db)
        try accessOptions.require(.pruneHistory, with: try accessOptions.accessGuard(), recordIn: path, keyFile: keyFile)
        guard FileManager.default.fileExists(atPath: path) else {
            printError("symphony: no history database at '\(path)'; 'symphony run' creates it (or pass --db).")
            throw ExitCode(1)
        }
        guard let cut = try pointInTime(before, flag: "--before") else { return }
        guard HistoryStore.isCurrentSchema(path: path) else {
            printError("symphony: the database '\(path)' is not at this version's schema; run 'symphony run' once to migrate it, then prune.")
            throw ExitCode(1)
        }
        do {
            if dryRun {
                let plan = try HistoryStore.prunePlan(path: path, before: cut)
                print(plan.isEmpty ? "nothing to prune before \(cut)" : "would prune \(plan.details)")
                return
            }
            guard let key = try StateLocation.loadKey(keyFile, createIfMissing: false) else {
                printError("symphony: history prune needs the key file (./.symphony/key, --key-file or $SYMPHONY_KEY_FILE): it signs the chain's new start.")
                throw ExitCode(1)
            }
            let store = try HistoryStore(path: path, key: key, retiredKeys: try StateLocation.loadRetiredKeys(retiredKeyFile))
            var summary: PruneSummary
            do {
                // In commits of about `rowsPerCommit` events and executions, so that a run writing
                // meanwhile never waits long for the write lock.
                summary = try store.prune(before: cut, principal: accessOptions.principal, maxRows: Self.rowsPerCommit)
                while summary.budgetReached {
                    summary = summary.followed(by: try store.prune(before: cut, principal: accessOptions.principal, maxRows: Self.rowsPerCommit))
                }
                try store.close()
            } catch {
                try? store.close()
                throw error
            }
            if summary.isEmpty {
                print("nothing to prune before \(cut)")
            } else {
                print("pruned \(summary.details)")
                if summary.links > 0 { print("the chain now starts after link \(summary.lastLink); 'symphony audit verify' checks it from there") }
            }
            if vacuum {
                let (sizeBefore, sizeAfter) = try HistoryStore.compact(path: path)
                print("vacuumed: \(Self.megabytes(sizeBefore)) → \(Self.megabytes(sizeAfter))")
            }
        } catch let error as CryptoError {
            printError("symphony: \(error.message)")
            throw ExitCode(1)
        } catch let error as StoreError {
            printError("symphony: \(error.message)")
            throw ExitCode(1)
        }
    }

    /// Events and executions removed per commit, at most (about).
    static let rowsPerCommit = 100_000

    static func megabytes(_ bytes: Int64) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }
}
