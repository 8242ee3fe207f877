/// A program to run: never through a shell.
public struct ExecRequest: Sendable, Hashable {
    /// An absolute path, or a bare name looked up in the `PATH` of `environment` (else
    /// "/usr/local/bin:/usr/bin:/bin"); a relative path with a slash is refused.
    public var program: String
    /// argv[1...], passed as-is: quotes, spaces, newlines and ';' are just bytes (a NUL byte is refused).
    public var arguments: [String]
    /// The child's working directory; nil inherits this process's.
    public var workingDirectory: String?
    /// The child's complete environment: the caller builds it, nothing is inherited.
    public var environment: [String: String]
    /// Written to the child's standard input, which is then closed; nil gives it /dev/null.
    public var standardInput: [UInt8]?
    /// How long the child may run; then its process group gets SIGTERM.
    public var timeout: Duration
    /// How long after SIGTERM the process group gets SIGKILL.
    public var killGrace: Duration
    /// The most bytes kept of each of standard output and standard error; the rest is read and discarded.
    public var outputLimit: Int

    /// A request to run `program` with `arguments`; see the properties for what each one means.
    public init(
        program: String,
        arguments: [String] = [],
        workingDirectory: String? = nil,
        environment: [String: String] = [:],
        standardInput: [UInt8]? = nil,
        timeout: Duration = .seconds(30),
        killGrace: Duration = .seconds(2),
        outputLimit: Int = 65_536
    ) {
        self.program = program
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.standardInput = standardInput
        self.timeout = timeout
        self.killGrace = killGrace
        self.outputLimit = outputLimit
    }
}
