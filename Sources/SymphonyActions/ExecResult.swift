/// How a child process ended and what it wrote.
public struct ExecResult: Sendable, Hashable {
    /// The exit status; nil when the child was killed by a signal (or its status could not be collected).
    public var exitStatus: Int32?
    /// The signal that terminated the child, if one did.
    public var signal: Int32?
    /// True when the timeout passed: the child's process group was sent SIGTERM, perhaps SIGKILL too.
    public var timedOut: Bool
    /// Standard output, at most `ExecRequest.outputLimit` bytes.
    public var standardOutput: [UInt8]
    /// True when standard output had more bytes than were kept.
    public var standardOutputTruncated: Bool
    /// Standard error, at most `ExecRequest.outputLimit` bytes.
    public var standardError: [UInt8]
    /// True when standard error had more bytes than were kept.
    public var standardErrorTruncated: Bool
    /// From spawning the child to reaping it.
    public var duration: Duration

    /// A result with every field given.
    public init(
        exitStatus: Int32?,
        signal: Int32?,
        timedOut: Bool,
        standardOutput: [UInt8],
        standardOutputTruncated: Bool,
        standardError: [UInt8],
        standardErrorTruncated: Bool,
        duration: Duration
    ) {
        self.exitStatus = exitStatus
        self.signal = signal
        self.timedOut = timedOut
        self.standardOutput = standardOutput
        self.standardOutputTruncated = standardOutputTruncated
        self.standardError = standardError
        self.standardErrorTruncated = standardErrorTruncated
        self.duration = duration
    }
}
