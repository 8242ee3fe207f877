import SymphonyRegex
import Testing

@Suite struct RequiredLiteralTests {
    @Test("the longest provably required literal is found, lowercased", arguments: [
        ("refund.*order\\s*(?<order>\\d+)", "refund"),
        ("\\bMoney Back\\b", "money back"),
        ("(?:a|b)password reset", "password reset"),
        ("tracking number\\s*#?\\d+", "tracking number"),
        ("colou?r scheme", "r scheme"),
        ("abcd+efgh", "abcd"),
        ("order\\.status", "status"),
        ("café", "caf"),
        ("x{2}yzzy", "yzzy"),
        ("\\p{Lu}upper", "upper"),
        ("[refund]+ly done", "ly done"),
        ("(?i)cancel", "cancel"),
    ])
    func extracts(pattern: String, literal: String) {
        #expect(RequiredLiteral.extract(from: pattern) == literal)
    }

    @Test("patterns without a provable literal get none", arguments: [
        "refund|money back",  // top-level alternation
        "(?x) refund order",  // extended mode: spaces are not literal
        "\\Qa.b\\E",
        "ab",
        "\\d{3,}",
        "(refund)",
        "refunds?",  // 'refund' stays: see below
    ])
    func none(pattern: String) {
        if pattern == "refunds?" {
            #expect(RequiredLiteral.extract(from: pattern) == "refund")
        } else {
            #expect(RequiredLiteral.extract(from: pattern) == nil)
        }
    }
}

@Suite struct RequiredAlternativesTests {
    @Test("a top-level group of literal alternatives every match passes through is found, lowercased and sorted", arguments: [
        (#"(?:upgrad|downgrad|Switch)\w*\s+(?:to|from)"#, ["downgrad", "switch", "upgrad"]),
        (#"\b(?<plan>basic|team|enterprise)\b"#, ["basic", "enterprise", "team"]),
        (#"(?'verb'add|remove)\s+\d+"#, ["add", "remove"]),
        (#"(?P<what>password|pass code)"#, ["pass code", "password"]),
        (#"(cancel|stop)+ now"#, ["cancel", "stop"]),
        (#"(?:ab c|def)x(?:longer|longest)"#, ["longer", "longest"]),  // the group whose shortest alternative is longest
        (#"(refund)"#, ["refund"]),
    ])
    func found(pattern: String, alternatives: [String]) {
        #expect(RequiredLiteral.requiredAlternatives(in: pattern) == alternatives)
    }

    @Test("groups a match may skip, assertions, short or non-literal alternatives, and unreadable patterns give none", arguments: [
        #"(?:refund|money)?\s+\w+"#, #"(?:refund|money)*x"#, #"(?:refund|money){0,2}x"#, #"(?=refund|money)\w+"#,
        #"(?!refund|money)\w+"#, #"(?<=refund|money)\w+"#, #"(?<!refund|money)\w+"#, #"(?:abc|de)x"#, #"(?:re(fund)|money)"#,
        #"(?:can ?not|unable)"#, #"(?:log\s*in|signin)"#, #"refund|(?:abc|def)"#, #"(?x)(?:abc|def)"#, #"(?P=name)(?P>name)"#,
        #"(?i:abc|def)"#, #"(?|abc|def)"#, #"abc(*ACCEPT)(?:def|ghi)"#, #"\Q(abc|def)\E"#,
        // An escape whose argument is ')' or ']', and a callout's text, must not end a group or class early.
        #"y[\c](?:abc|def)]"#, #"y(?:x\c)?(?:abc|def))?"#, #"y(?:(?C{)})(?:abc|def))?"#, #"(?>abc|def)"#,
    ])
    func none(pattern: String) {
        #expect(RequiredLiteral.requiredAlternatives(in: pattern) == nil)
    }

    @Test("an escape whose argument closes a class or group, or a callout, yields no literal either", arguments: [
        #"y[\c]abcdef]"#, #"y(?:x\c)abcdef)?"#, #"(?C{)abcdef})"#,
    ])
    func escapedClosers(pattern: String) {
        #expect(RequiredLiteral.extractAll(from: pattern) == [])
    }

    @Test("whenever such a pattern matches, one of its alternatives is in the text", arguments: [
        (#"(?:upgrad|downgrad|switch)\w*\s+(?:to|from)"#, ["Upgrading to", "SWITCHED from", "switch   to x"]),
        (#"\b(?<plan>basic|team)\b plan"#, ["the TEAM plan", "basic plan"]),
    ])
    func neverMisses(pattern: String, texts: [String]) throws {
        let regex = try RegularExpression(pattern, options: .caseInsensitive)
        let alternatives = try #require(RequiredLiteral.requiredAlternatives(in: pattern))
        for text in texts {
            #expect(try regex.matches(text), "the test text must match \(pattern)")
            #expect(alternatives.contains { text.lowercased().contains($0) }, "no alternative of \(pattern) in '\(text)'")
        }
    }
}

@Suite struct LiteralScannerTests {
    @Test("finds every literal that occurs, overlapping ones included, ignoring ASCII case")
    func finds() {
        let scanner = LiteralScanner(["refund", "fund", "order", "he", "she", "hers"])
        let found = Set(scanner.literalIDs(in: "REFUND for ushers' Order")!)
        #expect(found == [0, 1, 2, 3, 4, 5])
        #expect(scanner.literalIDs(in: "nothing") == [])
        #expect(scanner.literalIDs(in: "") == [])
    }

    @Test("non-ASCII text is skipped safely, but characters that caselessly equal ASCII letters make the scan inconclusive")
    func caseMates() {
        let scanner = LiteralScanner(["kelvin", "pass"])
        #expect(scanner.literalIDs(in: "café kelvin €") == [0])
        #expect(scanner.literalIDs(in: "\u{212A}elvin") == nil)  // KELVIN SIGN
        #expect(scanner.literalIDs(in: "pa\u{017F}s") == nil)  // LONG S
        #expect(scanner.literalIDs(in: "İstanbul") == nil)
    }

    @Test("a pre-filtered regex never misses: the literal is found whenever the pattern matches", arguments: [
        ("refund.*order\\s*(?<n>\\d+)", ["please REFUND my order 12", "Refund-order 9", "no match here"]),
        ("colou?r scheme", ["Color Scheme", "colour scheme", "colr scheme"]),
        ("(?i)pass", ["PASS", "pa\u{017F}s"]),
    ])
    func neverMisses(pattern: String, texts: [String]) throws {
        let regex = try RegularExpression(pattern, options: .caseInsensitive)
        let literal = try #require(RequiredLiteral.extract(from: pattern))
        let scanner = LiteralScanner([literal])
        var matched = 0
        for text in texts where try regex.matches(text) {
            matched += 1
            let found = scanner.literalIDs(in: text)
            if text.utf8.allSatisfy({ $0 < 0x80 }) {
                #expect(found == [0], "\(pattern) matched '\(text)' but the scan said \(String(describing: found))")
            } else {
                // Outside ASCII the scan may decline to decide (nil: run the regex), never say "absent".
                #expect(found == nil || found == [0], "\(pattern) matched '\(text)' but the scan said \(String(describing: found))")
            }
        }
        #expect(matched >= 1, "no text matched \(pattern): the test checked nothing")
    }
}

@Suite struct RequiredLiteralEscapeTests {
    @Test("escape arguments, literal braces and (*ACCEPT) never yield a literal a match can lack", arguments: [
        ("refund\\x20order", "Refund order"),
        ("\\pLabc", "xabc"),
        ("\\cJabc", "\nabc"),
        ("\\101bcd", "Abcd"),
        ("(x)\\g1abc", "xxabc"),
        ("abcd{|x", "x"),
        ("a{|b}cde", "a{"),
        ("abc(*ACCEPT)defg", "abc"),
        ("\\bword\\b", "a word here"),
    ])
    func neverRequiresAbsentText(pattern: String, text: String) throws {
        let regex = try RegularExpression(pattern, options: .caseInsensitive)
        #expect(try regex.matches(text), "the test text must match \(pattern)")
        for literal in RequiredLiteral.extractAll(from: pattern) {
            #expect(text.lowercased().contains(literal), "'\(literal)' from \(pattern) is not in '\(text)'")
        }
    }

    @Test("common patterns keep their literals", arguments: [
        ("\\bword\\b", ["word"]),
        ("\\d{3,}order", ["order"]),
        ("ab{2}cdef", ["cdef"]),
    ])
    func keepsLiterals(pattern: String, expected: [String]) {
        #expect(RequiredLiteral.extractAll(from: pattern) == expected)
    }
}
