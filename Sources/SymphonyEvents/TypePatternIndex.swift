/// Values stored under type patterns, found for an event type without scanning every pattern.
///
/// Exact patterns live in a dictionary (one probe); wildcard patterns in a trie over segments,
/// walked once per lookup. Lookups return entries in insertion order. This is a value type with
/// no locking: `HandlerRegistry` guards and caches one, the rule engine builds one per rule set.
public struct TypePatternIndex<Value: Sendable>: Sendable {
    /// A stored value, its pattern, and its insertion number (lookups are ordered by it).
    public struct Entry: Sendable {
        public let id: UInt64
        public let pattern: TypePattern
        public let value: Value
    }

    private final class TrieNode: @unchecked Sendable {
        // @unchecked Sendable: nodes are mutated only through the owning index's mutating
        // methods, which copy the trie first when it is shared (see `uniqueTrie`).
        var literal: [String: TrieNode] = [:]
        var anyOne: TrieNode?
        var anyMany: TrieNode?
        var entries: [Entry] = []

        var isEmpty: Bool { literal.isEmpty && anyOne == nil && anyMany == nil && entries.isEmpty }

        func copy() -> TrieNode {
            let node = TrieNode()
            node.literal = literal.mapValues { $0.copy() }
            node.anyOne = anyOne?.copy()
            node.anyMany = anyMany?.copy()
            node.entries = entries
            return node
        }
    }

    private var exact: [String: [Entry]] = [:]
    private var trie = TrieNode()
    private var nextID: UInt64 = 1

    /// The number of stored values.
    public private(set) var count = 0

    /// An empty index.
    public init() {}

    /// Stores `value` under `pattern`; returns the entry's id.
    @discardableResult
    public mutating func insert(_ value: Value, for pattern: TypePattern) -> UInt64 {
        let entry = Entry(id: nextID, pattern: pattern, value: value)
        nextID += 1
        count += 1
        if pattern.isExact {
            exact[pattern.text, default: []].append(entry)
            return entry.id
        }
        uniqueTrie()
        var node = trie
        for segment in pattern.segments {
            switch segment {
            case .literal(let name):
                if node.literal[name] == nil { node.literal[name] = TrieNode() }
                node = node.literal[name]!
            case .anyOne:
                if node.anyOne == nil { node.anyOne = TrieNode() }
                node = node.anyOne!
            case .anyMany:
                if node.anyMany == nil { node.anyMany = TrieNode() }
                node = node.anyMany!
            }
        }
        node.entries.append(entry)
        return entry.id
    }

    /// Removes the entry with `id`; returns false when there is none.
    @discardableResult
    public mutating func remove(id: UInt64) -> Bool {
        for (type, entries) in exact where entries.contains(where: { $0.id == id }) {
            let rest = entries.filter { $0.id != id }
            exact[type] = rest.isEmpty ? nil : rest
            count -= 1
            return true
        }
        uniqueTrie()
        guard Self.remove(id, from: trie) else { return false }
        count -= 1
        return true
    }

    /// The entries whose pattern matches `type`, in insertion order.
    public func entries(matching type: String) -> [Entry] {
        var found = exact[type] ?? []
        if !trie.isEmpty {
            let segments = type.split(separator: ".", omittingEmptySubsequences: false)
            var seen = Set<UInt64>()
            Self.collect(segments[...], trie, into: &found, seen: &seen)
            found.sort { $0.id < $1.id }
        }
        return found
    }

    private mutating func uniqueTrie() {
        if !isKnownUniquelyReferenced(&trie) { trie = trie.copy() }
    }

    private static func collect(
        _ segments: ArraySlice<Substring>, _ node: TrieNode, into found: inout [Entry], seen: inout Set<UInt64>
    ) {
        if segments.isEmpty {
            for entry in node.entries where seen.insert(entry.id).inserted { found.append(entry) }
        } else {
            if let next = node.literal[String(segments.first!)] { collect(segments.dropFirst(), next, into: &found, seen: &seen) }
            if let next = node.anyOne { collect(segments.dropFirst(), next, into: &found, seen: &seen) }
        }
        if let many = node.anyMany {
            // `**` consumes zero or more segments.
            var rest = segments
            while true {
                collect(rest, many, into: &found, seen: &seen)
                guard !rest.isEmpty else { break }
                rest = rest.dropFirst()
            }
        }
    }

    private static func remove(_ id: UInt64, from node: TrieNode) -> Bool {
        if let index = node.entries.firstIndex(where: { $0.id == id }) {
            node.entries.remove(at: index)
            return true
        }
        for (name, child) in node.literal where remove(id, from: child) {
            if child.isEmpty { node.literal[name] = nil }
            return true
        }
        if let child = node.anyOne, remove(id, from: child) {
            if child.isEmpty { node.anyOne = nil }
            return true
        }
        if let child = node.anyMany, remove(id, from: child) {
            if child.isEmpty { node.anyMany = nil }
            return true
        }
        return false
    }
}
