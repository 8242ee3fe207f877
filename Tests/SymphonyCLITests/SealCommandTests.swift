import Foundation
import Testing

@Suite(.timeLimit(.minutes(12))) struct SealCommandTests {
    @Test("a sealed bundle runs, validates and classifies like its source; plaintext is not in it; tampering and wrong keys are refused")
    func sealedBundles() throws {
        let directory = try freshDirectory()
        let key = directory + "/key"
        let other = directory + "/other"
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        #expect(try CommandRunner.run(["keygen", "-o", other]).status == 0)
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("""
            intents:
              - {name: refund, keywords: [refund], threshold: 0.3}
            rules:
              - {name: r, on: t, when: {intent: refund}, actions: [{emit: {type: secret-sauce}}]}
            """.utf8))
        let bundle = directory + "/rules.sealed"
        let seal = try CommandRunner.run(["seal", rules, "-o", bundle, "--key-file", key])
        #expect(seal.status == 0)
        #expect(seal.stdout.hasPrefix("sealed 1 file into \(bundle) (key id "))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: bundle))
        #expect(bytes.range(of: Data("secret-sauce".utf8)) == nil)
        #expect(try CommandRunner.run(["seal", rules, "-o", bundle, "--key-file", key]).status == 1)  // never overwrites

        let validate = try CommandRunner.run(["validate", bundle, "--key-file", key])
        #expect(validate.status == 0)
        #expect(validate.stdoutLines == ["\(bundle): valid: 1 rules, 1 intents"])
        let intents = try CommandRunner.run(["intents", "--rules", bundle, "--key-file", key, "a refund"])
        #expect(intents.stdout.contains(#""name":"refund""#))
        let run = try CommandRunner.run(["run", "--rules", bundle, "--key-file", key, "--no-history"], stdin: #"{"type":"t","payload":{"text":"refund"}}"# + "\n")
        #expect(run.stdout.contains("secret-sauce"))

        var tampered = [UInt8](bytes)
        tampered[tampered.count - 5] ^= 0x01
        try Data(tampered).write(to: URL(fileURLWithPath: directory + "/bad.sealed"))
        let bad = try CommandRunner.run(["validate", directory + "/bad.sealed", "--key-file", key])
        #expect(bad.status == 1)
        #expect(bad.stderrLines == ["\(directory)/bad.sealed:1:1: error: the bundle could not be opened: it was altered, or sealed with a key that is not in the key ring"])
        let wrongKey = try CommandRunner.run(["validate", bundle, "--key-file", other])
        #expect(wrongKey.status == 1)
    }

    @Test("sealing is recorded in the history's audit trail; under a policy it needs rules:seal (exit 77, denial audited)")
    func sealIsAuditedAndChecked() throws {
        let directory = try freshDirectory()
        let key = directory + "/key"
        let db = directory + "/h.db"
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("rules:\n  - {name: r, on: t, actions: [stop]}\n".utf8))
        // A run creates the history database the seal command then records into.
        #expect(try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", key], stdin: "").status == 0)
        let environment = ["SYMPHONY_DB": db]
        let sealed = try CommandRunner.run(["seal", rules, "-o", directory + "/a.sealed", "--key-file", key, "--as", "user:ada"], environment: environment)
        #expect(sealed.status == 0)
        let policy = try temporaryFile(named: "policy.yaml", contents: Data("""
            roles:
              reader: ["rules:validate"]
            principals:
              user:bob: [reader]
            """.utf8))
        let refused = try CommandRunner.run(
            ["seal", rules, "-o", directory + "/b.sealed", "--key-file", key, "--policy", policy, "--as", "user:bob"], environment: environment)
        #expect(refused.status == 77)
        #expect(refused.stderr.contains("rules:seal"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/b.sealed"))
        let trail = try CommandRunner.run(["audit", "list", "--db", db, "--key-file", key, "--format", "json"])
        let records = trail.stdoutLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let seal = records.first { $0["operation"] as? String == "rules.seal" }
        #expect(seal?["principal"] as? String == "user:ada")
        #expect(seal?["target"] as? String == directory + "/a.sealed")
        #expect(records.contains { $0["operation"] as? String == "access.denied" && $0["principal"] as? String == "user:bob" && $0["target"] as? String == "rules:seal" })
        #expect(try CommandRunner.run(["audit", "verify", "--db", db, "--key-file", key]).status == 0)
    }

    @Test("a rule set with errors is not sealed")
    func invalidNotSealed() throws {
        let directory = try freshDirectory()
        let key = directory + "/key"
        #expect(try CommandRunner.run(["keygen", "-o", key]).status == 0)
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("rules:\n  - {name: r, on: t, actoins: [stop]}\n".utf8))
        let result = try CommandRunner.run(["seal", rules, "-o", directory + "/x.sealed", "--key-file", key])
        #expect(result.status == 1)
        #expect(!FileManager.default.fileExists(atPath: directory + "/x.sealed"))
    }
}

@Suite(.timeLimit(.minutes(12))) struct KeyRotationTests {
    @Test("after rotation, new history uses the new key while a retired key still opens older payloads, and the audit trail verifies")
    func rotation() throws {
        let directory = try freshDirectory()
        let (old, new, db) = (directory + "/old.key", directory + "/new.key", directory + "/h.db")
        #expect(try CommandRunner.run(["keygen", "-o", old]).status == 0)
        #expect(try CommandRunner.run(["keygen", "-o", new]).status == 0)
        let rules = try temporaryFile(named: "rules.yaml", contents: Data("rules:\n  - {name: r, on: t, actions: [{audit: seen}]}\n".utf8))
        _ = try CommandRunner.run(["run", "--rules", rules, "--db", db, "--key-file", old], stdin: #"{"type":"t","id":"before","payload":{"v":"old-secret"}}"# + "\n")
        let rotated = try CommandRunner.run(
            ["run", "--rules", rules, "--db", db, "--key-file", new, "--retired-key-file", old], stdin: #"{"type":"t","id":"after","payload":{"v":"new-secret"}}"# + "\n")
        #expect(rotated.status == 0)
        let both = try CommandRunner.run(["history", "--db", db, "--key-file", new, "--retired-key-file", old, "--trace", "before"])
        #expect(both.stdout.contains("old-secret"))
        let newOnly = try CommandRunner.run(["history", "--db", db, "--key-file", new, "--trace", "before"])
        #expect(!newOnly.stdout.contains("old-secret"))
        let after = try CommandRunner.run(["history", "--db", db, "--key-file", new, "--trace", "after"])
        #expect(after.stdout.contains("new-secret"))
        let verify = try CommandRunner.run(["audit", "verify", "--db", db, "--key-file", new, "--retired-key-file", old])
        #expect(verify.status == 0)

        // A run with a key that did not sign the trail's head refuses to start instead of re-signing the trail.
        let wrong = directory + "/wrong.key"
        #expect(try CommandRunner.run(["keygen", "-o", wrong]).status == 0)
        let refused = try CommandRunner.run(
            ["run", "--rules", rules, "--db", db, "--key-file", wrong], stdin: #"{"type":"t","id":"wrong","payload":{"v":"wrong-secret"}}"# + "\n")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the head is signed under key"))
        #expect(!refused.stderr.contains("wrong-secret"))
        #expect(try CommandRunner.run(["audit", "verify", "--db", db, "--key-file", new, "--retired-key-file", old]).status == 0)
    }
}
