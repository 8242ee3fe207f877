import Glibc
import SymphonyConcurrency
import SymphonyPipeline

/// SIGINT and SIGTERM during `symphony run`: each requests the pipeline's stop (the reader reads
/// no more input but hands on what it already read; derived publishes fail; a `--follow` wait
/// ends). The reading thread then finishes the run, as at the end of the input.
final class RunSignals: Sendable {
    private let stop: StopRequest

    init(stop: StopRequest) {
        self.stop = stop
    }

    /// Runs `reload` on each SIGHUP (instead of the default, which kills the process).
    func onHangUp(_ reload: @escaping @Sendable () -> Void) {
        SignalWatcher.watch([SIGHUP]) { _ in reload() }
    }

    /// Replaces the default handlers (which would kill the process) with a stop request.
    func install() {
        SignalWatcher.watch([SIGINT, SIGTERM]) { [stop] number in stop.request(because: number == SIGINT ? "SIGINT" : "SIGTERM") }
    }
}
