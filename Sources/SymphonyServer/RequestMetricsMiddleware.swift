import CoreMetrics
import Hummingbird

/// Counts and times every HTTP request by route (the pattern, such as `/v1/webhooks/{source}`,
/// never the path a client sent, so hostile paths cannot grow the label set), method and status:
/// `symphony_http_requests_total{route, method, status}` and
/// `symphony_http_request_duration_seconds{route, method}` (a histogram, until the response is
/// made: every answer's body is built in memory before it is sent).
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let factory: any MetricsFactory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let method = request.method.rawValue
        do {
            let response = try await next(request, context)
            Self.record(route: context.endpointPath ?? "unmatched", method: method, status: response.status.code, since: started, factory: factory)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            Self.record(route: context.endpointPath ?? "unmatched", method: method, status: status, since: started, factory: factory)
            throw error
        }
    }

    private static func record(route: String, method: String, status: Int, since started: ContinuousClock.Instant, factory: any MetricsFactory) {
        let elapsed = ContinuousClock.now - started
        let (seconds, attoseconds) = elapsed.components
        CoreMetrics.Counter(
            label: "symphony_http_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory
        ).increment()
        CoreMetrics.Timer(label: "symphony_http_request_duration_seconds", dimensions: [("route", route), ("method", method)], factory: factory)
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
