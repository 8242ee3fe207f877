/// An error from the SQLite store: the SQLite result code, SQLite's message and the SQL — never the bound values.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// SQLite's (extended) result code, or -1 for errors of the store itself.
    public let code: Int32
    /// What went wrong.
    public let message: String
    /// The statement that failed, when there was one.
    public let sql: String?

    /// An error.
    public init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    public var description: String {
        sql.map { "\(message) (SQLite code \(code), in: \($0))" } ?? "\(message) (SQLite code \(code))"
    }
}
