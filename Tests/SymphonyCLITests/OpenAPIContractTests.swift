import Foundation
import SymphonyActions
import SymphonyCrypto
import SymphonyServer
import Testing

/// `symphony serve` held against docs/reference/openapi.yaml: the routes it serves are the documented
/// ones, and every documented response that can be provoked from outside is provoked for real
/// and checked for its status, Content-Type, documented headers and JSON body schema.
@Suite(.timeLimit(.minutes(12))) struct OpenAPIContractTests {
    static let policy = """
        roles:
          ingest: ["rules:load", "events:publish:tick", "events:publish:deploy.done"]
          reader: ["intents:analyze", "metrics:read"]
          hooks: ["events:publish:github.push"]
        principals:
          service:ingest: [ingest]
          service:reader: [reader]
          webhook:github: [hooks]
        """

    /// A signed source (its principal may publish github.push only) and an unsigned one.
    static let webhooks = """
        sources:
          github:
            secret_file: github.secret
            type_header: X-GitHub-Event
            type_prefix: github.
          deploy:
            type_field: kind
            type_prefix: deploy.
        """

    static let secret = "s3cret"

    /// A value for each path parameter of the document, so a path template becomes a path that exists.
    static let pathParameters = ["source": "github"]

    /// Documented responses no test here provokes, and why: the test fails when one of them is
    /// provoked after all, or is no longer documented.
    static let notProvoked = [
        "POST /v1/events 500": "the history must fail to commit while the run goes on; nothing outside the process does that deterministically",
        "POST /v1/webhooks/{source} 500": "as for POST /v1/events: the history must fail to commit",
        "GET /readyz 503": "serve requests the run's stop only after the listener has closed, so no request sees it; a failed history needs a failing disk",
    ]

    /// A server with bearer tokens, a policy, both kinds of webhook source, history, a 4 KiB body
    /// limit and one `--max-in-flight` slot; `--as service:ingest` (which may load rules).
    func startServer() throws -> (server: ServingCommand, directory: String) {
        let directory = try freshDirectory()
        try Data(ServeCommandTests.rules.utf8).write(to: URL(fileURLWithPath: directory + "/rules.yaml"))
        try Data(Self.policy.utf8).write(to: URL(fileURLWithPath: directory + "/policy.yaml"))
        try Data(Self.webhooks.utf8).write(to: URL(fileURLWithPath: directory + "/webhooks.yaml"))
        try Data((Self.secret + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/github.secret"))
        let tokens = """
            service:ingest \(BearerTokens.hashHex(of: "ingest-token"))
            service:reader \(BearerTokens.hashHex(of: "reader-token"))
            """
        try Data(tokens.utf8).write(to: URL(fileURLWithPath: directory + "/tokens"))
        #expect(try CommandRunner.run(["keygen", "-o", directory + "/key"]).status == 0)
        let server = try ServingCommand(
            [
                "--rules", directory + "/rules.yaml", "--policy", directory + "/policy.yaml", "--tokens", directory + "/tokens",
                "--webhooks", directory + "/webhooks.yaml", "--as", "service:ingest", "--db", directory + "/h.db", "--key-file", directory + "/key",
                "--max-body", "4096", "--max-in-flight", "1",
            ], directory: directory)
        try #require(server.port > 0, "\(server.stderr)")
        return (server, directory)
    }

    /// The `X-Hub-Signature-256` of `body` under the github source's secret.
    func signature(_ body: String) -> HTTPHeader {
        HTTPHeader(name: "X-Hub-Signature-256", value: "sha256=" + Hex.encode(HMACSHA256.mac(Array(body.utf8), key: Array(Self.secret.utf8))))
    }

    @Test("the routes the server serves are the documented operations; HEAD where GET is; another method on a served path is 405 with Allow; other paths are 404")
    func servedRoutesAreTheDocumentedOnes() throws {
        let document = try OpenAPIDocument.repository()
        let served = Set(ServedRoute.allCases.map { OpenAPIDocument.Operation(method: $0.method, path: $0.path) })
        #expect(served == document.operations, "served, not documented: \(served.subtracting(document.operations)); documented, not served: \(document.operations.subtracting(served))")

        let (server, _) = try startServer()
        for path in Set(document.operations.map(\.path)).sorted() {
            var concrete = path
            for (name, value) in Self.pathParameters { concrete = concrete.replacingOccurrences(of: "{\(name)}", with: value) }
            let allowed = document.operations.filter { $0.path == path }.map(\.method)
            if allowed.contains("GET") {
                // HEAD is GET's answer without the body.
                let get = try server.request("GET", concrete, token: "ingest-token")
                let head = try server.request("HEAD", concrete, token: "ingest-token")
                #expect(head.status == get.status && head.body.isEmpty, "HEAD \(concrete)")
            }
            for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
            where !allowed.contains(method) && !(method == "HEAD" && allowed.contains("GET")) {
                let answer = try server.request(method, concrete, token: "ingest-token")
                #expect(answer.status == 405, "\(method) \(concrete)")
                #expect(answer.response.headers.first { $0.name.lowercased() == "allow" }?.value == allowed.first, "\(method) \(concrete)")
                if method != "HEAD" {
                    #expect(String(decoding: answer.body, as: UTF8.self).contains("is not allowed here; use \(allowed.first ?? "")"), "\(method) \(concrete)")
                }
            }
            // The same path spelled with an empty segment is not served, whatever the method.
            #expect(try server.request("PUT", concrete + "/", token: "ingest-token").status == 404, "PUT \(concrete)/")
        }
        let undocumented = [
            "/", "/v1", "/v1/event", "/v1/events/1", "/v1/events/", "//v1/events", "/v1//events", "/v1/webhooks", "/v1/webhooks/",
            "/v1/webhooks/github/", "/v1/webhooks/github/push", "/metrics/x", "/healthz/", "/V1/EVENTS", "/v2/events", "/openapi.yaml",
        ]
        for path in undocumented {
            for method in ["GET", "POST"] {
                #expect(try server.request(method, path, token: "ingest-token").status == 404, "\(method) \(path)")
            }
        }
        #expect(server.stop() == 143)
    }

    @Test("every documented response that can be provoked is, and conforms: status, Content-Type, required headers, JSON body by its schema")
    func responsesConformToTheDocument() throws {
        let document = try OpenAPIDocument.repository()
        let (server, directory) = try startServer()
        var seen: Set<String> = []

        /// Sends a request for `route` (to `path`, by default the route's own), expects
        /// `status`, checks the answer against the document and records it as seen.
        @discardableResult
        func call(
            _ route: ServedRoute, _ path: String? = nil, body: String? = nil, token: String? = nil, headers: [HTTPHeader] = [], expect status: Int,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws -> HTTPResponseSummary {
            let operation = OpenAPIDocument.Operation(method: route.method, path: route.path)
            let answer = try server.request(route.method, path ?? route.path, body: body.map { Data($0.utf8) }, token: token, headers: headers).response
            #expect(answer.status == status, "\(operation): \(String(decoding: answer.body, as: UTF8.self))", sourceLocation: sourceLocation)
            let problems = document.problems(with: answer, of: operation)
            #expect(problems.isEmpty, "\(operation) → \(answer.status): \(problems.joined(separator: "; "))", sourceLocation: sourceLocation)
            seen.insert("\(operation) \(answer.status)")
            return answer
        }
        /// Checks that a request body the server accepts also conforms to the documented request schema.
        func expectDocumentedRequest(_ route: ServedRoute, _ body: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let operation = OpenAPIDocument.Operation(method: route.method, path: route.path)
            let problems = try document.requestProblems(body: Array(body.utf8), contentType: "application/json", of: operation)
            #expect(problems.isEmpty, "\(operation): \(problems.joined(separator: "; "))", sourceLocation: sourceLocation)
        }
        let large = String(repeating: #"{"type":"tick"}"# + "\n", count: 400)

        // 503: with the only --max-in-flight slot held, each route that takes a slot is refused
        // with Retry-After; the metrics and the probes take none and still answer.
        do {
            let held = try server.holdSlot(token: "ingest-token", metricsToken: "reader-token")
            try call(.events, body: #"{"type":"tick"}"#, token: "ingest-token", expect: 503)
            let push = #"{"ref":"refs/heads/main"}"#
            try call(.webhook, "/v1/webhooks/github", body: push, headers: [HTTPHeader(name: "X-GitHub-Event", value: "push"), signature(push)], expect: 503)
            try call(.intents, body: #"{"text":"refund order 1"}"#, token: "reader-token", expect: 503)
            try call(.reload, token: "ingest-token", expect: 503)
            try call(.metrics, token: "reader-token", expect: 200)
            try call(.healthz, expect: 200)
            try call(.readyz, expect: 200)
            held.release()
            try #require(try server.waitForRequestsInFlight(0, metricsToken: "reader-token"), "the held request never gave its slot back")
        }

        // POST /v1/events
        let event = #"{"type":"tick","id":"c-1","payload":{"n":1},"priority":3}"#
        try expectDocumentedRequest(.events, event)
        try call(.events, body: event, token: "ingest-token", expect: 200)
        try call(.events, body: "{\"type\":\"tick\"}\nnot json\n", token: "ingest-token", expect: 200)
        try call(.events, body: "", token: "ingest-token", expect: 200)
        try call(.events, body: "not json\n{\"payload\":{}}\n", token: "ingest-token", expect: 400)
        let unauthenticated = try call(.events, body: event, expect: 401)
        #expect(unauthenticated.header("WWW-Authenticate") == "Bearer")
        try call(.events, body: event, token: "wrong-token", expect: 401)
        try call(.events, body: event, token: "reader-token", expect: 403)
        try call(.events, body: large, token: "ingest-token", expect: 413)

        // POST /v1/webhooks/{source}
        let push = #"{"ref":"refs/heads/main","repository":{"full_name":"acme/app"}}"#
        try call(.webhook, "/v1/webhooks/github", body: push, headers: [HTTPHeader(name: "X-GitHub-Event", value: "push"), signature(push)], expect: 200)
        try call(.webhook, "/v1/webhooks/deploy", body: #"{"kind":"done"}"#, token: "ingest-token", expect: 200)
        try call(.webhook, "/v1/webhooks/github", body: push, headers: [signature(push)], expect: 400)
        try call(.webhook, "/v1/webhooks/github", body: "[1]", headers: [HTTPHeader(name: "X-GitHub-Event", value: "push"), signature("[1]")], expect: 400)
        try call(.webhook, "/v1/webhooks/deploy", body: #"{"kind":"no such type!"}"#, token: "ingest-token", expect: 400)
        try call(
            .webhook, "/v1/webhooks/github", body: push,
            headers: [HTTPHeader(name: "X-GitHub-Event", value: "push"), HTTPHeader(name: "X-Hub-Signature-256", value: "sha256=" + String(repeating: "0", count: 64))],
            expect: 401)
        try call(.webhook, "/v1/webhooks/github", body: push, headers: [HTTPHeader(name: "X-GitHub-Event", value: "push")], expect: 401)
        let unsigned = try call(.webhook, "/v1/webhooks/deploy", body: #"{"kind":"done"}"#, expect: 401)
        #expect(unsigned.header("WWW-Authenticate") == "Bearer", "a source without a secret is authenticated by bearer token")
        try call(.webhook, "/v1/webhooks/github", body: push, headers: [HTTPHeader(name: "X-GitHub-Event", value: "issues"), signature(push)], expect: 403)
        try call(.webhook, "/v1/webhooks/deploy", body: #"{"kind":"done"}"#, token: "reader-token", expect: 403)
        try call(.webhook, "/v1/webhooks/gitlab", body: push, token: "ingest-token", expect: 404)
        try call(.webhook, "/v1/webhooks/github", body: large, headers: [HTTPHeader(name: "X-GitHub-Event", value: "push"), signature(large)], expect: 413)

        // POST /v1/intents
        let question = #"{"text":"please refund order 1234","top":1}"#
        try expectDocumentedRequest(.intents, question)
        let intents = try call(.intents, body: question, token: "reader-token", expect: 200)
        #expect(String(decoding: intents.body, as: UTF8.self).contains(#""name":"refund_request""#))
        try call(.intents, body: #"{"text":"nothing to see"}"#, token: "reader-token", expect: 200)
        try call(.intents, body: "{", token: "reader-token", expect: 400)
        try call(.intents, body: #"{"text":5}"#, token: "reader-token", expect: 400)
        try call(.intents, body: #"{"text":"x","top":0}"#, token: "reader-token", expect: 400)
        try call(.intents, body: #"{"text":"x"}"#, expect: 401)
        try call(.intents, body: #"{"text":"x"}"#, token: "ingest-token", expect: 403)
        try call(.intents, body: large, token: "reader-token", expect: 413)

        // POST /v1/reload
        try call(.reload, token: "ingest-token", expect: 200)
        try call(.reload, expect: 401)
        try call(.reload, token: "reader-token", expect: 403)
        try "rules: [{name: broken}]".write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        try call(.reload, token: "ingest-token", expect: 422)

        // GET /metrics and the probes
        try call(.metrics, token: "reader-token", expect: 200)
        try call(.metrics, expect: 401)
        try call(.metrics, token: "ingest-token", expect: 403)
        try call(.healthz, expect: 200)
        try call(.readyz, expect: 200)

        let documented = Set(document.operations.flatMap { operation in document.statuses(of: operation).map { "\(operation) \($0)" } })
        let skipped = Set(Self.notProvoked.keys)
        #expect(skipped.isSubset(of: documented), "listed as not provoked but not documented: \(skipped.subtracting(documented))")
        #expect(seen.isDisjoint(with: skipped), "listed as not provoked but provoked: \(seen.intersection(skipped))")
        #expect(
            seen == documented.subtracting(skipped),
            "documented, never provoked: \(documented.subtracting(skipped).subtracting(seen).sorted()); provoked, not documented: \(seen.subtracting(documented).sorted())")
        #expect(server.stop() == 143)
        #expect(!server.stderr.contains("ingest-token") && !server.stderr.contains("reader-token"))
    }

    @Test("GET /metrics is Prometheus text whose metric families are the ones docs/reference/http-api.md lists, with their types")
    func metricsAreTheDocumentedPrometheusText() throws {
        let (server, _) = try startServer()
        #expect(try server.request("POST", "/v1/events", body: Data(#"{"type":"tick"}"#.utf8), token: "ingest-token").status == 200)
        let scrape = try server.request("GET", "/metrics", token: "reader-token")
        #expect(scrape.status == 200)
        let text = try PrometheusText(String(decoding: scrape.body, as: UTF8.self))
        #expect(server.stop() == 143)
        for sample in text.samples {
            #expect(text.family(of: sample) != nil, "\(sample.name) has no TYPE")
        }

        // The metrics table of docs/reference/http-api.md: | `name` or `name{labels}` | type | what |
        let guide = try String(contentsOf: OpenAPIDocument.repositoryRoot.appendingPathComponent("docs/reference/http-api.md"), encoding: .utf8)
        var documented: [String: String] = [:]
        var labelled: Set<String> = []
        for line in guide.split(separator: "\n") where line.hasPrefix("| `symphony_") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let metric = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let name = String(metric.prefix { $0 != "{" })
            documented[name] = cells[1]
            if metric.contains("{") { labelled.insert(name) }
        }
        #expect(!documented.isEmpty)
        for (name, type) in text.types {
            #expect(documented[name] == type, "\(name) is exported as a \(type) but docs/reference/http-api.md says \(documented[name] ?? "nothing")")
        }
        // A family with labels has samples only once a labelled series exists (an action ran).
        for name in Set(documented.keys).subtracting(labelled) {
            #expect(text.types[name] != nil, "docs/reference/http-api.md lists \(name), which is not exported")
        }
    }

    @Test("symphony serve --help and docs/reference/http-api.md name every served route")
    func helpAndGuideNameEveryRoute() throws {
        let help = try CommandRunner.run(["serve", "--help"])
        #expect(help.status == 0)
        // Help text is wrapped to the terminal: compare with runs of white space made single spaces.
        let flatHelp = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let guide = try String(contentsOf: OpenAPIDocument.repositoryRoot.appendingPathComponent("docs/reference/http-api.md"), encoding: .utf8)
        for route in ServedRoute.allCases {
            #expect(flatHelp.contains("\(route.method) \(route.path)"), "symphony serve --help does not name \(route.method) \(route.path)")
            #expect(guide.contains("`\(route.method) \(route.path)`"), "docs/reference/http-api.md does not name \(route.method) \(route.path)")
        }
    }
}
