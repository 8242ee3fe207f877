/// Runs child processes: never through a shell.
public enum ExecRunner {
    /// Spawns (posix_spawn, own process group so SIGTERM/SIGKILL reach the whole group), feeds
    /// stdin, drains both pipes concurrently with poll() (so a child writing megabytes cannot
    /// deadlock), enforces the timeout, reaps the child.
    ///
    /// Blocks the calling thread until the child has been reaped; safe to call from many threads
    /// at once. Once the child has exited, output still in the pipes is read, but descendants that
    /// keep them open are waited for at most 250 ms (they are not killed unless the timeout passed).
    /// Throws ExecError when it cannot start (program not found / not executable, bad working
    /// directory, too many files).
    public static func run(_ request: ExecRequest) throws(ExecError) -> ExecResult {
        let executablePath = try ProgramLocator.executablePath(for: request.program, environment: request.environment)
        // Writing to a child that has closed its standard input must give EPIPE, not kill this process.
        let brokenPipeBlock = BrokenPipeSignalBlock()
        defer { brokenPipeBlock.end() }
        let started = ContinuousClock.now
        let child = try ChildSpawner.spawn(executablePath: executablePath, request: request)
        var supervisor = ChildSupervisor(child: child, request: request)
        return supervisor.run(started: started)
    }

    /// `text` in single quotes for an error message: control characters shown as '?', at most 200 characters.
    static func quotedForMessage(_ text: String) -> String {
        let printable = String(text.unicodeScalars.prefix(200).map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
        return "'\(printable)\(text.unicodeScalars.count > 200 ? "…" : "")'"
    }
}
