import CCurl
import Glibc

/// A spawned child and this process's ends of its standard streams (-1 once closed).
struct SpawnedChild {
    /// The child's process id, which is also its process group id.
    let processID: pid_t
    /// The write end of the child's standard input; -1 when it reads /dev/null.
    var standardInput: Int32
    /// The read end of the child's standard output.
    var standardOutput: Int32
    /// The read end of the child's standard error.
    var standardError: Int32
}

/// Starts a child with posix_spawn: its own process group, default signal dispositions, an empty
/// signal mask, only descriptors 0-2 open, pipes for its standard streams.
enum ChildSpawner {
    /// Spawns the file at `executablePath` as `request` describes.
    static func spawn(executablePath: String, request: ExecRequest) throws(ExecError) -> SpawnedChild {
        let shown = ExecRunner.quotedForMessage(request.program)
        for argument in request.arguments where argument.utf8.contains(0) {
            throw ExecError(message: "cannot run \(shown): an argument contains a NUL byte")
        }
        for (name, value) in request.environment {
            guard !name.isEmpty, !name.utf8.contains(0), !name.utf8.contains(UInt8(ascii: "=")), !value.utf8.contains(0) else {
                throw ExecError(message: "cannot run \(shown): an environment variable's name is empty or contains '=' or a NUL byte, or its value contains a NUL byte")
            }
        }
        if let directory = request.workingDirectory {
            try checkWorkingDirectory(directory, program: shown)
        }

        var pipes: [Int32] = []  // every descriptor made here, closed on failure
        func makePipe() throws(ExecError) -> (read: Int32, write: Int32) {
            guard let pipe = ChildSpawner.makePipe() else {
                let error = errno
                pipes.forEach { close($0) }
                throw ExecError(message: "cannot run \(shown): \(describeSpawnFailure(error))")
            }
            pipes += [pipe.read, pipe.write]
            return pipe
        }
        let input = request.standardInput == nil ? nil : try makePipe()
        let output = try makePipe()
        let errorOutput = try makePipe()

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let input {
            posix_spawn_file_actions_adddup2(&actions, input.read, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errorOutput.write, 2)
        symphony_spawn_add_close_from(&actions, 3)
        if let directory = request.workingDirectory {
            symphony_spawn_add_chdir(&actions, directory)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)

        guard let argumentVector = CStringArray([request.program] + request.arguments) else {
            pipes.forEach { close($0) }
            throw ExecError(message: "cannot run \(shown): \(describeSpawnFailure(ENOMEM))")
        }
        defer { argumentVector.free() }
        guard let environmentVector = CStringArray(request.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }) else {
            pipes.forEach { close($0) }
            throw ExecError(message: "cannot run \(shown): \(describeSpawnFailure(ENOMEM))")
        }
        defer { environmentVector.free() }

        var processID: pid_t = 0
        let result = posix_spawn(&processID, executablePath, &actions, &attributes, argumentVector.pointers, environmentVector.pointers)
        guard result == 0 else {
            pipes.forEach { close($0) }
            throw ExecError(message: "cannot run \(shown): \(describeSpawnFailure(result))")
        }
        // The child holds its own copies now.
        if let input { close(input.read) }
        close(output.write)
        close(errorOutput.write)
        for descriptor in [input?.write, output.read, errorOutput.read].compactMap({ $0 }) {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
        return SpawnedChild(
            processID: processID, standardInput: input?.write ?? -1,
            standardOutput: output.read, standardError: errorOutput.read)
    }

    /// A close-on-exec pipe whose ends are both above the standard descriptors (so the child's
    /// dup2s cannot overwrite one another even when this process runs with 0-2 closed); nil with
    /// errno set on failure.
    private static func makePipe() -> (read: Int32, write: Int32)? {
        var ends: [Int32] = [-1, -1]
        guard symphony_pipe_cloexec(&ends) == 0 else { return nil }
        for index in ends.indices where ends[index] <= 2 {
            let moved = fcntl(ends[index], F_DUPFD_CLOEXEC, 3)
            let error = errno
            close(ends[index])
            ends[index] = moved
            if moved < 0 {
                ends.filter { $0 >= 0 }.forEach { close($0) }
                errno = error
                return nil
            }
        }
        return (ends[0], ends[1])
    }

    /// The working directory must exist and be enterable; checked here because posix_spawn's
    /// ENOENT would not say whether the directory or the program was missing.
    private static func checkWorkingDirectory(_ directory: String, program shown: String) throws(ExecError) {
        let shownDirectory = ExecRunner.quotedForMessage(directory)
        guard !directory.isEmpty, !directory.utf8.contains(0) else {
            throw ExecError(message: "cannot run \(shown): the working directory is empty or contains a NUL byte")
        }
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw ExecError(message: "cannot run \(shown): working directory \(shownDirectory) does not exist")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw ExecError(message: "cannot run \(shown): working directory \(shownDirectory) is not a directory")
        }
        guard access(directory, X_OK) == 0 else {
            throw ExecError(message: "cannot run \(shown): working directory \(shownDirectory) is not accessible")
        }
    }

    /// A short explanation of a posix_spawn or pipe2 error number.
    private static func describeSpawnFailure(_ error: Int32) -> String {
        switch error {
        case ENOENT: "the file or its interpreter does not exist"
        case EACCES, EPERM: "permission denied"
        case ENOEXEC: "not an executable format"
        case EMFILE, ENFILE: "too many open files"
        case E2BIG: "the arguments and environment are too large"
        case ENOMEM, EAGAIN: "not enough memory or processes"
        case ENOTDIR: "a component of its path is not a directory"
        case ETXTBSY: "the file is being written"
        case ELOOP: "too many symbolic links"
        case ENAMETOOLONG: "its path is too long"
        default: "error \(error) (\(String(cString: strerror(error))))"
        }
    }
}
