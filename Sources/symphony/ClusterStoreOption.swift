import ArgumentParser
import Foundation
import SymphonyPostgres

/// `--store` of `history` and `audit`: read a cluster's PostgreSQL database instead of a SQLite history.
struct ClusterStoreOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read the records of the cluster whose nodes run with this PostgreSQL database (default $SYMPHONY_STORE, unless --db is given), e.g. postgres://user@host/db.",
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
}
