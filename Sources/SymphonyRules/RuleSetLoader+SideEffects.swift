import SymphonyDiagnostics
import SymphonyJSON
import SymphonyRecords

/// `exec:`, `http:` and `file:` actions, a rule's `retry:` and `concurrency:`, and the rule set's `pools:` and `targets:`.
extension RuleSetLoader {
    static let execKeys = ["command", "cwd", "env", "stdin", "timeout", "output_limit", "success"]
    static let httpKeys = ["url", "method", "headers", "json", "body", "content_type", "timeout"]
    static let fileKeys = ["path", "line", "mode"]
    static let retryKeys = ["attempts", "backoff", "max_backoff", "within"]
    static let httpMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]

    /// An `exec:` action: a list (the command), or a mapping with `command:` and settings.
    static func execAction(_ node: YAMLNode, scope: RuleScope, location: SourceLocation, into diagnostics: inout Diagnostics) -> Action? {
        let fields: [String: YAMLNode]
        if node.items != nil {
            fields = ["command": node]
        } else {
            guard let mapping = node.fields(of: "'exec'", allowed: execKeys, required: ["command"], into: &diagnostics) else { return nil }
            fields = mapping
        }
        let errorsBefore = diagnostics.errors.count
        var command: [Template] = []
        if let commandNode = fields["command"] {
            if commandNode.scalarText != nil, commandNode.items == nil, commandNode.entries == nil {
                diagnostics.error(
                    at: commandNode.location,
                    "'command' is a list — the program, then one argument per item, e.g. [/usr/bin/logger, -t, symphony, \"{{ payload.message }}\"]; it is never run by a shell")
                return nil
            }
            guard let items = commandNode.list("'command'", into: &diagnostics) else { return nil }
            if items.isEmpty { diagnostics.error(at: commandNode.location, "'command' needs at least the program") }
            for (index, item) in items.enumerated() {
                guard let argument = template(item, what: index == 0 ? "the program" : "each argument", scope: scope, into: &diagnostics) else { continue }
                if index == 0, argument.source.isEmpty { diagnostics.error(at: item.location, "the program is empty") }
                command.append(argument)
            }
        }
        let workingDirectory = fields["cwd"].flatMap { template($0, what: "'cwd'", scope: scope, into: &diagnostics) }
        var environment: [String] = []
        if let envNode = fields["env"], let names = envNode.stringList("'env'", into: &diagnostics) {
            for (name, item) in names {
                if name.isEmpty || name.contains("=") || name.contains("{{") {
                    diagnostics.error(at: item.location, "'env' lists names of environment variables to pass on (such as PATH), not '\(name)'")
                } else {
                    environment.append(name)
                }
            }
        }
        let stdin = fields["stdin"].flatMap { template($0, what: "'stdin'", scope: scope, into: &diagnostics) }
        let timeout = fields["timeout"].map { positiveDuration($0, what: "'timeout'", into: &diagnostics) } ?? .seconds(30)
        let outputLimit = fields["output_limit"].map { wholeNumber($0, what: "'output_limit'", in: 0...16_777_216, into: &diagnostics) } ?? 4_096
        var success: [Int32] = [0]
        if let successNode = fields["success"] {
            let items = successNode.items ?? [successNode]
            success = items.compactMap { wholeNumber($0, what: "each exit status in 'success'", in: 0...255, into: &diagnostics).map(Int32.init) }
        }
        guard diagnostics.errors.count == errorsBefore, let timeout, let outputLimit else { return nil }
        return .exec(
            ExecTemplate(
                command: command, workingDirectory: workingDirectory, environment: environment, standardInput: stdin, timeout: timeout,
                outputLimit: outputLimit, successStatuses: success),
            location: location)
    }

    /// An `http:` action: a URL (POSTs the event as JSON), or a mapping.
    static func httpAction(_ node: YAMLNode, scope: RuleScope, location: SourceLocation, into diagnostics: inout Diagnostics) -> Action? {
        let fields: [String: YAMLNode]
        if node.entries == nil {
            fields = ["url": node]
        } else {
            guard let mapping = node.fields(of: "'http'", allowed: httpKeys, required: ["url"], into: &diagnostics) else { return nil }
            fields = mapping
        }
        let errorsBefore = diagnostics.errors.count
        var url: Template?
        if let urlNode = fields["url"], let parsed = template(urlNode, what: "'url'", scope: scope, into: &diagnostics) {
            let head = parsed.parts.first.flatMap { if case .text(let text) = $0 { text.lowercased() } else { nil } } ?? ""
            if !head.hasPrefix("http://") && !head.hasPrefix("https://") {
                diagnostics.error(at: urlNode.contentLocation, "'url' must start with http:// or https:// (written out, not from a placeholder)")
            } else if head.dropFirst(head.hasPrefix("https") ? 8 : 7).isEmpty {
                diagnostics.error(at: urlNode.contentLocation, "the host of 'url' must be written out, not come from a placeholder: permissions name hosts")
            }
            url = parsed
        }
        var method = "POST"
        if let methodNode = fields["method"], let text = methodNode.string("'method'", into: &diagnostics) {
            if httpMethods.contains(text.uppercased()) {
                method = text.uppercased()
            } else {
                diagnostics.error(at: methodNode.location, "'method' must be one of \(httpMethods.joined(separator: ", ")), not '\(text)'")
            }
        }
        var headers: [(name: String, value: Template)] = []
        if let headersNode = fields["headers"] {
            if let entries = headersNode.entries {
                for entry in entries {
                    let name = entry.key
                    if name.isEmpty || !name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_".unicodeScalars.contains($0)) }) {
                        diagnostics.error(at: entry.keyNode.location, "'\(name)' is not a header name (letters, digits, '-')")
                        continue
                    }
                    if let value = template(entry.value, what: "the value of header '\(name)'", scope: scope, into: &diagnostics) {
                        if value.source.contains(where: \.isNewline) {
                            diagnostics.error(at: entry.value.location, "the value of header '\(name)' has a line break")
                        }
                        headers.append((name, value))
                    }
                }
            } else {
                diagnostics.error(at: headersNode.location, "'headers' must be a mapping of names to values, not \(headersNode.kindDescription)")
            }
        }
        var body = HTTPTemplate.Body.event
        if method == "GET" || method == "HEAD" || method == "DELETE" { body = .none }
        if fields["json"] != nil, fields["body"] != nil {
            diagnostics.error(at: node.location, "'http' takes 'json' (a JSON body) or 'body' (text), not both")
        } else if let jsonNode = fields["json"] {
            if let tree = payloadTemplate(jsonNode, scope: scope, into: &diagnostics) { body = .json(tree) }
        } else if let bodyNode = fields["body"], let text = template(bodyNode, what: "'body'", scope: scope, into: &diagnostics) {
            var contentType = "text/plain; charset=utf-8"
            if let typeNode = fields["content_type"], let type = typeNode.string("'content_type'", into: &diagnostics) { contentType = type }
            body = .text(text, contentType: contentType)
        }
        if fields["content_type"] != nil, fields["body"] == nil {
            diagnostics.error(at: fields["content_type"]!.location, "'content_type' goes with 'body' ('json' is always application/json)")
        }
        let timeout = fields["timeout"].map { positiveDuration($0, what: "'timeout'", into: &diagnostics) } ?? .seconds(10)
        guard diagnostics.errors.count == errorsBefore, let url, let timeout else { return nil }
        return .http(HTTPTemplate(method: method, url: url, headers: headers, body: body, timeout: timeout), location: location)
    }

    /// A `file:` action: a mapping with `path:` and optionally `line:` and `mode:`.
    static func fileAction(_ node: YAMLNode, scope: RuleScope, location: SourceLocation, into diagnostics: inout Diagnostics) -> Action? {
        guard let fields = node.fields(of: "'file'", allowed: fileKeys, required: ["path"], into: &diagnostics) else { return nil }
        let errorsBefore = diagnostics.errors.count
        let path = fields["path"].flatMap { template($0, what: "'path'", scope: scope, into: &diagnostics) }
        if let path, path.source.split(separator: "/").contains("..") {
            diagnostics.error(at: fields["path"]!.contentLocation, "'path' may not contain '..'")
        }
        let line = fields["line"].flatMap { template($0, what: "'line'", scope: scope, into: &diagnostics) }
        var mode = 0o600
        if let modeNode = fields["mode"] {
            // Written as octal digits (0640); YAML would read 0640 as the decimal 640 or as octal, so the text is read here.
            let text = modeNode.scalarText ?? ""
            let digits = text.hasPrefix("0o") ? String(text.dropFirst(2)) : text
            if let value = Int(digits, radix: 8), (0...0o777).contains(value), !digits.isEmpty {
                mode = value
            } else {
                diagnostics.error(at: modeNode.location, "'mode' is permission bits in octal, such as 0640, not '\(text)'")
            }
        }
        guard diagnostics.errors.count == errorsBefore, let path else { return nil }
        return .file(FileTemplate(path: path, line: line, mode: mode), location: location)
    }

    /// A rule's `retry:` (a mapping; `retry: false` or `attempts: 1` never retries).
    static func retryPolicy(_ node: YAMLNode, into diagnostics: inout Diagnostics) -> RetryPolicy? {
        if node.node.bool == false { return RetryPolicy(attempts: 1, backoff: .seconds(1), maximumBackoff: .seconds(1), within: .seconds(1)) }
        guard let fields = node.fields(of: "'retry'", allowed: retryKeys, into: &diagnostics) else { return nil }
        let errorsBefore = diagnostics.errors.count
        var policy = RetryPolicy.default
        if let value = fields["attempts"].map({ wholeNumber($0, what: "'attempts'", in: 1...100, into: &diagnostics) }) { policy.attempts = value ?? 1 }
        if let value = fields["backoff"].map({ positiveDuration($0, what: "'backoff'", into: &diagnostics) }) { policy.backoff = value ?? .zero }
        if let value = fields["max_backoff"].map({ positiveDuration($0, what: "'max_backoff'", into: &diagnostics) }) {
            policy.maximumBackoff = value ?? .zero
        }
        if let value = fields["within"].map({ positiveDuration($0, what: "'within'", into: &diagnostics) }) { policy.within = value ?? .zero }
        guard diagnostics.errors.count == errorsBefore else { return nil }
        if policy.maximumBackoff < policy.backoff {
            diagnostics.error(at: node.location, "'max_backoff' (\(policy.maximumBackoff)) is shorter than 'backoff' (\(policy.backoff))")
            return nil
        }
        return policy
    }

    /// The rule set's `pools:` (threads per side-effect kind) and `targets:` (limits per host, program or file).
    static func sideEffectSettings(in roots: [YAMLNode], into diagnostics: inout Diagnostics) -> SideEffectSettings {
        var settings = SideEffectSettings()
        for root in roots {
            if let pools = root.entries?.first(where: { $0.key == "pools" })?.value,
                let fields = pools.fields(of: "'pools'", allowed: ["exec", "http", "file"], into: &diagnostics)
            {
                for (name, node) in fields {
                    if let size = wholeNumber(node, what: "the size of pool '\(name)'", in: 1...256, into: &diagnostics), let kind = ActionKind(name: name) {
                        settings.poolSizes[kind] = size
                    }
                }
            }
            guard let targets = root.entries?.first(where: { $0.key == "targets" })?.value else { continue }
            guard let entries = targets.entries else {
                diagnostics.error(at: targets.location, "'targets' must be a mapping of hosts, programs or paths to limits, not \(targets.kindDescription)")
                continue
            }
            for entry in entries {
                guard let fields = entry.value.fields(of: "target '\(entry.key)'", allowed: ["per_second", "concurrency"], into: &diagnostics) else { continue }
                var limit = SideEffectSettings.TargetLimit()
                limit.perSecond = fields["per_second"].flatMap { $0.number("'per_second'", in: 0.001...1_000_000, into: &diagnostics) }
                limit.concurrency = fields["concurrency"].flatMap { wholeNumber($0, what: "'concurrency'", in: 1...256, into: &diagnostics) }
                settings.targets[entry.key.lowercased().hasPrefix("/") ? entry.key : entry.key.lowercased()] = limit
            }
        }
        return settings
    }
}
