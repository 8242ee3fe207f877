import SymphonyConcurrency
import SymphonyEvents

/// Values each listed under type patterns, looked up by event type: the values whose patterns
/// match, in the order they were added, each once. A type's list is cached on first use, so an
/// empty set costs nothing and a busy type one locked dictionary probe.
final class TypeIndexedValues<Value: Sendable>: Sendable {
    private let values: [Value]
    private let index: TypePatternIndex<Int>
    private let cache = Locked(TypeLookupCache<[Int]>())

    /// Each value with the patterns it is listed under.
    init(_ entries: [(value: Value, patterns: [TypePattern])]) {
        var index = TypePatternIndex<Int>()
        for (position, entry) in entries.enumerated() {
            for pattern in entry.patterns { index.insert(position, for: pattern) }
        }
        values = entries.map(\.value)
        self.index = index
    }

    /// The values listed under a pattern that `type` matches.
    func values(for type: String) -> [Value] {
        guard !values.isEmpty else { return [] }
        let positions = cache.withLock { cache in
            cache.value(for: type) { Array(Set(index.entries(matching: type).map(\.value))).sorted() }
        }
        return positions.map { values[$0] }
    }
}
