/// How field paths are written in conditions and templates: dotted names, with `[N]` for an
/// element of an array (`payload.commits[0].id`, `payload.tags[-1]` for the last). `name[0]` is
/// the same path as `name.0`: a whole-number segment picks an element when the value there is
/// an array (and is a member name when it is an object).
public enum FieldPathSyntax {
    /// The segments of `text`, or nil when it is not a path: an empty segment, or a bracket that
    /// does not hold a whole number or is not followed by `.`, `[` or the end.
    public static func segments(of text: String) -> [String]? {
        var segments: [String] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard let open = part.firstIndex(of: "[") else {
                guard !part.isEmpty, !part.contains("]") else { return nil }
                segments.append(String(part))
                continue
            }
            let name = part[..<open]
            guard !name.isEmpty, !name.contains("]") else { return nil }
            segments.append(String(name))
            var rest = part[open...]
            while !rest.isEmpty {
                guard rest.first == "[", let close = rest.firstIndex(of: "]") else { return nil }
                let index = rest[rest.index(after: rest.startIndex)..<close]
                guard let number = Int(index), String(number) == index else { return nil }
                segments.append(String(number))
                rest = rest[rest.index(after: close)...]
            }
        }
        return segments
    }
}
