import Foundation
import SymphonyConcurrency
import SymphonyDiagnostics
import SymphonyEngine
import SymphonyEvents
import SymphonyRules

/// Loads a rule set from YAML texts (file name → text) written to a temporary directory.
func loadRules(_ files: [String: String]) throws -> (RuleSet?, [String]) {
    let directory = NSTemporaryDirectory() + "symphony-rules-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (name, text) in files { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
    let (ruleSet, diagnostics) = RuleSetLoader.load(paths: [directory])
    let lines = diagnostics.sorted.map { $0.description.replacingOccurrences(of: directory + "/", with: "") }
    return (ruleSet, lines)
}

/// Loads one rules file and requires it to be valid.
func validRules(_ text: String) throws -> RuleSet {
    let (ruleSet, lines) = try loadRules(["rules.yaml": text])
    guard let ruleSet else { throw RuleTestError(lines.joined(separator: "\n")) }
    return ruleSet
}

struct RuleTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Action effects that record everything; `feedBack` re-processes published events synchronously.
final class RecordingEffects: ActionEffects, @unchecked Sendable {
    // @unchecked Sendable: every stored property is guarded by `lock`, except `engine`, set once before use.
    let lock = Locked<(published: [Event], scheduled: [(Event, Timestamp)], audits: [String], emitted: [Event])>(([], [], [], []))
    var engine: RuleEngine?

    func publish(_ event: Event) throws -> SealedEvent? {
        lock.withLock { $0.published.append(event) }
        _ = engine?.process(event)
        return nil
    }
    func schedule(_ event: Event, at due: Timestamp) throws -> SealedEvent? {
        lock.withLock { $0.scheduled.append((event, due)) }
        return nil
    }
    func audit(rule: String, event: Event, message: String) throws { lock.withLock { $0.audits.append(message) } }
    func emit(_ event: Event) throws { lock.withLock { $0.emitted.append(event) } }

    var published: [Event] { lock.withLock { $0.published } }
    var scheduled: [(Event, Timestamp)] { lock.withLock { $0.scheduled } }
    var audits: [String] { lock.withLock { $0.audits } }
    var emitted: [Event] { lock.withLock { $0.emitted } }
}
