/// Why a child process could not be started. The message names the program, never its
/// arguments, standard input or environment values.
public struct ExecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One sentence, e.g. "cannot run 'foo': no such program in PATH".
    public let message: String

    /// An error with `message`.
    public init(message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
