import SymphonyIntents
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SymphonyAccess
import SymphonyConcurrency
import SymphonyEvents
import SymphonyJSON
import SymphonyPipeline
import SymphonyRecords

/// The HTTP API of `symphony serve` over a running `ServedRun` (see docs/reference/http-api.md and docs/reference/openapi.yaml):
///
/// - `POST /v1/events`: one JSON event or JSON Lines → `{accepted, rejected, denied, errors: [{line, reason}]}`
/// - `POST /v1/webhooks/{source}`: a webhook sender's raw JSON body → one event, answered as `/v1/events`
/// - `POST /v1/intents`: `{"text": …}` → ranked intents with scores, slots and evidence
/// - `POST /v1/reload`: re-read the rule files → `{reloaded, rules, errors}`
/// - `GET /metrics`: Prometheus text; `GET /healthz`, `GET /readyz`: probes (no token needed)
///
/// `ServedRoute` lists them; the router is built from that list and nothing else.
///
/// Submissions run on a thread pool of their own, never on an event loop: they wait for the
/// queue and for the history's group commit. At most `maximumInFlight` run at once; more get
/// 503 with `Retry-After`.
public final class SymphonyHTTPServer: Sendable {
    private let served: any ServedRun
    private let configuration: ServerConfiguration
    private let history: (any AuditRecording)?
    private let gate: SubmissionGate
    private let metrics: ServerMetrics
    private let pool: NIOThreadPool
    private let logger: Logger
    private let serviceGroup = Locked<(group: ServiceGroup?, shutdownRequested: Bool)>((nil, false))

    /// A server for `served`; `history` is where HTTP-level denials are audited (the run's);
    /// `metrics` is the registry `GET /metrics` shows (give the run and the history the same one).
    public init(
        serving served: any ServedRun, configuration: ServerConfiguration, history: (any AuditRecording)?, metrics: ServerMetrics = ServerMetrics(),
        logger: Logger = Logger(label: "symphony.serve")
    ) {
        self.served = served
        self.metrics = metrics
        self.configuration = configuration
        self.history = history
        self.logger = logger
        gate = SubmissionGate(limit: configuration.maximumInFlight)
        pool = NIOThreadPool(numberOfThreads: max(1, configuration.submissionThreads))
    }

    /// The Hummingbird application: bind it and serve until `shutdown` triggers; `onListening`
    /// gets the bound port. The caller runs it in a `ServiceGroup` (graceful shutdown: stop
    /// accepting, finish the requests in flight).
    func application(onListening: @escaping @Sendable (Int) -> Void) -> some ApplicationProtocol & Service {
        pool.start()
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware(factory: metrics.factory))
        for route in ServedRoute.allCases {
            router.on(route.routerPath, method: route.httpMethod) { [self] request, context in try await respond(to: route, request, context) }
            // HEAD where GET is served: the same answer without its body (the server sends none for HEAD).
            if route.httpMethod == .get {
                router.on(route.routerPath, method: .head) { [self] request, context in try await respond(to: route, request, context) }
            }
            // A served path asked with another method: 405, naming the method it takes.
            for method in ServedRoute.otherMethods where method != route.httpMethod && !(route.httpMethod == .get && method == .head) {
                router.on(route.routerPath, method: method) { request, _ in try Self.methodNotAllowed(request, allowed: route) }
            }
        }
        let address = configuration.host
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(address, port: configuration.port), serverName: nil),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Serves until `shutdown()`: binds, calls `onListening` with the bound port, answers requests;
    /// on shutdown stops accepting, finishes the requests in flight and the submissions they
    /// started, then returns (the caller then finishes the run). Throws when it cannot bind.
    public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        let app = application(onListening: onListening)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [], logger: logger))
        let stopNow = serviceGroup.withLock { held -> Bool in
            held.group = group
            return held.shutdownRequested
        }
        if stopNow { await group.triggerGracefulShutdown() }
        defer { serviceGroup.withLock { $0.group = nil } }
        do {
            try await group.run()
        } catch {
            try? await pool.shutdownGracefully()
            throw error
        }
        try? await pool.shutdownGracefully()
    }

    /// Asks a running server to stop gracefully (from any thread; before `run` it stops at once).
    public func shutdown() async {
        let group = serviceGroup.withLock { held -> ServiceGroup? in
            held.shutdownRequested = true
            return held.group
        }
        await group?.triggerGracefulShutdown()
    }

    // MARK: - Endpoints

    /// 405 with `Allow` for a served path asked with a method it does not take (404, as an
    /// unknown path, for a spelling with empty segments).
    private static func methodNotAllowed(_ request: Request, allowed route: ServedRoute) throws -> Response {
        guard !request.uri.path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
            throw HTTPError(.notFound)
        }
        var response = json(.methodNotAllowed, ["error": .string("\(request.method.rawValue) is not allowed here; use \(route.method)")])
        response.headers[HTTPField.Name("Allow")!] = route.method
        return response
    }

    /// The answer of `route`: every route of `ServedRoute` has its handler here.
    private func respond(to route: ServedRoute, _ request: Request, _ context: BasicRequestContext) async throws -> Response {
        // The router also matches a path with empty segments (`/healthz/`, `//healthz`): only the
        // documented spelling is served, anything else is 404 as an unknown path is.
        guard !request.uri.path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
            throw HTTPError(.notFound)
        }
        switch route {
        case .healthz:
            return Self.json(.ok, ["status": "ok"])
        case .readyz:
            return served.isTakingInput
                ? Self.json(.ok, ["status": "ready"]) : Self.json(.serviceUnavailable, ["status": "not ready", "reason": "the run is stopping or its history failed"])
        case .metrics:
            if let refusal = authorize(request, .readMetrics, target: "GET /metrics").refusal { return refusal }
            // Off the event loop: a cluster node reads its gauges from the database.
            let (metrics, served, inFlight) = (self.metrics, self.served, gate.count)
            guard let text = try? await pool.runIfActive({ metrics.scrape(served, inFlight: inFlight) }) else { return stopping() }
            var response = Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
            response.headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return response
        case .events: return try await events(request)
        case .intents: return try await intents(request)
        case .reload: return try await reload(request)
        case .webhook: return try await webhook(request, source: context.parameters.get("source") ?? "")
        }
    }

    private func events(_ request: Request) async throws -> Response {
        let auth = authenticate(request)
        guard case .principal(let principal) = auth else { return auth.refusal! }
        guard gate.enter() else { return overloaded() }
        defer { gate.leave() }
        let body: [UInt8]
        switch try await readBody(request) {
        case .success(let bytes): body = bytes
        case .failure(let refusal): return refusal.response
        }
        return await submit(EventLines.decode(body, source: "http:\(principal)"), principal: principal)
    }

    /// A raw JSON body from a webhook sender becomes one event: its type from the source's header
    /// or field, its payload the body; a signed source's signature is checked first.
    private func webhook(_ request: Request, source name: String) async throws -> Response {
        guard let source = configuration.webhooks?.sources[name] else {
            return Self.json(.notFound, ["error": "no such webhook source"])
        }
        var principal = source.principal
        if source.secret == nil {
            let auth = authenticate(request)
            guard case .principal(let authenticated) = auth else { return auth.refusal! }
            principal = authenticated
        }
        guard gate.enter() else { return overloaded() }
        defer { gate.leave() }
        let body: [UInt8]
        switch try await readBody(request) {
        case .success(let bytes): body = bytes
        case .failure(let refusal): return refusal.response
        }
        if let secret = source.secret {
            guard let signature = request.headers[HTTPField.Name("X-Hub-Signature-256")!],
                WebhookSources.verify(signature: signature, body: body, secret: secret)
            else {
                return Self.json(.unauthorized, ["error": "missing or wrong X-Hub-Signature-256"])
            }
        }
        let item: SourceItem
        let origin = SourceOrigin(source: "webhook:\(name)", line: 1)
        switch Self.webhookEvent(request, body: body, source: source) {
        case .success(let event): item = SourceItem(result: .success(event), origin: origin)
        case .failure(let problem): item = SourceItem(result: .failure(InputLineError(reason: problem.reason, content: body)), origin: origin)
        }
        return await submit([item], principal: principal)
    }

    /// Hands `items` to the run off the event loop and answers with what became of them: 200 when
    /// any was accepted (or there were none), else 403 when all were denied, 400 when all were
    /// rejected; 503 with `Retry-After` while stopping (the queue took none of the events it was
    /// given, say), 500 when history failed.
    private func submit(_ items: [SourceItem], principal: String) async -> Response {
        let served = self.served
        let result: SubmitResult
        do {
            result = try await pool.runIfActive { served.submit(items, principal: principal) }
        } catch {
            return stopping()
        }
        metrics.accepted(result.accepted)
        if result.refused {
            return Self.json(.serviceUnavailable, ["error": "the service is not taking events (stopping, or its history failed)"], retryAfter: true)
        }
        if let failure = result.historyFailure { return Self.json(.internalServerError, ["error": .string(failure)]) }
        if result.accepted == 0 && result.dropped > 0 {
            return Self.json(.serviceUnavailable, ["error": "the service is stopping: the queue took none of the events"], retryAfter: true)
        }
        let answer: JSONValue = [
            "accepted": .int(Int64(result.accepted)), "rejected": .int(Int64(result.rejected)), "denied": .int(Int64(result.denied)),
            "errors": .array(result.problems.map { ["line": .int(Int64($0.line)), "reason": .string($0.reason)] }),
        ]
        let status: HTTPResponse.Status
        if result.accepted > 0 || (result.denied == 0 && result.rejected == 0) {
            status = .ok
        } else if result.denied > 0 && result.rejected == 0 {
            status = .forbidden
        } else {
            status = .badRequest
        }
        return Self.json(status, answer)
    }

    /// The event a webhook body makes, or why it makes none.
    private static func webhookEvent(_ request: Request, body: [UInt8], source: WebhookSources.Source) -> Result<Event, InputLineError> {
        let payload: JSONValue
        do {
            payload = try JSONParser.parse(body)
        } catch {
            return .failure(InputLineError(reason: "the body is not valid JSON: \(error)"))
        }
        guard case .object(let fields) = payload else { return .failure(InputLineError(reason: "the body must be a JSON object")) }
        var name: String?
        if let header = source.typeHeader {
            guard let field = HTTPField.Name(header), let value = request.headers[field] else {
                return .failure(InputLineError(reason: "the header '\(header)' that names the event type is missing"))
            }
            name = value
        } else if let key = source.typeField {
            switch PayloadEvent.typeName(in: fields, field: key) {
            case .success(let value): name = value
            case .failure(let problem): return .failure(problem)
            }
        }
        return PayloadEvent.make(type: source.typePrefix + (name ?? ""), payload: payload)
    }

    /// `POST /v1/reload`: re-reads the rule files; 200 with the new rule count, or 422 with the
    /// errors that refused them (the running rules stay).
    private func reload(_ request: Request) async throws -> Response {
        let auth = authorize(request, .loadRules, target: "POST /v1/reload")
        if let refusal = auth.refusal { return refusal }
        guard case .principal(let principal) = auth, let reload = configuration.reload else {
            return Self.json(.notFound, ["error": "this server does not reload"])
        }
        guard gate.enter() else { return overloaded() }
        defer { gate.leave() }
        guard let outcome = try? await pool.runIfActive({ reload(principal) }) else { return stopping() }
        let body: JSONValue = [
            "reloaded": .bool(outcome.reloaded), "rules": .int(Int64(outcome.rules)), "errors": .array(outcome.errors.map(JSONValue.string)),
        ]
        return Self.json(outcome.reloaded ? .ok : .unprocessableContent, body)
    }

    private func intents(_ request: Request) async throws -> Response {
        let auth = authorize(request, .analyzeIntents, target: "POST /v1/intents")
        if let refusal = auth.refusal { return refusal }
        guard gate.enter() else { return overloaded() }
        defer { gate.leave() }
        let body: [UInt8]
        switch try await readBody(request) {
        case .success(let bytes): body = bytes
        case .failure(let refusal): return refusal.response
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            return Self.json(.badRequest, ["error": .string("the body is not valid JSON: \(error)")])
        }
        guard case .object(let fields) = value, case .string(let text)? = fields["text"] else {
            return Self.json(.badRequest, ["error": "the body must be a JSON object with a string 'text'"])
        }
        var top: Int?
        if let given = fields["top"] {
            guard case .int(let number) = given, number >= 1 else { return Self.json(.badRequest, ["error": "'top' must be an integer of at least 1"]) }
            top = Int(clamping: number)
        }
        let recognizer = served.ruleSet.recognizer
        let limit = top
        guard let result = try? await pool.runIfActive({ IntentReport.json(text: text, recognizer: recognizer, top: limit) }) else { return stopping() }
        return Self.json(.ok, result)
    }

    // MARK: - Helpers

    /// The body, or the response refusing it (413 over the limit).
    private func readBody(_ request: Request) async throws -> Result<[UInt8], ResponseError> {
        let limit = configuration.maximumBodySize
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            return .failure(ResponseError(Self.json(.contentTooLarge, ["error": .string("the body is larger than \(limit) bytes")])))
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return .success(Array(buffer.readableBytesView))
        } catch is NIOTooManyBytesError {
            return .failure(ResponseError(Self.json(.contentTooLarge, ["error": .string("the body is larger than \(limit) bytes")])))
        }
    }

    private func overloaded() -> Response {
        metrics.overloaded()
        return Self.json(.serviceUnavailable, ["error": "too many requests in flight; retry later"], retryAfter: true)
    }

    /// The answer when the submission thread pool no longer runs work: the server is shutting down.
    private func stopping() -> Response {
        Self.json(.serviceUnavailable, ["error": "the service is shutting down"], retryAfter: true)
    }

    /// Who the request acts as: its bearer token's principal, or the default one without tokens.
    private func authenticate(_ request: Request) -> Authentication {
        guard let tokens = configuration.tokens else { return .principal(configuration.defaultPrincipal) }
        guard let header = request.headers[.authorization] else {
            return .refused(Self.json(.unauthorized, ["error": "missing bearer token"], challenge: true))
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", let principal = tokens.principal(for: parts[1].trimmingCharacters(in: .whitespaces)) else {
            return .refused(Self.json(.unauthorized, ["error": "invalid bearer token"], challenge: true))
        }
        return .principal(principal)
    }

    /// Authenticates, then checks `operation`; a denial is answered 403 and audited.
    private func authorize(_ request: Request, _ operation: AccessOperation, target: String) -> Authentication {
        let auth = authenticate(request)
        guard case .principal(let principal) = auth else { return auth }
        do {
            try configuration.access.check(operation, as: principal)
            return auth
        } catch {
            history?.audit(AuditRecord(principal: principal, operation: .accessDenied, target: target, outcome: "denied", details: error.description))
            return .refused(Self.json(.forbidden, ["error": .string(error.description)]))
        }
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue, retryAfter: Bool = false, challenge: Bool = false) -> Response {
        var response = Response(status: status, body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonText + "\n")))
        response.headers[.contentType] = "application/json"
        if retryAfter { response.headers[.retryAfter] = "1" }
        if challenge { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}

/// A request's principal, or the response that refuses it.
enum Authentication {
    case principal(String)
    case refused(Response)

    var refusal: Response? {
        if case .refused(let response) = self { return response }
        return nil
    }
}

/// A response that ends a request early, as an error value.
struct ResponseError: Error {
    let response: Response
    init(_ response: Response) { self.response = response }
}
