/// An error from PostgreSQL or the connection to it: the SQLSTATE code and the primary message,
/// and the statement — never bound values, nor the DETAIL that may quote them, nor a password.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// The SQLSTATE (`40001` serialization failure, `23505` unique violation, …); nil for
    /// connection failures and errors of Symphony's own.
    public let sqlState: String?
    /// What went wrong.
    public let message: String
    /// The statement that failed, when there was one.
    public let sql: String?

    /// An error.
    public init(sqlState: String? = nil, message: String, sql: String? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.sql = sql
    }

    /// True for the failures a transaction may simply run again: serialization failures and deadlocks.
    public var isTransient: Bool { sqlState == "40001" || sqlState == "40P01" }

    /// The message, the SQLSTATE and the statement, for logs and errors.
    public var description: String {
        var text = "PostgreSQL: " + message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let sql { text += " in: " + sql }
        return text
    }
}
