import Synchronization
import SymphonyConcurrency

/// A function that handles an event on a dispatcher worker thread; throwing sends the event to the dead-letter sink.
public typealias EventHandler = @Sendable (Event) throws -> Void

/// The id of one subscription in a `HandlerRegistry`.
public struct SubscriptionID: Sendable, Hashable, Comparable {
    let value: UInt64
    public static func < (lhs: SubscriptionID, rhs: SubscriptionID) -> Bool { lhs.value < rhs.value }
}

/// A subscribed handler and the pattern it was subscribed with.
public struct RegisteredHandler: Sendable {
    /// The subscription's id; handlers for one event run in ascending id (subscription) order.
    public let id: SubscriptionID
    /// The type pattern of the subscription.
    public let pattern: TypePattern
    /// The handler.
    public let handler: EventHandler
}

/// Handlers by type pattern, resolved for an event type without scanning every handler.
///
/// Exact patterns live in a dictionary; wildcard patterns in a trie over segments, walked once
/// per new event type. The resolved list for each type is cached until the next (un)subscribe,
/// so after the first event of a type, lookups are one dictionary probe.
public final class HandlerRegistry: Sendable {
    /// The most event types whose handler lists are cached at once; past it the cache starts over.
    public static let cacheLimit = 16_384

    private final class TrieNode {
        var literal: [String: TrieNode] = [:]
        var anyOne: TrieNode?
        var anyMany: TrieNode?
        var handlers: [RegisteredHandler] = []

        var isEmpty: Bool { literal.isEmpty && anyOne == nil && anyMany == nil && handlers.isEmpty }
    }

    private struct State {
        var exact: [String: [RegisteredHandler]] = [:]
        var trie = TrieNode()
        var cache: [String: [RegisteredHandler]] = [:]
        var nextID: UInt64 = 1
        var count = 0
    }

    private let state = Locked(State())

    /// An empty registry.
    public init() {}

    /// Adds `handler` for event types matching `pattern`.
    @discardableResult
    public func add(_ pattern: TypePattern, handler: @escaping EventHandler) -> SubscriptionID {
        state.withLock { state in
            let registered = RegisteredHandler(id: SubscriptionID(value: state.nextID), pattern: pattern, handler: handler)
            state.nextID += 1
            state.count += 1
            if pattern.isExact {
                state.exact[pattern.text, default: []].append(registered)
            } else {
                var node = state.trie
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
                node.handlers.append(registered)
            }
            state.cache.removeAll(keepingCapacity: true)
            return registered.id
        }
    }

    /// Removes a subscription; returns false when it was not there.
    @discardableResult
    public func remove(_ id: SubscriptionID) -> Bool {
        state.withLock { state in
            var removed = false
            for (type, handlers) in state.exact where handlers.contains(where: { $0.id == id }) {
                let rest = handlers.filter { $0.id != id }
                state.exact[type] = rest.isEmpty ? nil : rest
                removed = true
            }
            if !removed { removed = Self.remove(id, from: state.trie) }
            if removed {
                state.count -= 1
                state.cache.removeAll(keepingCapacity: true)
            }
            return removed
        }
    }

    /// The handlers whose pattern matches `type`, in subscription order.
    public func handlers(for type: String) -> [RegisteredHandler] {
        state.withLock { state in
            if let cached = state.cache[type] { return cached }
            var found = state.exact[type] ?? []
            if !state.trie.isEmpty {
                let segments = type.split(separator: ".", omittingEmptySubsequences: false)
                var seen = Set<SubscriptionID>()
                Self.collect(segments[...], state.trie, into: &found, seen: &seen)
                found.sort { $0.id < $1.id }
            }
            if state.cache.count >= Self.cacheLimit { state.cache.removeAll(keepingCapacity: true) }
            state.cache[type] = found
            return found
        }
    }

    /// How many subscriptions there are.
    public var count: Int { state.withLock { $0.count } }

    private static func collect(
        _ segments: ArraySlice<Substring>, _ node: TrieNode, into found: inout [RegisteredHandler], seen: inout Set<SubscriptionID>
    ) {
        if segments.isEmpty {
            for handler in node.handlers where seen.insert(handler.id).inserted { found.append(handler) }
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

    private static func remove(_ id: SubscriptionID, from node: TrieNode) -> Bool {
        if let index = node.handlers.firstIndex(where: { $0.id == id }) {
            node.handlers.remove(at: index)
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
