import SymphonyConcurrency
import SymphonyEvents
import SymphonyHashing
import Synchronization

/// The derived-event budgets of input events whose derived events are still on their way.
///
/// Every event derived from an input event — directly or through other derived events, by
/// `publish` or `delay` — draws one unit from that input event's `Budget`. A derived event is
/// entered here under its id, with its input event's budget, before it is published or scheduled,
/// and taken out when the engine starts processing it; the events it derives in turn are entered
/// with the same budget. So only events still waiting (in the queue, or scheduled) hold an entry,
/// and a budget is released with the last entry that holds it: memory follows what is in flight,
/// not how many input events a run has seen. An input event that derives nothing costs nothing.
///
/// A derived event without an entry (a delayed event fired after a restart, or one made by hand)
/// starts a budget of its own.
final class DerivationLedger: Sendable {
    /// One input event's budget, shared by everything derived from it.
    final class Budget: Sendable {
        /// The input event whose derived events draw on this budget.
        let rootID: String
        private let used = Atomic<Int>(0)

        init(rootID: String) {
            self.rootID = rootID
        }

        /// Takes one unit; false when `limit` units are already taken.
        func draw(upTo limit: Int) -> Bool {
            var current = used.load(ordering: .relaxed)
            while current < limit {
                let (exchanged, original) = used.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
                if exchanged { return true }
                current = original
            }
            return false
        }

        /// Gives back a unit whose event was never published.
        func refund() {
            used.subtract(1, ordering: .relaxed)
        }
    }

    /// The most events one input event may derive.
    let limit: Int
    /// The entries, by the bytes of the event's id (an event is taken with the id it was entered
    /// under, unchanged on its way through the queue), in stripes chosen by the id's last character
    /// (the fastest-changing digit of a generated id): workers entering and taking different events
    /// rarely share a lock.
    private let stripes = (0..<16).map { _ in Locked<[ByteStringKey: Budget]>([:]) }

    /// The stripe of `id`: its last digit's value (`EventIDGenerator.digits`) modulo 16, so each
    /// stripe takes two of the 32 digits; any other last byte falls in some stripe too.
    private func stripe(_ id: String) -> Locked<[ByteStringKey: Budget]> {
        stripes[Self.stripeIndex(of: id)]
    }

    /// Which of the 16 stripes holds `id`'s entry.
    static func stripeIndex(of id: String) -> Int {
        stripeOfLastByte[Int(id.utf8.last ?? 0)]
    }

    /// For each byte, the stripe of an id ending in it.
    private static let stripeOfLastByte: [Int] = {
        var table = (0..<256).map { $0 & 15 }
        for (value, digit) in EventIDGenerator.digits.enumerated() { table[Int(digit)] = value & 15 }
        return table
    }()

    init(limit: Int) {
        precondition(limit >= 0, "a derived-event budget cannot be negative")
        self.limit = limit
    }

    /// The budget a derived `event` was entered with, taken out of the ledger (processing it has
    /// begun); nil for an input event, and for a derived event without an entry.
    func take(_ event: Event) -> Budget? {
        guard event.causation != nil else { return nil }  // input events were never entered: no lock
        return stripe(event.id).withLock { awaiting in
            let budget = awaiting.removeValue(forKey: ByteStringKey(event.id))
            // A dictionary keeps its storage when emptied by removals: let a burst's go.
            if awaiting.isEmpty && awaiting.capacity > 256 { awaiting = [:] }
            return budget
        }
    }

    /// Draws one unit from `budget` for `derived` and enters it, before it is published or
    /// scheduled (a worker may process it at once); throws when the budget is used up.
    func enter(_ derived: Event, drawingOn budget: Budget) throws {
        guard budget.draw(upTo: limit) else {
            throw ActionError(Self.exhaustedMessage(limit: limit, rootID: budget.rootID))
        }
        stripe(derived.id).withLock { $0[ByteStringKey(derived.id)] = budget }
    }

    /// Takes back the entry of a derived event that could not be published or scheduled, and its unit.
    func withdraw(_ derived: Event, from budget: Budget) {
        stripe(derived.id).withLock { _ = $0.removeValue(forKey: ByteStringKey(derived.id)) }
        budget.refund()
    }

    /// Takes out the entry of a delayed event that was cancelled (it will never be processed),
    /// with its unit; nothing when it has none (scheduled by an earlier run).
    func discard(_ cancelled: Event) {
        guard let budget = stripe(cancelled.id).withLock({ $0.removeValue(forKey: ByteStringKey(cancelled.id)) }) else { return }
        budget.refund()
    }

    /// Drops every entry (a cluster node's batch ended): their units stay spent. Stripe by stripe:
    /// call it when no event is being entered or taken.
    func removeAll() {
        for stripe in stripes { stripe.withLock { $0 = [:] } }
    }

    /// Derived events entered and not yet taken: published or scheduled, waiting to be processed
    /// (summed stripe by stripe, so a snapshot only when no event is being entered or taken).
    var awaitingCount: Int { stripes.reduce(0) { count, stripe in count + stripe.withLock { $0.count } } }

    /// The failed action's reason once an input event's budget is used up (the dry run says the same).
    static func exhaustedMessage(limit: Int, rootID: String) -> String {
        "derived-event budget of \(limit) for input event \(rootID) exhausted"
    }
}
