import SymphonyConcurrency
import Synchronization

/// A function that handles an event on a dispatcher worker thread; throwing sends the event to the dead-letter sink.
public typealias EventHandler = @Sendable (Event) throws -> Void

/// A handler that also takes the fired scheduled entry that published the event, if one did, and
/// completes it once it handled the event (see `EventSystem.subscribe(_:completingFiredEntries:)`).
public typealias FiredEntryHandler = @Sendable (Event, FiredEntry?) throws -> Void

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
    /// The handler, with the fired entry of an event a scheduled entry published.
    public let deliver: FiredEntryHandler
    /// True when the handler completes the fired entries it is given; for an event no such handler
    /// matches, the dispatcher completes the entry after every handler ran.
    public let completesFiredEntries: Bool

    /// The handler.
    public var handler: EventHandler { { [deliver] in try deliver($0, nil) } }
}

/// What the registry's index holds for one subscription.
struct Subscribed: Sendable {
    let deliver: FiredEntryHandler
    let completesFiredEntries: Bool
}

/// Handlers by type pattern, resolved for an event type without scanning every handler.
///
/// A `TypePatternIndex` finds the matching subscriptions; the resolved list for each event type
/// is cached until the next (un)subscribe, so after the first event of a type a lookup is one
/// dictionary probe. The caches are per thread (`StripedLocked`), so worker threads looking up
/// handlers do not take one shared lock per event; each cache is tagged with the generation of the
/// index it was resolved from, and an (un)subscribe moves the generation on.
public final class HandlerRegistry: Sendable {
    private struct State {
        var index = TypePatternIndex<Subscribed>()
        var generation: UInt64 = 0
    }

    private struct Cache {
        var generation: UInt64 = 0
        var lists = TypeLookupCache<[RegisteredHandler]>()
    }

    private let state = Locked(State())
    /// `state.generation`, readable without its lock.
    private let generation = Atomic<UInt64>(0)
    private let caches = StripedLocked { Cache() }

    /// An empty registry.
    public init() {}

    /// Adds `handler` for event types matching `pattern`.
    @discardableResult
    public func add(_ pattern: TypePattern, handler: @escaping EventHandler) -> SubscriptionID {
        add(Subscribed(deliver: { event, _ in try handler(event) }, completesFiredEntries: false), for: pattern)
    }

    /// Adds `handler` for event types matching `pattern`; it completes the fired entries it is given.
    @discardableResult
    public func add(_ pattern: TypePattern, completingFiredEntries handler: @escaping FiredEntryHandler) -> SubscriptionID {
        add(Subscribed(deliver: handler, completesFiredEntries: true), for: pattern)
    }

    private func add(_ subscribed: Subscribed, for pattern: TypePattern) -> SubscriptionID {
        state.withLock { state in
            let id = state.index.insert(subscribed, for: pattern)
            moveOn(&state)
            return SubscriptionID(value: id)
        }
    }

    /// Removes a subscription; returns false when it was not there.
    @discardableResult
    public func remove(_ id: SubscriptionID) -> Bool {
        state.withLock { state in
            guard state.index.remove(id: id.value) else { return false }
            moveOn(&state)
            return true
        }
    }

    /// The handlers whose pattern matches `type`, in subscription order.
    public func handlers(for type: String) -> [RegisteredHandler] {
        let current = generation.load(ordering: .acquiring)
        if let cached = caches.withLock({ $0.generation == current ? $0.lists.cached(type) : nil }) { return cached }
        let (found, resolvedAt) = state.withLock { state in
            let found = state.index.entries(matching: type).map {
                RegisteredHandler(
                    id: SubscriptionID(value: $0.id), pattern: $0.pattern, deliver: $0.value.deliver,
                    completesFiredEntries: $0.value.completesFiredEntries)
            }
            return (found, state.generation)
        }
        caches.withLock { cache in
            // A list resolved before an (un)subscribe that this thread's cache already saw is not kept.
            guard resolvedAt >= cache.generation else { return }
            if cache.generation != resolvedAt {
                cache.lists.removeAll()
                cache.generation = resolvedAt
            }
            cache.lists.store(found, for: type)
        }
        return found
    }

    /// After an (un)subscribe, under the state's lock: lists cached before it are out of date.
    private func moveOn(_ state: inout State) {
        state.generation += 1
        generation.store(state.generation, ordering: .releasing)
    }

    /// How many subscriptions there are.
    public var count: Int { state.withLock { $0.index.count } }
}
