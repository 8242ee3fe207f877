import CPCRE2

/// A PCRE2 regular expression (8-bit, UTF and Unicode properties on), JIT-compiled when the
/// platform allows and safe to match from many threads at once.
///
/// Each thread matches with its own match data, match context and JIT stack (`MatchScratch`), so
/// the compiled pattern is the only shared state, and PCRE2 never writes to it after compilation.
/// A match that exceeds `limits` throws `matchLimitExceeded` (or a sibling code) instead of
/// running away. This file and `MatchScratch.swift` hold the module's only unsafe code.
// @unchecked Sendable: `code` is immutable after init (including JIT compilation) and PCRE2
// documents compiled patterns as safe to use for matching from any number of threads.
public final class RegularExpression: @unchecked Sendable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String
    /// The options it was compiled with.
    public let options: RegexOptions
    /// The match limits applied to every match.
    public let limits: MatchLimits
    /// Names of named capture groups, by group number (index 0 is group 1); nil for unnamed groups.
    public let groupNames: [String?]
    /// True when PCRE2's JIT compiler accepted the pattern; otherwise the interpreter matches it.
    public let isJITCompiled: Bool
    /// How many groups have names.
    private let namedGroupCount: Int

    private let code: OpaquePointer

    /// Compiles `pattern`; throws `compileFailed` with PCRE2's message and the character offset.
    public init(_ pattern: String, options: RegexOptions = [], limits: MatchLimits = .default) throws(RegexError) {
        var flags = UInt32(PCRE2_UTF | PCRE2_UCP)
        if options.contains(.caseInsensitive) { flags |= UInt32(PCRE2_CASELESS) }
        if options.contains(.multiline) { flags |= UInt32(PCRE2_MULTILINE) }
        if options.contains(.dotMatchesNewlines) { flags |= UInt32(PCRE2_DOTALL) }

        var errorCode: Int32 = 0
        var errorOffset = 0
        let utf8 = Array(pattern.utf8)
        let compiled = utf8.withUnsafeBufferPointer { buffer in
            pcre2_compile_8(buffer.baseAddress, buffer.count, flags, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            let characterOffset = String(decoding: utf8.prefix(errorOffset), as: UTF8.self).count
            throw RegexError(.compileFailed, Self.message(for: errorCode), offset: characterOffset)
        }
        code = compiled
        self.pattern = pattern
        self.options = options
        self.limits = limits
        isJITCompiled = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
        groupNames = Self.readGroupNames(compiled)
        namedGroupCount = groupNames.count { $0 != nil }
    }

    deinit {
        pcre2_code_free_8(code)
    }

    /// The number of capture groups.
    public var groupCount: Int { groupNames.count }

    /// True when the pattern matches somewhere in `text`.
    public func matches(_ text: String) throws(RegexError) -> Bool {
        try firstMatch(in: text, capturing: false) != nil
    }

    /// The leftmost match in `text`, or nil.
    public func firstMatch(in text: String) throws(RegexError) -> RegexMatch? {
        try firstMatch(in: text, capturing: true)
    }

    public var description: String { pattern }

    /// The leftmost match in `bytes`, which must be valid UTF-8 (the text of a `String`, or bytes
    /// read from one), or nil: `firstMatch(in:)` without making a `String` of the subject.
    public func firstMatch(inUTF8 bytes: UnsafeBufferPointer<UInt8>) throws(RegexError) -> RegexMatch? {
        try match(bytes, capturing: true)
    }

    /// The leftmost match in `bytes` (valid UTF-8, as for `firstMatch(inUTF8:)`) with its named
    /// groups, or nil: `firstMatch(inUTF8:)` without the match's text, its numbered groups or a
    /// dictionary of names.
    public func firstCapturedMatch(inUTF8 bytes: UnsafeBufferPointer<UInt8>) throws(RegexError) -> CapturedMatch? {
        guard let (pairs, range, groupCount) = try run(bytes) else { return nil }
        guard namedGroupCount > 0 else { return CapturedMatch(utf8Range: range, namedCaptures: []) }
        var captures: [NamedCapture] = []
        captures.reserveCapacity(namedGroupCount)
        for group in 1..<groupCount {
            guard let name = groupNames[group - 1], let value = Self.group(group, of: pairs, in: bytes) else { continue }
            captures.append(NamedCapture(name: name, value: value))
        }
        return CapturedMatch(utf8Range: range, namedCaptures: captures)
    }

    /// `firstCapturedMatch(inUTF8:)` on a string's text.
    public func firstCapturedMatch(in text: String) throws(RegexError) -> CapturedMatch? {
        try Self.withUTF8(of: text) { bytes throws(RegexError) in try firstCapturedMatch(inUTF8: bytes) }
    }

    private func firstMatch(in text: String, capturing: Bool) throws(RegexError) -> RegexMatch? {
        try Self.withUTF8(of: text) { bytes throws(RegexError) in try match(bytes, capturing: capturing) }
    }

    /// `body` on the UTF-8 of `text`.
    private static func withUTF8<Value>(
        of text: String, _ body: (UnsafeBufferPointer<UInt8>) throws(RegexError) -> Value
    ) throws(RegexError) -> Value {
        var subject = text
        let outcome: Result<Value, RegexError> = subject.withUTF8 { bytes in Result { () throws(RegexError) in try body(bytes) } }
        return try outcome.get()
    }

    /// Runs the pattern on `bytes`: the match's offset pairs, its range, and how many groups
    /// (counting group 0) PCRE2 reported; nil when nothing matches.
    private func run(_ bytes: UnsafeBufferPointer<UInt8>) throws(RegexError) -> (pairs: UnsafeMutablePointer<Int>, range: Range<Int>, groupCount: Int)? {
        let scratch = MatchScratch.current(groupCount: groupNames.count)
        let result = scratch.match(code, bytes, limits: limits, jit: isJITCompiled)
        if result == PCRE2_ERROR_NOMATCH { return nil }
        guard result > 0 else { throw Self.matchError(result) }
        let pairs = scratch.ovector
        let range = pairs[0]..<max(pairs[0], pairs[1])  // \K in a lookahead can report end < start
        return (pairs, range, min(groupNames.count + 1, Int(result)))
    }

    /// The text of capture group `group` (1…), or nil when it did not take part in the match.
    private static func group(_ group: Int, of pairs: UnsafeMutablePointer<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let start = pairs[2 * group]
        let end = pairs[2 * group + 1]
        guard UInt(bitPattern: start) != UInt.max, start <= end else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    private func match(_ bytes: UnsafeBufferPointer<UInt8>, capturing: Bool) throws(RegexError) -> RegexMatch? {
        guard let (pairs, range, groupCount) = try run(bytes) else { return nil }
        guard capturing else { return RegexMatch(text: "", utf8Range: range, groups: [], namedGroups: [:]) }
        var groups: [String?] = []
        var named: [String: String] = [:]
        for group in 1..<(groupNames.count + 1) {
            let value = group < groupCount ? Self.group(group, of: pairs, in: bytes) : nil
            groups.append(value)
            if let value, let name = groupNames[group - 1] { named[name] = value }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        return RegexMatch(text: text, utf8Range: range, groups: groups, namedGroups: named)
    }

    private static func matchError(_ result: Int32) -> RegexError {
        switch result {
        case PCRE2_ERROR_MATCHLIMIT:
            RegexError(.matchLimitExceeded, "The pattern exceeded its match limit on this text (catastrophic backtracking).")
        case PCRE2_ERROR_DEPTHLIMIT, PCRE2_ERROR_HEAPLIMIT:
            RegexError(.depthLimitExceeded, "The pattern exceeded its depth limit on this text.")
        case PCRE2_ERROR_JIT_STACKLIMIT:
            RegexError(.jitStackExhausted, "The pattern needed more JIT stack than allowed on this text.")
        default:
            RegexError(.matchFailed, message(for: result))
        }
    }

    private static func message(for errorCode: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBufferPointer { pcre2_get_error_message_8(errorCode, $0.baseAddress, $0.count) }
        guard length > 0 else { return "PCRE2 error \(errorCode)" }
        let text = String(decoding: buffer.prefix(Int(length)), as: UTF8.self)
        return text.prefix(1).uppercased() + text.dropFirst() + (text.hasSuffix(".") ? "" : ".")
    }

    private static func readGroupNames(_ code: OpaquePointer) -> [String?] {
        var captureCount: UInt32 = 0
        var nameCount: UInt32 = 0
        var entrySize: UInt32 = 0
        var table: UnsafePointer<UInt8>?
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_CAPTURECOUNT), &captureCount)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMECOUNT), &nameCount)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMETABLE), &table)
        var names = [String?](repeating: nil, count: Int(captureCount))
        guard let table, nameCount > 0 else { return names }
        for entry in 0..<Int(nameCount) {
            let base = table + entry * Int(entrySize)
            let number = Int(base[0]) << 8 | Int(base[1])
            let name = String(cString: base + 2)
            if number >= 1 && number <= names.count { names[number - 1] = name }
        }
        return names
    }
}
