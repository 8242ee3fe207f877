import SymphonyPipeline
import Glibc
import SymphonyEvents

/// The `--stage-times` report: time inside each stage, per input event, and each stage's share.
///
/// Stage times are wall time on the measuring threads. When more threads are busy than there are
/// cores, each is descheduled part of the time, so the stages add up to more than the process's
/// CPU time; shares are therefore of the sum of the stages, which spreads that inflation evenly.
/// Waiting — for an empty queue, for room in a full queue or history buffer — is in no stage.
struct StageReport {
    let times: [StageTimes.Stage: Int64]
    let events: Int
    /// User plus system CPU time of the whole process so far.
    let cpuNanoseconds: Int64

    init(times: [StageTimes.Stage: Int64], events: Int, cpuNanoseconds: Int64 = StageReport.processCPUNanoseconds()) {
        self.times = times
        self.events = events
        self.cpuNanoseconds = cpuNanoseconds
    }

    /// A heading, then one line per stage: `stage <name> <ms> ms <µs> µs/event <share>%`.
    var text: String {
        let perEvent = Double(max(events, 1))
        let total = Double(max(1, StageTimes.Stage.allCases.reduce(Int64(0)) { $0 + max(0, times[$1] ?? 0) }))
        var lines = [
            "symphony: stage times over \(events) input events (wall time inside each stage, summed over threads: "
                + "\(formatted(total / 1e9, decimals: 2)) s; process CPU time \(formatted(Double(cpuNanoseconds) / 1e9, decimals: 2)) s):"
        ]
        for stage in StageTimes.Stage.allCases {
            let nanoseconds = Double(max(0, times[stage] ?? 0))
            lines.append(
                "stage \(stage.name.replacingOccurrences(of: " ", with: "-")) \(formatted(nanoseconds / 1e6, decimals: 1)) ms "
                    + "\(formatted(nanoseconds / 1e3 / perEvent, decimals: 2)) µs/event \(formatted(100 * nanoseconds / total, decimals: 1))%")
        }
        return lines.joined(separator: "\n")
    }

    static func processCPUNanoseconds() -> Int64 {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func nanoseconds(_ time: timeval) -> Int64 { Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_usec) * 1_000 }
        return nanoseconds(usage.ru_utime) + nanoseconds(usage.ru_stime)
    }
}
