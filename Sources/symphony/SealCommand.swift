import SymphonyPipeline
import ArgumentParser
import Foundation
import Glibc
import SymphonyCrypto
import SymphonyDiagnostics
import SymphonyRules
import SymphonyStore
import SymphonyRecords

/// `symphony seal`: encrypt a rule set with its intents into one bundle.
struct SealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Seal a rule set (rules and intents) into one AES-256-GCM bundle that run, validate and intents accept.",
        discussion: """
            The rule set is validated first; a set with errors is not sealed. The bundle is opened with the \
            same key file (./.symphony/key, --key-file or $SYMPHONY_KEY_FILE); a bundle that was altered, \
            or sealed under another key, is refused with a clear error.

            Needs rules:seal under --policy. With a history database (./.symphony/history.db or $SYMPHONY_DB) \
            readable with the key, the sealing is recorded in its audit trail (operation rules.seal: the \
            bundle, the files, the key id).

            Exit codes: 0 sealed; 1 the rules have errors, the key is missing, or the output exists; 64 usage error; \
            77 --as may not seal rules.
            """)

    @Argument(help: ArgumentHelp("Rule files or directories.", valueName: "RULES_PATH")) var paths: [String] = []
    @Option(name: .shortAndLong, help: ArgumentHelp("The bundle to write.", valueName: "PATH")) var output: String
    @Option(name: .long, help: ArgumentHelp("The key file.", valueName: "PATH")) var keyFile: String?
    @OptionGroup var accessOptions: AccessOptions

    func validate() throws {
        try StateLocation.validatePaths(keyFile: keyFile)
        if paths.isEmpty { throw ValidationError("Name at least one rule file or directory to seal.") }
    }

    func run() throws {
        let access = try accessOptions.accessGuard()
        let database = StateLocation.database(nil)
        try accessOptions.require(.sealRules, with: access, recordIn: database, keyFile: keyFile)
        let (documents, readProblems) = RuleDocuments.read(paths, keyFile: keyFile)
        let (ruleSet, diagnostics) = RuleSetLoader.load(documents: documents)
        report((readProblems.all + diagnostics.sorted).map { $0 as CustomStringConvertible })
        guard ruleSet != nil, !readProblems.hasErrors else { throw ExitCode(1) }
        do {
            guard let key = try StateLocation.loadKey(keyFile, createIfMissing: true) else { throw ExitCode(1) }
            let bundle = try RuleBundle.seal(documents.map { ($0.file, Array($0.text.utf8)) }, with: EnvelopeSealer(key: key))
            if let problem = Self.createFile(output, holding: bundle) {
                printError("symphony: \(problem)")
                throw ExitCode(1)
            }
            print("sealed \(documents.count) file\(documents.count == 1 ? "" : "s") into \(output) (key id \(key.idString))")
            CommandAudit.record(
                AuditRecord(
                    principal: accessOptions.principal, operation: .rulesSeal, target: output, outcome: "ok",
                    details: "\(documents.count) file\(documents.count == 1 ? "" : "s") (\(documents.map(\.file).joined(separator: ", "))) sealed under key \(key.idString)"),
                database: database, keyFile: keyFile)
        } catch let error as CryptoError {
            printError("symphony: \(error.message)")
            throw ExitCode(1)
        }
    }

    /// Creates `path` with mode 0600 holding `bytes`, never replacing anything that exists (the
    /// check and the creation are one `open(O_CREAT | O_EXCL)`); nil when written, else why not.
    static func createFile(_ path: String, holding bytes: [UInt8]) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            return errno == EEXIST ? "'\(path)' already exists; refusing to overwrite it." : "cannot write '\(path)': \(String(cString: strerror(errno)))."
        }
        let written = writeAll(bytes, to: fd)
        let writeError = errno  // before close can change it
        let closed = close(fd) == 0
        guard written && closed else {
            let reason = String(cString: strerror(written ? errno : writeError))
            unlink(path)
            return "cannot write '\(path)': \(reason)."
        }
        return nil
    }
}
