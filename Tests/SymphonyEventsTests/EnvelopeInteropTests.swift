import Foundation
import SymphonyCrypto
import Testing
@testable import SymphonyEvents

/// The documented envelope format, checked from both sides: Swift opens the vector in
/// docs/reference/envelope-format.md, and the independent Python opener in docs/examples opens what Swift sealed.
@Suite struct EnvelopeInteropTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var pythonWithCryptography: Bool {
        guard let result = try? run("/usr/bin/env", ["python3", "-c", "import cryptography.hazmat.primitives.ciphers.aead"]) else {
            return false
        }
        return result.status == 0
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    @Test("Swift opens the documented test vector and decodes the event")
    func documentedVector() throws {
        let key = try EncryptionKey(bytes: Array(0..<32))
        #expect(key.idString == "6ec9b70d")
        let envelope = Array(
            hexBytes(
                "016ec9b70da1a2a3a4a5a6a7a8000000007a734b272ad32519ffdaff39ceafaf216973e3"
                    + "d6f8d17afc950eb29a2b60fc9317d513c3b41c0797f32e0a6a61daeaab67d38388864e02"
                    + "c4f37eb109c1d09b7aaaf4ffb5b6ff8acbca2c3d4bf53af3af8faafddf02d81322"))
        let sealed = SealedEvent(id: "e-1", type: "ticket.created", priority: 3, envelope: envelope)
        let event = try sealed.open(with: EnvelopeSealer(key: key))
        #expect(event.source == "helpdesk")
        #expect(event.time == Timestamp(nanosecondsSinceEpoch: 1_700_000_000_000_000_000))
        #expect(event.payload == ["order": 1234, "text": "refund please"])
        #expect(event.causation == nil)
    }

    @Test("the Python reference opener opens an envelope Swift sealed", .enabled(if: pythonWithCryptography))
    func pythonOpensSwiftEnvelope() throws {
        let directory = NSTemporaryDirectory() + "symphony-interop-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = try EncryptionKey.generate()
        try KeyFile.write(key, to: directory + "/key")
        let event = Event(
            type: "ticket.created", payload: ["text": "Je veux être remboursé €", "order": 1234, "ratio": 0.5],
            priority: 2, id: "e-42", source: "helpdesk", time: Timestamp(nanosecondsSinceEpoch: 1_700_000_000_000_000_001),
            causation: Causation(parentID: "e-41", rule: "triage", hop: 1))
        let sealed = try SealedEvent(sealing: event, with: EnvelopeSealer(key: key))
        try Data(sealed.envelope).write(to: URL(fileURLWithPath: directory + "/envelope"))
        let script = Self.packageRoot.appendingPathComponent("docs/examples/open_envelope.py").path

        let opened = try Self.run("/usr/bin/env", ["python3", script, directory + "/key", directory + "/envelope", "e-42", "ticket.created", "2"])
        #expect(opened.status == 0, "stderr: \(opened.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(opened.stdout.utf8)) as? [String: Any]
        #expect(json?["time_ns"] as? Int == 1_700_000_000_000_000_001)
        #expect(json?["source"] as? String == "helpdesk")
        let payload = json?["payload"] as? [String: Any]
        #expect(payload?["text"] as? String == "Je veux être remboursé €")
        #expect(payload?["order"] as? Int == 1234)
        #expect(payload?["ratio"] as? Double == 0.5)
        let causation = json?["causation"] as? [String: Any]
        #expect(causation?["parent_id"] as? String == "e-41")
        #expect(causation?["hop"] as? Int == 1)

        let moved = try Self.run("/usr/bin/env", ["python3", script, directory + "/key", directory + "/envelope", "e-42", "ticket.created", "0"])
        #expect(moved.status == 1)
    }

    @Test("the Python reference opener opens a batch Swift sealed, and refuses it with its events reordered", .enabled(if: pythonWithCryptography))
    func pythonOpensSwiftBatch() throws {
        let directory = NSTemporaryDirectory() + "symphony-interop-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = try EncryptionKey.generate()
        try KeyFile.write(key, to: directory + "/key")
        let events = [
            Event(type: "ticket.created", payload: ["text": "Je veux être remboursé €"], priority: 7, id: "b-1", source: "desk",
                  time: Timestamp(nanosecondsSinceEpoch: 1_700_000_000_000_000_001)),
            Event(type: "metric.cpu", payload: ["value": 0.25, "host": "db-1"], priority: 7, id: "b-2",
                  time: Timestamp(nanosecondsSinceEpoch: 2), causation: Causation(parentID: "b-1", rule: "r", hop: 3)),
        ]
        let batch = try SealedBatch(sealing: events, priority: 7, with: EnvelopeSealer(key: key))
        try Data(batch.envelope).write(to: URL(fileURLWithPath: directory + "/batch"))
        let script = Self.packageRoot.appendingPathComponent("docs/examples/open_envelope.py").path
        let arguments = ["python3", script, "--batch", directory + "/key", directory + "/batch", "7"]

        let opened = try Self.run("/usr/bin/env", arguments + ["b-1", "ticket.created", "b-2", "metric.cpu"])
        #expect(opened.status == 0, "stderr: \(opened.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(opened.stdout.utf8)) as? [[String: Any]]
        #expect(json?.map { $0["id"] as? String } == ["b-1", "b-2"])
        #expect(json?.map { $0["type"] as? String } == ["ticket.created", "metric.cpu"])
        #expect((json?[0]["payload"] as? [String: Any])?["text"] as? String == "Je veux être remboursé €")
        #expect(json?[0]["source"] as? String == "desk")
        #expect(json?[1]["time_ns"] as? Int == 2)
        #expect((json?[1]["payload"] as? [String: Any])?["value"] as? Double == 0.25)
        #expect((json?[1]["causation"] as? [String: Any])?["hop"] as? Int == 3)

        let reordered = try Self.run("/usr/bin/env", arguments + ["b-2", "metric.cpu", "b-1", "ticket.created"])
        #expect(reordered.status == 1)
        #expect(reordered.stderr.contains("authentication failed"))
        let usage = try Self.run("/usr/bin/env", arguments + ["b-1"])
        #expect(usage.status == 2)
    }

    func hexBytes(_ text: String) -> [UInt8] {
        let digits = Array(text)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }
}
