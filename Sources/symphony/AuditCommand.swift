import SymphonyJSON
import SymphonyPipeline
import SymphonyPostgres
import ArgumentParser
import Foundation
import SymphonyCrypto
import SymphonyEvents
import SymphonyRules
import SymphonyStore
import SymphonyRecords

/// `symphony audit`: list the audit records and verify the tamper-evident history chain.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List audit records, and verify that no history row was changed (the history chain).",
        subcommands: [AuditListCommand.self, AuditVerifyCommand.self])
}

/// Options both audit subcommands share.
struct AuditOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The history database.", valueName: "PATH")) var db: String?
    @Option(name: .long, help: ArgumentHelp("The key file (verify needs it).", valueName: "PATH")) var keyFile: String?
    @Option(name: .long, help: ArgumentHelp("A retired key (repeatable): verify uses the key that wrote the head.", valueName: "PATH"))
    var retiredKeyFile: [String] = []
    @OptionGroup var accessOptions: AccessOptions

    func validate() throws {
        try StateLocation.validatePaths(db: db, keyFile: keyFile, retiredKeyFiles: retiredKeyFile)
    }

    func reader() throws -> AuditReader {
        let path = StateLocation.database(db)
        guard FileManager.default.fileExists(atPath: path) else {
            printError("symphony: no history database at '\(path)'; 'symphony run' creates it (or pass --db).")
            throw ExitCode(1)
        }
        do {
            return try AuditReader(path: path)
        } catch let error as StoreError {
            printError("symphony: \(error.message)")
            throw ExitCode(1)
        }
    }

    /// Appends a record of this command to the trail (when the key is available).
    func note(operation: AuditOperation, outcome: String, details: String) {
        CommandAudit.record(
            AuditRecord(principal: accessOptions.principal, operation: operation, target: StateLocation.database(db), outcome: outcome, details: details),
            database: StateLocation.database(db), keyFile: keyFile)
    }
}

/// `symphony audit list`.
struct AuditListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List audit records, most recent first.",
        discussion: """
            With --store URL (or $SYMPHONY_STORE), it lists the audit records of a cluster's nodes in PostgreSQL: \
            rule sets loaded (at a node's start and on reload), access denials, and retries of dead letters.

            Exit codes: 0 ok; 1 the database could not be read; 64 usage error; 77 --policy does not grant audit:read.
            """)

    @OptionGroup var options: AuditOptions
    @OptionGroup var storeOption: ClusterStoreOption
    @Option(name: .long, help: "Only this principal's records.") var principalFilter: String?
    @Option(name: .long, help: "Only this operation (key.use, rules.load, access.denied, history.query, audit.verify, …; action.publish and the like in records from before schema 6).") var operation: String?
    @Option(name: .long, help: "Only records since a duration ago (24h) or an RFC 3339 time.") var since: String?
    @Option(name: .long, help: "At most N records (default 50).") var limit: Int = 50
    @Option(name: .long, help: "table or json.") var format: String = "table"

    func validate() throws {
        if !["table", "json"].contains(format) { throw ValidationError("--format must be table or json, not '\(format)'.") }
        _ = try pointInTime(since, flag: "--since")
        try storeOption.validate(db: options.db)
    }

    func run() throws {
        let sinceTime = try pointInTime(since, flag: "--since")
        let records: [AuditRecord]
        if let url = storeOption.url(db: options.db) {
            try options.accessOptions.require(.readAudit, with: try options.accessOptions.accessGuard())
            do {
                records = try PostgresHistoryReader(url: url).audit(principal: principalFilter, operation: operation, since: sinceTime, limit: limit)
            } catch let error as PostgresError {
                printError("symphony: --store: \(error.message)")
                throw ExitCode(1)
            }
            write(records)
            return
        }
        try options.accessOptions.require(
            .readAudit, with: try options.accessOptions.accessGuard(), recordIn: StateLocation.database(options.db), keyFile: options.keyFile)
        let reader = try options.reader()
        records = try reader.list(principal: principalFilter, operation: operation, since: sinceTime, limit: limit)
        write(records)
        options.note(operation: .auditRead, outcome: "ok", details: "\(records.count) records listed")
    }

    /// Writes `records` as --format says.
    private func write(_ records: [AuditRecord]) {
        let output = OutputLines()
        if format == "json" {
            for record in records {
                output.write(
                    JSONValue.object([
                        "seq": .int(record.sequence), "time": .string(record.time.description), "principal": .string(record.principal),
                        "operation": .string(record.operation.rawValue), "target": .string(record.target), "outcome": .string(record.outcome),
                        "details": .string(record.details),
                    ]).jsonText)
            }
        } else {
            let table = TextTable(
                columns: ["SEQ", "TIME", "PRINCIPAL", "OPERATION", "TARGET", "OUTCOME", "DETAILS"],
                rows: records.map { [String($0.sequence), $0.time.description, $0.principal, $0.operation.rawValue, $0.target, $0.outcome, $0.details] },
                clippable: [4, 6])
            for line in table.lines() { output.write(line) }
            if records.isEmpty { output.write("(no records)") }
        }
        output.flush()
    }
}

/// `symphony audit verify`.
struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Recompute the history chain from every row and check its authenticated head.",
        discussion: """
            Every commit to the history appends one link to a hash chain, covering every row it wrote (events, executions, \
            scheduled entries and their changes, dead letters, audit records). verify recomputes each link from the rows: \
            an edited, deleted, inserted or reordered row in any table, a removed or altered link, or links cut from the \
            end are named. After 'symphony history prune', the chain is checked from its signed start on, and what was \
            pruned (links, when, by whom) is reported. With --checkpoint FILE (written by 'symphony run --checkpoint FILE'), a history rolled back to \
            an older copy, or erased and started afresh, is caught too.

            With --store URL (or $SYMPHONY_STORE), it checks a cluster's records in PostgreSQL instead: each worker of \
            each node keeps a chain of its own, one link per batch it committed, covering the events it handled and \
            what their actions did; each node's side-effect tries and audit records are on chains of their own \
            (NODE/effects, NODE/audit); every chain and its signed head is checked.

            Exit codes: 0 the history is intact; 2 it is not (the first bad link is named); 1 the database, key or \
            checkpoint could not be read, or the key is not the history's (it says which key the history is signed \
            under); 64 usage error; 77 --policy does not grant audit:verify.
            """)

    @OptionGroup var options: AuditOptions
    @OptionGroup var storeOption: ClusterStoreOption

    @Option(name: .long, help: ArgumentHelp("A checkpoint file from 'symphony run --checkpoint': the history must still contain its head.", valueName: "PATH"))
    var checkpoint: String?

    func validate() throws {
        try storeOption.validate(db: options.db)
        if storeOption.url(db: options.db) != nil, checkpoint != nil {
            throw ValidationError("--checkpoint cannot be used with \(storeOption.origin): checkpoints are written by 'symphony run' with a SQLite history.")
        }
    }

    func run() throws {
        if let url = storeOption.url(db: options.db) { return try verifyStore(url: url) }
        try options.accessOptions.require(
            .verifyAudit, with: try options.accessOptions.accessGuard(), recordIn: StateLocation.database(options.db), keyFile: options.keyFile)
        let reader = try options.reader()
        let (key, retired) = try keys()
        // A key that is not the history's cannot say anything about the chain: say so, not "broken".
        if let head = try reader.headKeyID(), !([key] + retired).contains(where: { $0.idString == head }) {
            printError(
                "symphony: cannot verify with this key: the history is signed under key \(head), and the key given is \(key.idString)"
                    + (retired.isEmpty ? "" : " (retired: \(retired.map(\.idString).joined(separator: ", ")))")
                    + "; pass the history's key with --key-file (and older ones with --retired-key-file after a rotation)")
            throw ExitCode(1)
        }
        var expected: HistoryCheckpoint?
        if let checkpoint {
            guard let text = try? String(contentsOfFile: checkpoint, encoding: .utf8) else {
                printError("symphony: cannot read the checkpoint file '\(checkpoint)'.")
                throw ExitCode(1)
            }
            guard let parsed = HistoryCheckpoint(text: text) else {
                printError("symphony: '\(checkpoint)' is not a Symphony checkpoint (one line: symphony-checkpoint v1 …).")
                throw ExitCode(1)
            }
            expected = parsed
        }
        switch try reader.verify(keys: [key] + retired, checkpoint: expected) {
        case .intact(let links, let rows):
            print("history intact: \(links) links covering \(rows) rows" + (expected.map { ", checkpoint at link \($0.sequence) found" } ?? ""))
            if let start = try reader.chainStart() {
                // Verified with the rest: its MAC, and the first link following it.
                print(
                    "links 1…\(start.link) were pruned at \(start.pruned) by \(displayText(start.principal)) (everything committed before \(start.cut)); "
                        + "the chain is verified from link \(start.link + 1), which follows the signed start")
            }
            options.note(operation: .auditVerify, outcome: "ok", details: "\(links) links, \(rows) rows intact")
        case .broken(let sequence, let problem):
            printError("symphony: history broken at link \(sequence): \(problem)")
            throw ExitCode(2)
        }
    }

    /// The key file's key, and the retired ones.
    func keys() throws -> (key: EncryptionKey, retired: [EncryptionKey]) {
        let key: EncryptionKey
        do {
            guard let loaded = try StateLocation.loadKey(options.keyFile, createIfMissing: false) else {
                printError("symphony: audit verify needs the key file (./.symphony/key, --key-file or $SYMPHONY_KEY_FILE).")
                throw ExitCode(1)
            }
            key = loaded
        } catch let error as CryptoError {
            printError("symphony: \(error.message)")
            throw ExitCode(1)
        }
        let retired: [EncryptionKey]
        do { retired = try StateLocation.loadRetiredKeys(options.retiredKeyFile) } catch let error as CryptoError {
            printError("symphony: \(error.message)")
            throw ExitCode(1)
        }
        return (key, retired)
    }
}
