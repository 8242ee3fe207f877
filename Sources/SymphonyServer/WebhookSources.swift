import Foundation
import SymphonyCrypto
import SymphonyDiagnostics

/// The webhook senders `POST /v1/webhooks/{source}` takes, from a YAML file (`--webhooks FILE`):
///
/// ```yaml
/// sources:
///   github:
///     secret_file: github.secret     # HMAC-SHA256 key; requests need X-Hub-Signature-256: sha256=<hex>
///     type_header: X-GitHub-Event    # the event type is type_prefix + this header's value…
///     type_prefix: github.
///     principal: webhook:github      # who the events are published as (default webhook:<name>)
///   deploy:
///     type_field: kind               # …or a top-level string field of the body
/// ```
/// A source with a secret authenticates by signature alone; one without needs the request's
/// bearer token (when the server has tokens) and publishes as its principal.
public struct WebhookSources: Sendable {
    /// One sender.
    public struct Source: Sendable {
        /// The HMAC-SHA256 key, or nil when requests are not signed.
        let secret: [UInt8]?
        /// The header that names the event type (its value follows `typePrefix`).
        public let typeHeader: String?
        /// The body's top-level string field that names the event type.
        public let typeField: String?
        /// Put before the header's or field's value.
        public let typePrefix: String
        /// Who a signed source's events are published as.
        public let principal: String
    }

    /// The senders by name.
    public let sources: [String: Source]

    /// Reads the webhooks file, reporting every problem with its location.
    public static func load(path: String) -> (WebhookSources?, Diagnostics) {
        var diagnostics = Diagnostics()
        guard let root = YAMLSource.load(path: path, into: &diagnostics) else {
            if diagnostics.errors.isEmpty {
                diagnostics.error(at: SourceLocation(file: path, line: 1, column: 1), "the webhooks file is empty; it needs 'sources'")
            }
            return (nil, diagnostics)
        }
        guard let fields = root.fields(of: "the webhooks file", allowed: ["sources"], required: ["sources"], into: &diagnostics),
            let entries = fields["sources"]?.entries
        else {
            if let node = fields(root)?["sources"] { diagnostics.error(at: node.location, "'sources' must be a mapping of source names to settings") }
            return (nil, diagnostics)
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var sources: [String: Source] = [:]
        for entry in entries {
            let what = "webhook source '\(entry.key)'"
            guard
                let settings = entry.value.fields(
                    of: what, allowed: ["secret_file", "type_header", "type_field", "type_prefix", "principal"], into: &diagnostics)
            else { continue }
            guard entry.key.range(of: "^[A-Za-z0-9_.-]+$", options: .regularExpression) != nil else {
                diagnostics.error(at: entry.keyNode.location, "\(what): a source name is letters, digits, '_', '.' and '-'")
                continue
            }
            let header = settings["type_header"]?.string("type_header", into: &diagnostics)
            let field = settings["type_field"]?.string("type_field", into: &diagnostics)
            if (header == nil) == (field == nil) {
                diagnostics.error(at: entry.value.location, "\(what) needs exactly one of 'type_header' and 'type_field'")
                continue
            }
            var secret: [UInt8]?
            if let node = settings["secret_file"], let file = node.string("secret_file", into: &diagnostics) {
                let full = file.hasPrefix("/") ? file : directory + "/" + file
                guard let data = FileManager.default.contents(atPath: full) else {
                    diagnostics.error(at: node.contentLocation, "cannot read the secret file '\(file)'")
                    continue
                }
                var bytes = Array(data)
                while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
                guard !bytes.isEmpty else {
                    diagnostics.error(at: node.contentLocation, "the secret file '\(file)' is empty")
                    continue
                }
                secret = bytes
            }
            sources[entry.key] = Source(
                secret: secret, typeHeader: header, typeField: field,
                typePrefix: settings["type_prefix"]?.string("type_prefix", into: &diagnostics) ?? "",
                principal: settings["principal"]?.string("principal", into: &diagnostics) ?? "webhook:\(entry.key)")
        }
        return (diagnostics.hasErrors ? nil : WebhookSources(sources: sources), diagnostics)

        func fields(_ node: YAMLNode) -> [String: YAMLNode]? {
            var ignored = Diagnostics()
            return node.fields(of: "", allowed: ["sources"], into: &ignored)
        }
    }

    /// True when `signature` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`; compared in constant time.
    static func verify(signature: String, body: [UInt8], secret: [UInt8]) -> Bool {
        guard signature.hasPrefix("sha256="), let given = Hex.decode(signature.dropFirst("sha256=".count)) else { return false }
        return ConstantTime.equal(HMACSHA256.mac(body, key: secret), given)
    }
}
