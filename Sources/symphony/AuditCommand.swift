import ArgumentParser
import Foundation
import SymphonyCrypto
import SymphonyEvents
import SymphonyRules
import SymphonyStore

/// `symphony audit`: list and verify the tamper-evident audit trail.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List and verify the hash-chained audit trail.",
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
    func note(operation: String, outcome: String, details: String) {
        CommandAudit.record(
            AuditRecord(principal: accessOptions.principal, operation: operation, target: StateLocation.database(db), outcome: outcome, details: details),
            database: StateLocation.database(db), keyFile: keyFile)
    }
}

/// `symphony audit list`.
struct AuditListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List audit records, most recent first.",
        discussion: "Exit codes: 0 ok; 1 the database could not be read; 64 usage error; 77 --policy does not grant audit:read.")

    @OptionGroup var options: AuditOptions
    @Option(name: .long, help: "Only this principal's records.") var principalFilter: String?
    @Option(name: .long, help: "Only this operation (rules.load, action.publish, key.use, history.query, …).") var operation: String?
    @Option(name: .long, help: "Only records since a duration ago (24h) or an RFC 3339 time.") var since: String?
    @Option(name: .long, help: "At most N records (default 50).") var limit: Int = 50
    @Option(name: .long, help: "table or json.") var format: String = "table"

    func validate() throws {
        if !["table", "json"].contains(format) { throw ValidationError("--format must be table or json, not '\(format)'.") }
        _ = try pointInTime(since, flag: "--since")
    }

    func run() throws {
        try options.accessOptions.require(
            .readAudit, with: try options.accessOptions.accessGuard(), recordIn: StateLocation.database(options.db), keyFile: options.keyFile)
        let reader = try options.reader()
        let sinceTime = try pointInTime(since, flag: "--since")
        let records = try reader.list(principal: principalFilter, operation: operation, since: sinceTime, limit: limit)
        let output = OutputLines()
        for record in records {
            if format == "json" {
                output.write(
                    JSONValue.object([
                        "seq": .int(record.sequence), "time": .string(record.time.description), "principal": .string(record.principal),
                        "operation": .string(record.operation), "target": .string(record.target), "outcome": .string(record.outcome),
                        "details": .string(record.details),
                    ]).jsonText)
            } else {
                output.write(
                    displayText("\(record.sequence)  \(record.time)  \(record.principal)  \(record.operation)  \(record.target)  \(record.outcome)  \(record.details)"))
            }
        }
        output.flush()
        options.note(operation: "audit.read", outcome: "ok", details: "\(records.count) records listed")
    }
}

/// `symphony audit verify`.
struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Recompute the hash chain and check the authenticated head.",
        discussion: """
            Exit codes: 0 the trail is intact; 2 it is not (the first bad record is named: edited, deleted, \
            reordered or truncated); 1 the database or key could not be read; 64 usage error; 77 --policy does not grant audit:verify.
            """)

    @OptionGroup var options: AuditOptions

    func run() throws {
        try options.accessOptions.require(
            .verifyAudit, with: try options.accessOptions.accessGuard(), recordIn: StateLocation.database(options.db), keyFile: options.keyFile)
        let reader = try options.reader()
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
        switch try reader.verify(keys: [key] + retired) {
        case .intact(let count):
            print("audit trail intact: \(count) records")
            options.note(operation: "audit.verify", outcome: "ok", details: "\(count) records intact")
        case .broken(let sequence, let problem):
            printError("symphony: audit trail broken at record \(sequence): \(problem)")
            throw ExitCode(2)
        }
    }
}
