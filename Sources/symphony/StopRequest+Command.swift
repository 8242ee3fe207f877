import ArgumentParser
import SymphonyPipeline

extension StopRequest {
    /// The stop request of a command (`run`, `serve`); says why and exits 1 when it cannot be set up.
    static func forCommand() throws -> StopRequest {
        do {
            return try StopRequest()
        } catch {
            printError("symphony: \(error)")
            throw ExitCode(1)
        }
    }
}
