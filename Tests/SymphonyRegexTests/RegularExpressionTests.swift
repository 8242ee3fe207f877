import Foundation
import SymphonyRegex
import Testing

@Suite struct RegularExpressionTests {
    @Test("a pattern that does not compile reports PCRE2's message and the offset")
    func compileError() {
        let error = #expect(throws: RegexError.self) { try RegularExpression("order (\\d+") }
        #expect(error?.code == .compileFailed)
        #expect(error?.message == "Missing closing parenthesis.")
        #expect(error?.offset == 10)
        #expect(error?.description == "Missing closing parenthesis. (at offset 10 in the pattern)")
    }

    @Test("compile offsets count characters, not bytes")
    func compileOffsetInCharacters() {
        let error = #expect(throws: RegexError.self) { try RegularExpression("café€[") }
        #expect(error?.offset == 6)
    }

    @Test("\\w, \\b and caseless matching understand accented and non-Latin letters")
    func unicode() throws {
        #expect(try RegularExpression("\\w+").firstMatch(in: "  café! ")?.text == "café")
        #expect(try RegularExpression("\\bжурнал\\b").matches("открыть журнал ошибок"))
        #expect(try RegularExpression("été", options: .caseInsensitive).matches("ÉTÉ 2026"))
        #expect(try !RegularExpression("été").matches("ÉTÉ 2026"))
        #expect(try RegularExpression("[£€]\\s?(?<amount>\\d+)").firstMatch(in: "it cost €42")?.namedGroups == ["amount": "42"])
    }

    @Test("named and numbered groups, including groups that did not take part")
    func groups() throws {
        let regex = try RegularExpression("order\\s*(?<order>\\d+)(?:\\s+for\\s+(?<who>\\w+))?|(ticket)")
        #expect(regex.groupNames == ["order", "who", nil])
        let match = try #require(try regex.firstMatch(in: "refund order 1234 please"))
        #expect(match.text == "order 1234")
        #expect(match.groups == ["1234", nil, nil])
        #expect(match.namedGroups == ["order": "1234"])
        #expect(match.utf8Range == 7..<17)
        #expect(try regex.firstMatch(in: "nothing here") == nil)
    }

    @Test("the pattern is JIT-compiled on this platform")
    func jit() throws {
        #expect(try RegularExpression("a+b").isJITCompiled)
    }

    /// The outcome proves the limit cut the search short; how long that takes is a benchmark's business.
    @Test("catastrophic backtracking comes back as 'match limit exceeded'", .timeLimit(.minutes(12)))
    func catastrophicPattern() throws {
        let regex = try RegularExpression("(a+)+$")
        let subject = String(repeating: "a", count: 40) + "b"
        let error = #expect(throws: RegexError.self) { try regex.matches(subject) }
        #expect(error?.code == .matchLimitExceeded)
        #expect(error?.isResourceLimit == true)
        #expect(error?.message == "The pattern exceeded its match limit on this text (catastrophic backtracking).")
    }

    @Test("a lower match limit is honoured; a well-behaved pattern on a long text stays within the default")
    func limits() throws {
        let strict = try RegularExpression("(\\w+\\s?)*$", limits: MatchLimits(matchLimit: 100, depthLimit: 100))
        #expect(throws: RegexError.self) { try strict.matches(String(repeating: "word ", count: 50) + "!") }
        let ordinary = try RegularExpression("\\border\\s+(?<n>\\d+)")
        let long = String(repeating: "lorem ipsum dolor sit amet ", count: 2_000) + "order 42"
        #expect(try ordinary.firstMatch(in: long)?.namedGroups == ["n": "42"])
    }

    @Test("the empty string and empty matches work")
    func emptyInputs() throws {
        #expect(try RegularExpression("^$").matches(""))
        #expect(try RegularExpression("x*").firstMatch(in: "abc")?.text == "")
    }

    @Test("many threads match one pattern at once and each gets its own result")
    func concurrentMatching() throws {
        let regex = try RegularExpression("order\\s+(?<n>\\d+)", options: .caseInsensitive)
        let wrong = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for index in 0..<2_000 {
                let value = "\(thread * 10_000 + index)"
                let found = try? regex.firstMatch(in: "Please ORDER \(value) now")?.namedGroups["n"]
                if found != value { wrong.increment() }
            }
        }
        #expect(wrong.value == 0)
    }
}

/// A counter for worker threads in tests.
final class LockedCounter: @unchecked Sendable {
    // @unchecked Sendable: `count` is only touched while holding `lock`.
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
