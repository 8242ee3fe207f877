import Glibc
import SymphonyActions
import SymphonyRecords

/// Runs side effects for real: programs with `ExecRunner`, HTTP requests with `HTTPTransport`,
/// appends with `FileAppender`; and says which failures are worth another try.
///
/// - exec: an exit status the rule counts as success is ok; another status, a signal or the
///   timeout is retried; a program that cannot start is not (another try would not fix it).
/// - http: 2xx is ok; 429, 5xx, timeouts and connection errors are retried (after the
///   receiver's Retry-After when it gives one); any other status fails at once.
/// - file: an append that could not be made durable is retried.
///
/// The idempotency key goes to programs as `SYMPHONY_ACTION_KEY` (with `SYMPHONY_RULE`,
/// `SYMPHONY_EVENT_ID` and `SYMPHONY_EVENT_TYPE`) and to webhooks as the `Idempotency-Key` header.
/// `${NAME}` in a header value is read from Symphony's environment only now, never stored.
public struct StandardSideEffectRunner: SideEffectRunner {
    private let http = HTTPTransport()
    private let files = FileAppender()
    private let environment: @Sendable (String) -> String?

    /// A runner reading variables from `environment` (by default the process's).
    public init(environment: @escaping @Sendable (String) -> String? = { name in getenv(name).map { String(cString: $0) } }) {
        self.environment = environment
    }

    public func attempt(_ entry: OutboxEntry) -> AttemptResult {
        switch entry.request {
        case .exec(let spec): run(spec, entry: entry)
        case .http(let spec): send(spec, entry: entry)
        case .file(let spec): append(spec)
        }
    }

    private func run(_ spec: ExecSpec, entry: OutboxEntry) -> AttemptResult {
        var variables: [String: String] = [:]
        for name in spec.environment {
            if let value = environment(name) { variables[name] = value }
        }
        variables["SYMPHONY_ACTION_KEY"] = entry.key
        variables["SYMPHONY_RULE"] = entry.rule
        variables["SYMPHONY_EVENT_ID"] = entry.eventID
        variables["SYMPHONY_EVENT_TYPE"] = entry.eventType
        let request = ExecRequest(
            program: spec.command[0], arguments: Array(spec.command.dropFirst()), workingDirectory: spec.workingDirectory, environment: variables,
            standardInput: spec.standardInput.map { Array($0.utf8) }, timeout: spec.timeout, outputLimit: spec.outputLimit)
        let result: ExecResult
        do {
            result = try ExecRunner.run(request)
        } catch {
            return AttemptResult(verdict: .fail, message: "did not start", error: error.message)
        }
        var message: String
        if result.timedOut {
            message = "timed out after \(spec.timeout) (stopped with \(result.signal == SIGKILL ? "SIGKILL" : "SIGTERM"))"
        } else if let status = result.exitStatus {
            message = "exit \(status)"
        } else {
            message = "killed by signal \(result.signal ?? 0)"
        }
        message += Self.output("stdout", result.standardOutput, truncated: result.standardOutputTruncated)
        message += Self.output("stderr", result.standardError, truncated: result.standardErrorTruncated)
        if !result.timedOut, let status = result.exitStatus, spec.successStatuses.contains(status) {
            return AttemptResult(verdict: .ok, message: message)
        }
        return AttemptResult(verdict: .retry(after: nil), message: message, error: message.prefix { $0 != ";" }.description)
    }

    /// "; stdout: …" with the kept output (invalid UTF-8 replaced), marked when cut; nothing when empty.
    static func output(_ name: String, _ bytes: [UInt8], truncated: Bool) -> String {
        guard !bytes.isEmpty || truncated else { return "" }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.last?.isNewline == true { text.removeLast() }
        return "; \(name): \(text)" + (truncated ? " …[truncated]" : "")
    }

    private func send(_ spec: HTTPSpec, entry: OutboxEntry) -> AttemptResult {
        var headers: [HTTPHeader] = []
        for header in spec.headers {
            switch resolve(header.value) {
            case .success(let value): headers.append(HTTPHeader(name: header.name, value: value))
            case .failure(let missing):
                return AttemptResult(
                    verdict: .fail, message: "not sent",
                    error: "header '\(header.name)' reads the environment variable \(missing), which is not set")
            }
        }
        if !headers.contains(where: { $0.name.lowercased() == "idempotency-key" }) {
            headers.append(HTTPHeader(name: "Idempotency-Key", value: entry.key))
        }
        let request = HTTPRequestSpec(method: spec.method, url: spec.url, headers: headers, body: Array(spec.body.utf8), timeout: spec.timeout)
        let response: HTTPResponseSummary
        do {
            response = try http.send(request)
        } catch {
            switch error {
            case .invalidURL, .invalidRequest: return AttemptResult(verdict: .fail, message: "not sent", error: error.description)
            default: return AttemptResult(verdict: .retry(after: nil), message: "no response", error: error.description)
            }
        }
        let message = "HTTP \(response.status)" + Self.output("response", Array(response.body.prefix(1_024)), truncated: response.bodyTruncated || response.body.count > 1_024)
        switch response.status {
        case 200..<300: return AttemptResult(verdict: .ok, message: message)
        case 429, 500..<600: return AttemptResult(verdict: .retry(after: response.retryAfter), message: message, error: "HTTP \(response.status)")
        default: return AttemptResult(verdict: .fail, message: message, error: "HTTP \(response.status)")
        }
    }

    /// `text` with each `${NAME}` replaced by the variable's value; the first missing name fails.
    func resolve(_ text: String) -> Result<String, MissingVariable> {
        guard text.contains("${") else { return .success(text) }
        var output = ""
        var rest = Substring(text)
        while let start = rest.firstIndex(of: "$") {
            output += rest[..<start]
            let after = rest[rest.index(after: start)...]
            guard after.first == "{", let end = after.firstIndex(of: "}") else {
                output.append("$")
                rest = after
                continue
            }
            let name = String(after[after.index(after: after.startIndex)..<end])
            guard let value = environment(name) else { return .failure(MissingVariable(name: name)) }
            output += value
            rest = after[after.index(after: end)...]
        }
        output += rest
        return .success(output)
    }

    /// A `${NAME}` whose variable is not set.
    struct MissingVariable: Error {
        let name: String
    }

    private func append(_ spec: FileSpec) -> AttemptResult {
        do {
            try files.append(line: spec.line, to: spec.path, mode: mode_t(spec.mode))
            return AttemptResult(verdict: .ok, message: "appended \(spec.line.utf8.count + 1) bytes to \(spec.path)")
        } catch {
            return AttemptResult(verdict: .retry(after: nil), message: "not appended", error: error.message)
        }
    }
}
