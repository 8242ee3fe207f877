import Glibc

/// Finds the file `ExecRequest.program` names: an absolute path as-is, a bare name in `PATH`.
enum ProgramLocator {
    /// Where a bare name is looked up when the child's environment has no `PATH`.
    static let defaultSearchPath = "/usr/local/bin:/usr/bin:/bin"

    /// The absolute path of the executable file `program` names, or an error saying why there is none.
    static func executablePath(for program: String, environment: [String: String]) throws(ExecError) -> String {
        let shown = ExecRunner.quotedForMessage(program)
        guard !program.isEmpty else { throw ExecError(message: "cannot run a program with an empty name") }
        guard !program.utf8.contains(0) else { throw ExecError(message: "cannot run \(shown): its name contains a NUL byte") }
        if program.hasPrefix("/") {
            switch status(of: program) {
            case .executable: return program
            case .missing: throw ExecError(message: "cannot run \(shown): no such file")
            case .notExecutable: throw ExecError(message: "cannot run \(shown): not an executable file")
            }
        }
        guard !program.contains("/") else {
            throw ExecError(message: "cannot run \(shown): a program must be an absolute path or a bare name looked up in PATH")
        }
        var foundButNotExecutable = false
        let searchPath = environment["PATH"] ?? defaultSearchPath
        // Only absolute entries: an empty or relative entry would depend on the working directory.
        for directory in searchPath.split(separator: ":") where directory.hasPrefix("/") {
            let candidate = directory.hasSuffix("/") ? "\(directory)\(program)" : "\(directory)/\(program)"
            switch status(of: candidate) {
            case .executable: return candidate
            case .notExecutable: foundButNotExecutable = true
            case .missing: continue
            }
        }
        if foundButNotExecutable {
            throw ExecError(message: "cannot run \(shown): found in PATH but not an executable file")
        }
        throw ExecError(message: "cannot run \(shown): no such program in PATH")
    }

    private enum FileStatus { case executable, notExecutable, missing }

    private static func status(of path: String) -> FileStatus {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        guard info.st_mode & S_IFMT == S_IFREG, access(path, X_OK) == 0 else { return .notExecutable }
        return .executable
    }
}
