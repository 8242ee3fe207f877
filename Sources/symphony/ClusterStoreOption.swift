import ArgumentParser
import Foundation
import Glibc
import SymphonyAccess
import SymphonyCluster
import SymphonyCrypto
import SymphonyPipeline
import SymphonyPostgres
import SymphonyRecords
import SymphonyRules

/// `--store` of `history`, `audit` and `retry`: work on a cluster's PostgreSQL database instead of a SQLite history.
struct ClusterStoreOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Work on the records of the cluster whose nodes run with this PostgreSQL database instead of a SQLite history (default $SYMPHONY_STORE, unless --db is given), e.g. postgres://user@host/db.",
            valueName: "URL"))
    var store: String?

    /// The PostgreSQL URL to read, if any: `--store`, else $SYMPHONY_STORE when `--db` is not given.
    func url(db: String?) -> String? {
        if let store { return store }
        guard db == nil else { return nil }
        return ProcessInfo.processInfo.environment["SYMPHONY_STORE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// How to name where the URL came from in a message: `--store`, or `$SYMPHONY_STORE`.
    var origin: String { store != nil ? "--store" : "$SYMPHONY_STORE (set --db to read a SQLite history instead)" }

    /// Refuses `--store` with `--db`, and values that are not PostgreSQL URLs (never echoed: they may hold a password).
    func validate(db: String?) throws {
        if store != nil, db != nil { throw ValidationError("--store and --db name two different stores: give one.") }
        if let url = url(db: db), !PostgresURL.isPostgres(url) {
            throw ValidationError("\(store != nil ? "--store" : "$SYMPHONY_STORE") takes a PostgreSQL URL: postgres://user@host:port/database.")
        }
    }
}

/// `--store` and `--node` of the commands that run a node (`run`, `serve`).
enum NodeStore {
    /// The PostgreSQL URL a node runs against: `store`, else $SYMPHONY_STORE.
    static func url(_ store: String?) -> String? {
        store ?? ProcessInfo.processInfo.environment["SYMPHONY_STORE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Refuses `--node` without a store, a store that is not a PostgreSQL URL (never echoed: it
    /// may hold a password), and the first of `refused` that was given.
    static func validate(store: String?, node: String?, refused: [(given: Bool, option: String)]) throws {
        guard let url = url(store) else {
            if node != nil { throw ValidationError("--node names a node of a cluster: it needs --store postgres://….") }
            return
        }
        guard PostgresURL.isPostgres(url) else {
            throw ValidationError("\(store != nil ? "--store" : "$SYMPHONY_STORE") takes a PostgreSQL URL: postgres://user@host:port/database.")
        }
        if let option = refused.first(where: \.given)?.option {
            throw ValidationError("\(option) cannot be used with --store: a cluster node keeps its records in the PostgreSQL database.")
        }
    }
    /// A node's configuration: named `node` (default: host name and process id), sealing with
    /// the key of `keyFile`, which every node shares (exit 1 without one).
    static func configuration(
        url: String, node: String?, keyFile: String?, ruleSet: RuleSet, access: AccessGuard, principal: String
    ) throws -> ClusterConfiguration {
        guard let key = try StateLocation.loadKey(keyFile, createIfMissing: false) else {
            printError("symphony: --store: every node seals and opens the shared queue with one key: pass it with --key-file (or $SYMPHONY_KEY_FILE)")
            throw ExitCode(1)
        }
        return ClusterConfiguration(
            url: url, node: node ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())", ruleSet: ruleSet, sealer: EnvelopeSealer(key: key),
            access: access, principal: principal)
    }

    /// Connects the node (exit 74 when the database cannot be reached or holds another key's
    /// events) and audits the rules of `paths` it starts with.
    static func open(_ configuration: ClusterConfiguration, rules paths: [String], output: any OutputSink, stop: StopRequest) throws -> ClusterNode {
        let node: ClusterNode
        do {
            node = try ClusterNode(configuration: configuration, output: output, stop: stop)
        } catch {
            printError("symphony: --store: \(error)")
            throw ExitCode(74)
        }
        node.audit(
            ClusterConfiguration.rulesLoaded(paths, ruleSet: configuration.ruleSet, node: configuration.node, principal: configuration.principal))
        return node
    }

    /// A node's summary line, as `run` and `serve` print it when the node stops.
    static func summaryLine(_ summary: ClusterNode.Summary, node: String) -> String {
        "symphony: node \(node): \(summary.read) events read, \(summary.rejected) rejected, \(summary.denied) denied, "
            + "\(summary.handled) handled, \(summary.fired) delayed events fired, \(summary.statements) database round trips"
            + (summary.unopened > 0 ? ", \(summary.unopened) queued events could not be opened" : "")
            + (summary.repeated > 0 ? ", \(summary.repeated) events repeated an id already handled (not handled again)" : "")
    }

    /// The file `path` as the node reads it: under one name however it was given ('./a', 'a', a
    /// symbolic link), from where this node's earlier runs stopped (exit 74 when that cannot be read).
    static func file(
        _ path: String, of node: ClusterNode, rawLinesType: String?, lineParser: LineParser?, plainJSON: PlainJSONLines?,
        report: @escaping @Sendable (String) -> Void
    ) throws -> FollowedFileSource {
        let given = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let absolute = URL(fileURLWithPath: given).resolvingSymlinksInPath().standardizedFileURL.path
        let resume: FilePosition?
        do {
            resume = try node.position(of: absolute)
        } catch {
            printError("symphony: --store: \(error)")
            throw ExitCode(74)
        }
        return FollowedFileSource(
            path: absolute, rawLinesType: rawLinesType, lineParser: lineParser, plainJSON: plainJSON, resume: resume, report: report)
    }
}
