import ArgumentParser
import CoreMetrics
import Foundation
import SymphonyCrypto
import SymphonyPipeline
import SymphonyRecords
import SymphonyRules
import SymphonyStore

/// The history a run or a service records into: the database and its key, opened (both created
/// on first use) with the key's use and the rule load in the audit trail.
enum RunHistory {
    /// Opens the history at `--db` with `--key-file` (and retired keys); says why and exits 1 when
    /// it cannot — among others when the default key is missing beside an existing database, which
    /// a new key could not read.
    static func open(
        db: String?, keyFile: String?, retiredKeyFiles: [String], rules: [String], ruleSet: RuleSet, principal: String,
        metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) throws -> (store: HistoryStore, keyRing: KeyRing) {
        do {
            let path = StateLocation.database(db)
            let keyLocation = StateLocation.keyFile(keyFile)
            if keyLocation.isDefault, FileManager.default.fileExists(atPath: path), !FileManager.default.fileExists(atPath: keyLocation.path) {
                printError(
                    "symphony: the history database '\(path)' exists but its key '\(keyLocation.path)' is missing; restore the key, "
                        + "or pass --key-file (and --retired-key-file for the old one), or use another --db.")
                throw ExitCode(1)
            }
            guard let key = try StateLocation.loadKey(keyFile, createIfMissing: true) else { throw ExitCode(1) }
            try StateLocation.ensureDirectory(for: path)
            let retired = try StateLocation.loadRetiredKeys(retiredKeyFiles)
            let store = try HistoryStore(path: path, key: key, retiredKeys: retired, metrics: metrics)
            store.audit(
                AuditRecord(
                    principal: principal, operation: .keyUse, target: keyLocation.path, outcome: "ok", details: "key \(key.idString) opened the history"))
            store.audit(
                AuditRecord(
                    principal: principal, operation: .rulesLoad, target: rules.joined(separator: " "), outcome: "ok",
                    details: "\(ruleSet.rules.count) rules, \(ruleSet.recognizer.definitions.count) intents"))
            return (store, KeyRing(active: key, retired: retired))
        } catch let error as CryptoError {
            printError("symphony: \(error.message)")
            throw ExitCode(1)
        } catch let error as StoreError {
            printError("symphony: history: \(error.message)")
            throw ExitCode(1)
        }
    }
}
