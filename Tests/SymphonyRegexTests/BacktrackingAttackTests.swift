import SymphonyRegex
import Testing

@Suite struct BacktrackingAttackTests {
    /// Known catastrophic shapes: overlapping alternatives or nested repetitions under a quantifier.
    static let catastrophic = [
        #"^(a|aa)+$"#,
        #"(a+)+$"#,
        #"^(a+)+$"#,
        #"(\w+\s?)*$"#,
        #"^(\w+\s?)*failed$"#,
        #"(x+x+)+y"#,
        #"^(\d+)*$"#,
        #"^(a|a?)+$"#,
        #"^(([a-z])+.)+[A-Z]([a-z])+$"#,
        #"^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$"#,
        #"^user=(?<user>(?:\w+|\w+\.)+)\s+denied$"#,
        #"(?:\s*\S+\s*)+:$"#,
        #"^(.*a){12}$"#,
        #"^[iI](?:llegal|nvalid) user (?<user>(?:\w+\s?)*) from \S+$"#,
    ]

    /// Log regexes in the style of fail2ban filters: optional prefixes, `(?:\S+ )*`, lazy `.*?`,
    /// `\s+` between fields, IP captures. PCRE2 matches these in linear or low polynomial time.
    static let benign = [
        #"^(?:\[\])?\s*(?:<[^.]+\.[^.]+>\s+)?(?:\S+\s+)?(?:kernel:\s?\[ *\d+\.\d+\]:?\s+)?(?:\S+\s+)?(?:(?:\[\d+\])?:\s+[\[\(]?sshd(?:\(\S+\))?[\]\)]?:?|[\[\(]?sshd(?:\(\S+\))?[\]\)]?:?(?:\[\d+\])?:?)\s+(?:error: )?Failed password for (?:invalid user )?(?<user>.*?) from (?<ip>\d{1,3}(?:\.\d{1,3}){3}) port \d+(?: ssh\d)?\s*$"#,
        #"^(?:\S+ )*sshd\[\d+\]: Invalid user (?<user>\S*) from (?<ip>[0-9a-fA-F:.]+)(?: port \d+)?(?: \[preauth\])?\s*$"#,
        #"^\S+ \S+ \S+ \[[^\]]+\] "(?:GET|POST|HEAD) (?:\S+ )*HTTP/\d\.\d" (?:401|403) \d+"#,
        #"^.*?\[client (?<ip>[\d.]+)(?::\d+)?\] .*?user (?<user>\S+): authentication failure for "[^"]*": Password Mismatch$"#,
        #"pam_unix\(sshd:auth\):\s+authentication failure;(?:\s+(?:(?:logname|e?uid|tty)=\S*)){0,4}\s+ruser=\S*\s+rhost=(?<host>\S+)(?:\s+user=\S*)?\s*$"#,
        #"^\w{3} +\d+ [\d:]+ \S+ postfix/smtpd\[\d+\]: warning: [-._\w]+\[(?<ip>[\d.]+)\]: SASL (?:LOGIN|PLAIN|CRAM-MD5) authentication failed"#,
        #"(?:\[[^\]]*\]\s*)*(?<msg>.+)$"#,
        #"(?<ip6>(?:[0-9a-f]{1,4}:){1,7}[0-9a-f]{1,4})"#,
        #"^(?<host>[\w\-.]*\w) (?:\S+ ){2}\[(?<time>[^\]]+)\] "[^"]*" \d{3} (?:\d+|-)(?: "[^"]*"){0,2}$"#,
        #"(?:(?:error|fatal): (?:PAM: )?)?Disconnecting(?: (?:invalid|authenticating) user \S+)? (?<ip>\S+)(?: (?:port \d+|on \S+|\[preauth\])){0,3}\s*$"#,
        #"^Received disconnect from (?<ip>\S+)(?: port \d+)?:\s*11: .*?\s*\[preauth\]\s*$"#,
        #"\b(?:refund|money back)\b.*?\border\s*#?(?<order>\d+)"#,
        #"^(?:\d{1,3}\.){3}\d{1,3}$"#,
        #"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$"#,
    ]

    @Test("known catastrophic patterns get an attack text that exceeds the match limit", arguments: catastrophic)
    func catastrophicPatterns(pattern: String) throws {
        let regex = try RegularExpression(pattern)
        let attack = try #require(BacktrackingAttack.find(for: regex))
        #expect(attack.text.unicodeScalars.count <= 120)
        #expect(throws: RegexError.self) { try regex.matches(attack.text) }
    }

    @Test("log regexes in fail2ban's style are not flagged", arguments: benign)
    func benignPatterns(pattern: String) throws {
        #expect(BacktrackingAttack.find(for: try RegularExpression(pattern)) == nil)
    }

    @Test("possessive and atomic forms of a catastrophic pattern are not flagged")
    func possessive() throws {
        for pattern in [#"(a++)+$"#, #"(?>a+)+$"#, #"^(?>\w+\s?)*$"#] {
            #expect(BacktrackingAttack.find(for: try RegularExpression(pattern)) == nil, "\(pattern)")
        }
    }

    @Test("the repetition named is the one whose pumping is slow")
    func repetition() throws {
        let attack = try #require(BacktrackingAttack.find(for: try RegularExpression(#"^id=\d+ (a|aa)+$"#)))
        #expect(attack.repetition == "(a|aa)+")
        #expect(attack.text.hasPrefix("id=1 aaaa") || attack.text.hasPrefix("id=0 aaaa"))
    }

    @Test("syntax the shape sketch does not model falls back to generic attack texts")
    func unparsed() throws {
        let regex = try RegularExpression(#"(?x) ( a + ) + $"#)
        #expect(BacktrackingAttack.find(for: regex) != nil)
    }

    @Test("a pattern matches every text when it can match the empty string anywhere")
    func everyText() throws {
        for pattern in ["a*", "(?:error)?", "x|", "^", #"\s*$"#, "(?i)(?:warn(?:ing)?)?"] {
            #expect(try RegularExpression(pattern).matchesEveryText, "\(pattern)")
        }
        for pattern in ["^$", #"^\s*$"#, "a+", "(?:error)", #"\bfoo"#, #"\B"#, "x?y"] {
            #expect(try !RegularExpression(pattern).matchesEveryText, "\(pattern)")
        }
    }
}
