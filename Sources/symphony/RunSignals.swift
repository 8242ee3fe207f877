import Dispatch
import Glibc
import SymphonyConcurrency
import SymphonyPipeline

/// SIGINT and SIGTERM during `symphony run`: each requests the pipeline's stop (the reader reads
/// no more input but hands on what it already read; derived publishes fail; a `--follow` wait
/// ends). The reading thread then finishes the run, as at the end of the input.
final class RunSignals: Sendable {
    private let stop: StopRequest
    private let sources = Locked<[any DispatchSourceSignal]>([])

    init(stop: StopRequest) {
        self.stop = stop
    }

    /// Runs `reload` on each SIGHUP (instead of the default, which kills the process).
    func onHangUp(_ reload: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler(handler: reload)
        source.resume()
        sources.withLock { $0.append(source) }
    }

    /// Replaces the default handlers (which would kill the process) with a stop request.
    func install() {
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [stop] in stop.request(because: name) }
            source.resume()
            sources.withLock { $0.append(source) }
        }
    }
}
