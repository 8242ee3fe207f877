import SymphonyEvents

/// What a prune removed (or, in a dry run, would remove): a prefix of the history chain, links
/// `firstLink…lastLink`, with every row they covered, and the finished side effects queued before the cut.
public struct PruneSummary: Sendable, Hashable {
    /// Every link removed was committed before this time.
    public let cut: Timestamp
    /// The first link removed (the chain's first link before the prune).
    public let firstLink: Int64
    /// The last link removed: the chain goes on with the next one. Below `firstLink` when nothing can go.
    public let lastLink: Int64
    /// True when the prune stopped at its per-pass row budget, with more to remove before the cut.
    public let budgetReached: Bool
    public var events = 0
    public var executions = 0
    /// `scheduled` entries removed (pending ones among them are recorded again: `carried`).
    public var scheduled = 0
    /// Delayed events still pending that the removed links scheduled: recorded again, unchanged, by the prune's own link.
    public var carried = 0
    public var scheduledChanges = 0
    /// Rejected input lines (`dead_letters`).
    public var deadLetters = 0
    public var audit = 0
    /// Finished side effects (`outbox` rows in state done) queued before the cut.
    public var outbox = 0

    /// This prune, then `next` (a later pass to the same cut), as one.
    public func followed(by next: PruneSummary) -> PruneSummary {
        var merged = PruneSummary(
            cut: next.cut, firstLink: links > 0 ? firstLink : next.firstLink, lastLink: next.links > 0 ? next.lastLink : lastLink,
            budgetReached: next.budgetReached)
        merged.events = events + next.events
        merged.executions = executions + next.executions
        merged.scheduled = scheduled + next.scheduled
        merged.carried = carried + next.carried
        merged.scheduledChanges = scheduledChanges + next.scheduledChanges
        merged.deadLetters = deadLetters + next.deadLetters
        merged.audit = audit + next.audit
        merged.outbox = outbox + next.outbox
        return merged
    }

    /// True when nothing is removed.
    public var isEmpty: Bool { lastLink < firstLink && outbox == 0 }

    /// How many links go.
    public var links: Int64 { max(0, lastLink - firstLink + 1) }

    /// `links 1…40: 120 events, 300 executions, …` (the `history.prune` audit record's details, and what the CLI prints).
    public var details: String {
        let linkText = links == 0 ? "no links" : links == 1 ? "link \(firstLink)" : "links \(firstLink)…\(lastLink)"
        return "\(linkText) committed before \(cut): \(events) events, \(executions) executions, \(scheduled) scheduled entries "
            + "(\(scheduledChanges) changes), \(deadLetters) rejected lines, \(audit) audit records, \(outbox) finished side effects"
            + (carried > 0 ? "; \(carried) pending delayed events carried forward" : "")
    }
}
