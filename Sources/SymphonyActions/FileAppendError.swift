/// Why a line could not be appended. The message names the file, never the line.
public struct FileAppendError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One sentence, e.g. "cannot append to '/x/y.log': its directory does not exist".
    public let message: String

    /// An error with `message`.
    public init(message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
