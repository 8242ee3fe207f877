import SymphonyPipeline
import SymphonyAccess

/// What `symphony serve` needs besides the run it serves: where to listen, who may call it, and its limits.
public struct ServerConfiguration: Sendable {
    /// The address to bind (a loopback address unless tokens are required).
    public var host: String = "127.0.0.1"
    /// The port to bind; 0 picks a free one (reported through `onListening`).
    public var port: Int = 8080
    /// Bearer tokens; nil: every request acts as `defaultPrincipal` (bind to loopback then).
    public var tokens: BearerTokens?
    /// The principal requests act as without tokens.
    public var defaultPrincipal: String
    /// The policy each endpoint checks.
    public var access: AccessGuard
    /// The largest request body taken (`--max-body`); larger ones get 413.
    public var maximumBodySize: Int = 1 << 20
    /// Submissions handled at once; beyond it requests get 503 with `Retry-After`.
    public var maximumInFlight: Int = 64
    /// The senders `POST /v1/webhooks/{source}` takes (`--webhooks`); nil: none.
    public var webhooks: WebhookSources?
    /// Re-reads the rule set for `POST /v1/reload`, as the given principal; nil answers 404.
    public var reload: (@Sendable (_ principal: String) -> ReloadOutcome)?
    /// Threads that run submissions (off the event loops: they wait for the queue and the history).
    public var submissionThreads: Int = 16

    /// A configuration acting as `defaultPrincipal` under `access`.
    public init(defaultPrincipal: String, access: AccessGuard) {
        self.defaultPrincipal = defaultPrincipal
        self.access = access
    }
}
