import Glibc

/// Running the `symphony` binary from the benchmarks: one measured run, the best of several, and
/// the files around it (key, database, rule file).
enum BenchProcess {
    /// One run of a child process.
    struct Run {
        /// Wall-clock seconds.
        let seconds: Double
        /// The child's own peak resident memory (`VmHWM`), MiB.
        let peakMiB: Double
        /// User plus system CPU seconds.
        let cpuSeconds: Double
    }

    /// Runs `arguments` (stdout to `stdoutPath`, stderr to `stderrPath`); nil when it could not start or exited non-zero.
    /// `whileRunning` is called about every 2 ms until the child exits (to sample something else).
    static func measure(
        _ arguments: [String], stdoutPath: String = "/dev/null", stderrPath: String = "/dev/null", whileRunning: () -> Void = {}
    ) -> Run? {
        let start = RuntimeBenchmarks.monotonicNanoseconds()
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { posix_spawn_file_actions_destroy(&actions) }
        guard posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 else { return nil }
        var status: Int32 = 0
        var usage = rusage()
        // Not `ru_maxrss`: posix_spawn's child shares this process's memory until it execs, and the
        // kernel counts that in the child's maximum, so every child would report this process's
        // size. `VmHWM` is the peak of the child's own image since its exec; it is sampled every
        // 2 ms while the child runs (a peak reached in its last 2 ms can be missed).
        var peakKiB = 0
        while true {
            let reaped = wait4(pid, &status, WNOHANG, &usage)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { return nil }
            if let sample = highWaterMarkKiB(of: pid) { peakKiB = max(peakKiB, sample) }
            whileRunning()
            usleep(2_000)
        }
        guard status == 0 else { return nil }
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return Run(seconds: Double(RuntimeBenchmarks.monotonicNanoseconds() - start) / 1e9, peakMiB: Double(peakKiB) / 1024, cpuSeconds: cpu)
    }

    /// `VmHWM` of a running process, in KiB, from `/proc/PID/status`; nil when it cannot be read.
    static func highWaterMarkKiB(of pid: pid_t) -> Int? {
        guard let file = fopen("/proc/\(pid)/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("VmHWM:") else { continue }
            return Int(text.dropFirst(6).filter(\.isNumber))
        }
        return nil
    }

    /// The fastest of `count` runs of `arguments`, `before` running ahead of each (for example to
    /// remove a database); nil, with a message, when every run failed — so no result is reported.
    static func best(of count: Int, _ arguments: [String], before: () -> Void = {}) -> Run? {
        var best: Run?
        for _ in 0..<count {
            before()
            guard let run = measure(arguments) else {
                print("symphony-bench: run failed: \(arguments.joined(separator: " "))")
                continue
            }
            if best.map({ run.seconds < $0.seconds }) ?? true { best = run }
        }
        return best
    }

    /// Makes the key file at `path` with `symphony keygen` unless it exists.
    static func ensureKey(binary: String, at path: String) {
        if access(path, F_OK) != 0 { _ = measure([binary, "keygen", "-o", path]) }
    }

    /// The full path of `name` found on `PATH` (posix_spawn does not search it), or nil.
    static func executable(_ name: String) -> String? {
        guard let path = getenv("PATH") else { return nil }
        for directory in String(cString: path).split(separator: ":") where access("\(directory)/\(name)", X_OK) == 0 {
            return "\(directory)/\(name)"
        }
        return nil
    }

    /// The whole text of the file at `path` ("" when it cannot be read).
    static func read(_ path: String) -> String {
        guard let file = fopen(path, "r") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Removes a SQLite database with its write-ahead log and shared-memory files.
    static func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
    }

    /// Writes `text` to `path`, saying so when it cannot.
    static func write(_ text: String, to path: String) {
        guard let file = fopen(path, "w") else {
            print("symphony-bench: cannot write \(path)")
            return
        }
        fputs(text, file)
        fclose(file)
    }
}
