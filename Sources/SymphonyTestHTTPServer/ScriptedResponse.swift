/// What `ScriptedHTTPServer` does with one request.
public enum ScriptedResponse: Sendable {
    /// Answers with this status, these headers (besides Content-Length and Connection: close) and body.
    case status(Int, headers: [(String, String)] = [], body: String = "")
    /// Reads the request, sends nothing for this long (or until the server stops), then closes the connection.
    case hang(Duration)
    /// Reads the request, then closes the connection without answering.
    case close
}
