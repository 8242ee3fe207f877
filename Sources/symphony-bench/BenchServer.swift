import Glibc

/// A `symphony serve` process for the benchmarks: started on a free loopback port, sampled for
/// memory while it runs, stopped with SIGTERM (which drains its queue and closes its history).
final class BenchServer {
    let pid: pid_t
    let port: Int
    private let stderrPath: String

    /// Starts `arguments` (which must include `--listen 127.0.0.1:0`) and waits up to 30 s for
    /// its `symphony: listening on HOST:PORT` line; nil, with a message, when it did not come.
    init?(_ arguments: [String], stderrPath: String) {
        self.stderrPath = stderrPath
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { posix_spawn_file_actions_destroy(&actions) }
        guard posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 else {
            print("symphony-bench: cannot start \(arguments[0])")
            return nil
        }
        self.pid = pid
        var port = 0
        for _ in 0..<3_000 where port == 0 {
            usleep(10_000)
            for line in BenchProcess.read(stderrPath).split(separator: "\n") where line.hasPrefix("symphony: listening on ") {
                port = Int(line.split(separator: ":").last ?? "") ?? 0
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { break }
        }
        guard port > 0 else {
            print("symphony-bench: the server did not start: \(BenchProcess.read(stderrPath).suffix(500))")
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            return nil
        }
        self.port = port
    }

    /// The server's resident memory now and at its peak since it started, MiB.
    var memory: (residentMiB: Double, peakMiB: Double) {
        var resident = 0
        var peak = 0
        if let file = fopen("/proc/\(pid)/status", "r") {
            defer { fclose(file) }
            var line = [CChar](repeating: 0, count: 256)
            while fgets(&line, Int32(line.count), file) != nil {
                let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if text.hasPrefix("VmRSS:") { resident = Int(text.dropFirst(6).filter(\.isNumber)) ?? 0 }
                if text.hasPrefix("VmHWM:") { peak = Int(text.dropFirst(6).filter(\.isNumber)) ?? 0 }
            }
        }
        return (Double(resident) / 1024, Double(peak) / 1024)
    }

    /// Sends SIGTERM and waits for the exit; returns the exit status and the summary line.
    func stop() -> (status: Int32, summary: String) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let summary = BenchProcess.read(stderrPath).split(separator: "\n").last { $0.contains("events read") }.map(String.init) ?? ""
        return (exit, summary)
    }
}
