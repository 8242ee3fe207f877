import Glibc

/// Watches one spawned child until it is reaped: writes its standard input, reads its standard
/// output and error as they arrive (poll), sends SIGTERM then SIGKILL to its process group when
/// the timeout passes.
struct ChildSupervisor {
    /// How long output is still read once the child has exited, for descendants that keep the pipes open.
    static let drainTimeAfterExit: Duration = .milliseconds(250)
    /// The longest sleep between checks for the child's exit, which poll() cannot see.
    static let longestExitCheckInterval: Duration = .milliseconds(50)
    private static let chunkSize = 65_536

    private var child: SpawnedChild
    private let input: [UInt8]
    private var inputWritten = 0
    private var output: CappedOutput
    private var errorOutput: CappedOutput
    private let timeout: Duration
    private let killGrace: Duration

    /// A supervisor for `child`, spawned for `request`.
    init(child: SpawnedChild, request: ExecRequest) {
        self.child = child
        input = request.standardInput ?? []
        output = CappedOutput(limit: request.outputLimit)
        errorOutput = CappedOutput(limit: request.outputLimit)
        timeout = max(.zero, request.timeout)
        killGrace = max(.zero, request.killGrace)
    }

    /// Runs the child to its end and reaps it; `started` is when spawning began.
    mutating func run(started: ContinuousClock.Instant) -> ExecResult {
        let clock = ContinuousClock()
        let deadline = started + timeout
        var killDeadline: ContinuousClock.Instant?  // set when the timeout passed
        var sentKill = false
        var drainDeadline: ContinuousClock.Instant?  // set when the child has exited
        var exitCheckInterval = Duration.milliseconds(1)
        if input.isEmpty { closeInput() }

        while true {
            if drainDeadline == nil && hasExited() {
                drainDeadline = clock.now + Self.drainTimeAfterExit
                // Timed out: its process group already had SIGTERM; stragglers get no more time.
                if killDeadline != nil && !sentKill {
                    killpg(child.processID, SIGKILL)
                    sentKill = true
                }
            }
            let now = clock.now
            let outputOpen = child.standardOutput >= 0 || child.standardError >= 0
            if let drainDeadline, !outputOpen || now >= drainDeadline { break }

            if killDeadline == nil && drainDeadline == nil && now >= deadline {
                killpg(child.processID, SIGTERM)
                killDeadline = now + killGrace
                closeInput()
            }
            if let killDeadline, !sentKill, drainDeadline == nil, now >= killDeadline {
                killpg(child.processID, SIGKILL)
                sentKill = true
            }

            var wakeUp: ContinuousClock.Instant
            if let drainDeadline {
                wakeUp = drainDeadline
            } else {
                wakeUp = now + exitCheckInterval
                if let killDeadline { if !sentKill { wakeUp = min(wakeUp, killDeadline) } } else { wakeUp = min(wakeUp, deadline) }
            }
            let waitMilliseconds = Int32((wakeUp - now).millisecondsRoundedUp(clampedTo: Int64(Int32.max)))
            if pollOnce(milliseconds: waitMilliseconds) {
                exitCheckInterval = .milliseconds(1)
            } else {
                exitCheckInterval = min(exitCheckInterval * 2, Self.longestExitCheckInterval)
            }
        }

        closeInput()
        for descriptor in [child.standardOutput, child.standardError] where descriptor >= 0 { close(descriptor) }
        child.standardOutput = -1
        child.standardError = -1
        let (exitStatus, signal) = reap()
        return ExecResult(
            exitStatus: exitStatus, signal: signal, timedOut: killDeadline != nil,
            standardOutput: output.bytes, standardOutputTruncated: output.truncated,
            standardError: errorOutput.bytes, standardErrorTruncated: errorOutput.truncated,
            duration: clock.now - started)
    }

    /// Waits up to `milliseconds` for a pipe to be ready and serves it; true when one was.
    private mutating func pollOnce(milliseconds: Int32) -> Bool {
        var descriptors: [pollfd] = []
        if child.standardInput >= 0 { descriptors.append(pollfd(fd: child.standardInput, events: Int16(POLLOUT), revents: 0)) }
        if child.standardOutput >= 0 { descriptors.append(pollfd(fd: child.standardOutput, events: Int16(POLLIN), revents: 0)) }
        if child.standardError >= 0 { descriptors.append(pollfd(fd: child.standardError, events: Int16(POLLIN), revents: 0)) }
        let ready = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        guard ready > 0 else { return false }
        for descriptor in descriptors where descriptor.revents != 0 {
            if descriptor.fd == child.standardInput {
                writeInput()
            } else if descriptor.fd == child.standardOutput {
                Self.read(from: &child.standardOutput, into: &output)
            } else if descriptor.fd == child.standardError {
                Self.read(from: &child.standardError, into: &errorOutput)
            }
        }
        return true
    }

    /// Writes the next part of the standard input; closes it when all is written or the child stopped reading.
    private mutating func writeInput() {
        let remaining = min(input.count - inputWritten, Self.chunkSize)
        let written = input.withUnsafeBytes { write(child.standardInput, $0.baseAddress! + inputWritten, remaining) }
        if written > 0 {
            inputWritten += written
            if inputWritten == input.count { closeInput() }
        } else if written < 0 && errno != EAGAIN && errno != EINTR {
            closeInput()  // EPIPE: the child closed its standard input.
        }
    }

    private mutating func closeInput() {
        if child.standardInput >= 0 { close(child.standardInput) }
        child.standardInput = -1
    }

    /// Reads one chunk from `descriptor` into `buffer`; closes the descriptor (setting it to -1) at end of file.
    private static func read(from descriptor: inout Int32, into buffer: inout CappedOutput) {
        withUnsafeTemporaryAllocation(byteCount: chunkSize, alignment: 1) { scratch in
            let count = Glibc.read(descriptor, scratch.baseAddress, chunkSize)
            if count > 0 {
                buffer.append(UnsafeRawBufferPointer(rebasing: scratch[..<count]))
            } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                close(descriptor)
                descriptor = -1
            }
        }
    }

    /// True once the child has exited; it stays a zombie (so its process group id cannot be reused)
    /// until `reap()`. Also true when someone else already reaped it.
    private func hasExited() -> Bool {
        var info = siginfo_t()
        if waitid(P_PID, id_t(child.processID), &info, WEXITED | WNOHANG | WNOWAIT) == 0 {
            return info._sifields._sigchld.si_pid != 0
        }
        return errno == ECHILD
    }

    /// Collects the child's exit: (exit status, nil) or (nil, signal); (nil, nil) when it was already reaped elsewhere.
    private func reap() -> (Int32?, Int32?) {
        var status: Int32 = 0
        while waitpid(child.processID, &status, 0) < 0 {
            if errno != EINTR { return (nil, nil) }
        }
        let terminatingSignal = status & 0x7f
        if terminatingSignal == 0 { return ((status >> 8) & 0xff, nil) }
        return (nil, terminatingSignal)
    }
}
