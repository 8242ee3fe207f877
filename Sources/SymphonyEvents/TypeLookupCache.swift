import SymphonyHashing

/// Per event type, the result of a type-pattern lookup, so that after the first event of a type
/// finding what applies to it is one dictionary probe. Bounded: past `limit` types it starts over.
///
/// A value type for use under its owner's lock (`HandlerRegistry`, `RuleSet`).
public struct TypeLookupCache<Value> {
    /// The most event types cached at once.
    @inlinable
    public static var limit: Int { 16_384 }

    // Visible to other modules' inlined lookups: a generic cache called across modules is otherwise
    // run unspecialized, instantiating the dictionary's type metadata on every lookup.
    // Event types are ASCII, so comparing their bytes is comparing them.
    @usableFromInline var values: [ByteStringKey: Value] = [:]

    /// An empty cache.
    public init() {}

    /// The cached value for `type`, if any.
    @inlinable
    public func cached(_ type: String) -> Value? { values[ByteStringKey(type)] }

    /// Caches `value` for `type` (starting over first when the cache is full).
    @inlinable
    public mutating func store(_ value: Value, for type: String) {
        if values.count >= Self.limit { values.removeAll(keepingCapacity: true) }
        values[ByteStringKey(type)] = value
    }

    /// The cached value for `type`, made by `make` and cached on a miss.
    @inlinable
    public mutating func value(for type: String, orMake make: () -> Value) -> Value {
        if let cached = values[ByteStringKey(type)] { return cached }
        let made = make()
        store(made, for: type)
        return made
    }

    /// Forgets every type (after what the lookup sees has changed).
    public mutating func removeAll() {
        values.removeAll(keepingCapacity: true)
    }
}

extension TypeLookupCache: Sendable where Value: Sendable {}
