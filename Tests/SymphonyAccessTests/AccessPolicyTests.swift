import Foundation
import SymphonyAccess
import SymphonyConcurrency
import Testing

@Suite struct AccessPolicyTests {
    func policyFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "symphony-policy-" + UUID().uuidString + ".yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("roles grant permissions, principals hold roles; publish permissions take type patterns")
    func allows() throws {
        let (policy, diagnostics) = AccessPolicy.load(path: try policyFile("""
            roles:
              operator: ["rules:load", "history:read", "events:publish:ticket.*"]
              security: ["events:publish:ssh.**", "audit:verify"]
              admin: ["*"]
            principals:
              user:ada: [operator]
              source:sshd: [security]
              user:root: [admin]
            """))
        #expect(diagnostics.all.isEmpty)
        let loaded = try #require(policy)
        #expect(loaded.allows("user:ada", .loadRules))
        #expect(loaded.allows("user:ada", .publish(type: "ticket.created")))
        #expect(!loaded.allows("user:ada", .publish(type: "ticket.a.b")))
        #expect(!loaded.allows("user:ada", .verifyAudit))
        #expect(loaded.allows("source:sshd", .publish(type: "ssh.login.failed")))
        #expect(!loaded.allows("source:sshd", .readHistory))
        #expect(loaded.allows("user:root", .verifyAudit))
        #expect(!loaded.allows("user:nobody", .loadRules))
        #expect(AccessPolicy.allowAll.allows("anyone", .verifyAudit))
    }

    @Test("policy errors are reported with locations and suggestions")
    func diagnostics() throws {
        let path = try policyFile("""
            roles:
              operator: ["rules:lod", "events:publish:a..b"]
            principals:
              user:ada: [operater]
            extra: 1
            """)
        let (policy, diagnostics) = AccessPolicy.load(path: path)
        #expect(policy == nil)
        let lines = diagnostics.sorted.map { $0.description.replacingOccurrences(of: path, with: "p") }
        #expect(lines.count == 4)
        #expect(lines[0] == "p:2:15: error: unknown permission 'rules:lod'; did you mean 'rules:load'?")
        #expect(lines[1].hasPrefix("p:2:28: error: unknown permission 'events:publish:a..b'; permissions are rules:load, "))
        #expect(lines[2] == "p:4:14: error: undefined role 'operater'; did you mean 'operator'?")
        #expect(lines[3] == "p:5:1: error: unknown key 'extra' in the policy file")
    }

    @Test("a misspelt publish permission gets a suggestion that keeps its pattern")
    func publishTypos() throws {
        let path = try policyFile("""
            roles:
              r: ["events:publsh:a.b", "event:publish:a.*"]
            principals:
              user:ada: [r]
            """)
        let lines = AccessPolicy.load(path: path).1.sorted.map { $0.description.replacingOccurrences(of: path, with: "p") }
        #expect(lines == [
            "p:2:8: error: unknown permission 'events:publsh:a.b'; did you mean 'events:publish:a.b'?",
            "p:2:29: error: unknown permission 'event:publish:a.*'; did you mean 'events:publish:a.*'?",
        ])
    }

    @Test("the guard runs allowed operations, refuses others without running them, and reports each denial")
    func guardPerforms() throws {
        let denials = Locked<[AccessDenied]>([])
        let policy = AccessPolicy(roles: ["reader": [.readHistory]], principals: ["user:ada": ["reader"]])
        let access = AccessGuard(policy: policy) { denial in denials.withLock { $0.append(denial) } }
        #expect(try access.perform(.readHistory, as: "user:ada") { 42 } == 42)
        var ran = false
        let error = #expect(throws: AccessDenied.self) { try access.perform(.verifyAudit, as: "user:ada") { ran = true } }
        #expect(!ran)
        #expect(error?.description == "access denied: 'user:ada' lacks the permission 'audit:verify'")
        #expect(denials.withLock { $0 } == [AccessDenied(principal: "user:ada", operation: .verifyAudit)])
    }
}
