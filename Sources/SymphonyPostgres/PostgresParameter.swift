/// A value bound to a statement's `$n` placeholder. Integers and text travel as text, bytes as
/// binary (cast the placeholder where PostgreSQL cannot infer its type: `$1::bytea`, `$2::bigint[]`).
public enum PostgresParameter: Sendable, Hashable {
    /// SQL NULL.
    case null
    /// Text (without NUL characters).
    case text(String)
    /// An integer, for any integer column type.
    case int(Int64)
    /// Bytes, for a `bytea` (write the placeholder `$n::bytea`).
    case bytes([UInt8])
    /// A `bigint[]` (write the placeholder `$n::bigint[]`).
    case intArray([Int64])
    /// A `text[]` (write the placeholder `$n::text[]`; no element may hold NUL).
    case textArray([String])
}
