import SymphonyActions
import SymphonyJSON
import Testing

/// The contract test's own checkers catch what they are there to catch: a validator or parser
/// that accepted everything would let every contract test pass.
@Suite struct ContractCheckerTests {
    static let document = """
        openapi: 3.0.3
        components:
          schemas:
            Answer:
              type: object
              required: [count, errors]
              additionalProperties: false
              properties:
                count: {type: integer, minimum: 0}
                kind: {type: string, enum: [pattern, keyword]}
                note: {type: string, nullable: true}
                errors:
                  type: array
                  items: {$ref: '#/components/schemas/Problem'}
            Problem:
              type: object
              required: [line]
              properties:
                line: {type: integer, minimum: 1}
                "odd name": {type: boolean}
            Either:
              oneOf: [{type: string}, {type: integer}]
            Strange: {type: string, pattern: '^a'}
        paths:
          /things:
            get:
              responses:
                "200":
                  description: ok
                  headers:
                    X-Count: {required: true, schema: {type: integer}}
                  content:
                    application/json: {schema: {$ref: '#/components/schemas/Answer'}}
                "204": {description: nothing}
        """

    func violations(_ json: String, _ schema: String) throws -> [String] {
        let document = try OpenAPIDocument(yaml: Self.document)
        let node = try OpenAPIDocument.resolve("#/components/schemas/\(schema)", in: document.root)
        return document.validator.violations(of: try JSONParser.parse(Array(json.utf8)), against: node).map(\.description)
    }

    @Test("a conforming value has no violations; 1.0 is an integer; null passes where nullable")
    func conforming() throws {
        #expect(try violations(#"{"count":1.0,"kind":"keyword","note":null,"errors":[{"line":2,"odd name":true}]}"#, "Answer") == [])
        #expect(try violations(#""text""#, "Either") == [])
    }

    @Test("each violation names its JSON path")
    func violationsNameTheirPath() throws {
        #expect(
            try violations(#"{"count":-1,"kind":"regex","note":3,"extra":1,"errors":[{"line":"x"},{"line":0,"odd name":1},{}]}"#, "Answer") == [
                "$.count: -1 is less than the minimum 0",
                "$.errors[0].line: expected integer, found string",
                "$.errors[1].line: 0 is less than the minimum 1",
                #"$.errors[1]["odd name"]: expected boolean, found integer"#,
                "$.errors[2]: the required property 'line' is missing",
                "$.extra: the property is not in the schema, which allows no others",
                #"$.kind: "regex" is not one of the enum values [pattern, keyword]"#,
                "$.note: expected string, found integer",
            ])
        #expect(try violations(#"{"errors":[]}"#, "Answer") == ["$: the required property 'count' is missing"])
        #expect(try violations("[]", "Answer") == ["$: expected object, found array"])
        #expect(try violations("true", "Either") == ["$: matches 0 of the 2 oneOf schemas, not exactly one"])
        #expect(try violations(#""abc""#, "Strange") == ["$: the schema keyword 'pattern' is not supported by this validator"])
    }

    @Test("a response is checked for its status, Content-Type, required headers and body")
    func responses() throws {
        let document = try OpenAPIDocument(yaml: Self.document)
        let operation = OpenAPIDocument.Operation(method: "GET", path: "/things")
        func response(_ status: Int, _ headers: [(String, String)], _ body: String) -> HTTPResponseSummary {
            HTTPResponseSummary(
                status: status, headers: headers.map { HTTPHeader(name: $0.0, value: $0.1) }, body: Array(body.utf8), bodyTruncated: false, retryAfter: nil,
                duration: .zero)
        }
        let good = #"{"count":1,"errors":[]}"#
        #expect(document.problems(with: response(200, [("content-type", "application/json; charset=utf-8"), ("x-count", "1")], good), of: operation) == [])
        #expect(document.problems(with: response(204, [], ""), of: operation) == [])
        #expect(document.problems(with: response(500, [], ""), of: operation) == ["status 500 is not documented for GET /things (documented: 200, 204)"])
        #expect(document.problems(with: response(200, [("content-type", "application/json")], good), of: operation) == ["the required header X-Count is missing"])
        #expect(
            document.problems(with: response(200, [("content-type", "application/json"), ("x-count", "many")], good), of: operation) == [
                "header X-Count: $: expected integer, found string"
            ])
        #expect(
            document.problems(with: response(200, [("content-type", "text/plain"), ("x-count", "1")], good), of: operation) == [
                "Content-Type 'text/plain' is not documented (documented: application/json)"
            ])
        #expect(
            document.problems(with: response(200, [("content-type", "application/json"), ("x-count", "1")], #"{"count":1}"#), of: operation) == [
                "body $: the required property 'errors' is missing"
            ])
        #expect(document.problems(with: response(204, [], "x"), of: operation) == ["a body of 1 bytes where the document says there is none"])
    }

    @Test("Prometheus text: samples, labels and types are read; malformed lines are refused with their number")
    func prometheusText() throws {
        let text = try PrometheusText(
            """
            # HELP up Whether it is up.
            # TYPE up gauge
            up 1
            # TYPE actions_total counter
            actions_total{kind="emit",status="ok"} 3.0
            # TYPE latency histogram
            latency_bucket{le="+Inf"} 2
            latency_sum 0.5
            latency_count 2 1700000000000

            """)
        #expect(text.types == ["up": "gauge", "actions_total": "counter", "latency": "histogram"])
        #expect(text.samples.map(\.name) == ["up", "actions_total", "latency_bucket", "latency_sum", "latency_count"])
        #expect(text.samples[1].labels == ["kind": "emit", "status": "ok"])
        #expect(text.samples.allSatisfy { text.family(of: $0) != nil })
        func problem(_ text: String) -> String? {
            do {
                _ = try PrometheusText(text)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(problem("up 1") == "line 1: the last line does not end with a line feed")
        #expect(problem("up\n") == "line 1: a sample is 'name{labels} value [timestamp]' with single spaces")
        #expect(problem("# TYPE up gauge\nup one\n") == "line 2: 'one' is not a sample value")
        #expect(problem("up{kind=emit} 1\n") == "line 1: label kind needs =\"value\"")
        #expect(problem("up 1\n# TYPE up gauge\n") == "line 2: the TYPE of up comes after its samples")
        #expect(problem("# TYPE up meter\n") == "line 1: TYPE up needs one of counter, gauge, histogram, summary, untyped")
        #expect(problem("2up 1\n") == "line 1: '2up' is not a valid metric name")
    }
}
