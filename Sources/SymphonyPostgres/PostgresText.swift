/// Text as PostgreSQL can store it: a `text` value cannot hold NUL, so keys rendered from event
/// fields (which may hold `\u0000`) are stored, locked and looked up with U+FFFD in its place.
public enum PostgresText {
    /// `text` with each NUL replaced by U+FFFD (itself when it has none, without a copy).
    public static func storable(_ text: String) -> String {
        guard text.utf8.contains(0) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value == 0 ? "\u{FFFD}" : $0 }))
    }
}
