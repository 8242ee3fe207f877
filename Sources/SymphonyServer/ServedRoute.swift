import HTTPTypes
import Hummingbird

/// Every method and path `symphony serve` answers: the one list the router is built from, and
/// the one the OpenAPI contract test (Tests/SymphonyCLITests/OpenAPIContractTests.swift) holds
/// against docs/reference/openapi.yaml. HEAD is served where GET is; a served path asked with
/// another of `otherMethods` is answered 405 (with `Allow`); anything else 404.
public enum ServedRoute: CaseIterable, Sendable {
    case events
    case webhook
    case intents
    case reload
    case metrics
    case healthz
    case readyz

    /// The request method, as OpenAPI and HTTP spell it ("GET", "POST").
    public var method: String { httpMethod.rawValue }

    /// The path as an OpenAPI path template (`/v1/webhooks/{source}`).
    public var path: String {
        switch self {
        case .events: "/v1/events"
        case .webhook: "/v1/webhooks/{source}"
        case .intents: "/v1/intents"
        case .reload: "/v1/reload"
        case .metrics: "/metrics"
        case .healthz: "/healthz"
        case .readyz: "/readyz"
        }
    }

    /// The methods a served path answers 405 to when they are not its own.
    static let otherMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    var httpMethod: HTTPRequest.Method {
        switch self {
        case .events, .webhook, .intents, .reload: .post
        case .metrics, .healthz, .readyz: .get
        }
    }

    /// The path in Hummingbird's syntax: a `{name}` segment becomes `:name`.
    var routerPath: RouterPath {
        let segments = path.split(separator: "/").map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : String(segment)
        }
        return RouterPath(segments.joined(separator: "/"))
    }
}
