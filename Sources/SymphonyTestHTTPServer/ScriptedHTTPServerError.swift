/// Why a `ScriptedHTTPServer` could not start listening.
public struct ScriptedHTTPServerError: Error, Sendable, CustomStringConvertible {
    /// What failed, e.g. "bind failed: Address already in use".
    public let message: String

    /// An error with `message`.
    public init(message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
