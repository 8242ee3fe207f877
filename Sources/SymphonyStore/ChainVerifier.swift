import SymphonyCrypto
import SymphonyEvents

/// Recomputes the history chain from the rows and checks its authenticated head (docs/reference/history-database.md,
/// "The chain"): an edited, deleted, inserted or reordered row of any chained table changes its
/// link's digest; a removed, altered or reordered link breaks the hash chain; links cut from the end
/// no longer match the head; a rollback or a fresh start is caught against a checkpoint.
///
/// Runs inside the caller's read transaction, so a writer committing meanwhile is never seen half-way.
struct ChainVerifier {
    /// How much to recompute.
    enum Scope {
        /// Every row of every table: `symphony audit verify`.
        case everything
        /// The links, the head and the audit records: what a writer checks when it opens the history,
        /// cheap however many events the history holds.
        case operations
    }

    let database: SQLiteDatabase
    /// Every key given: the head is checked under the one whose id it names.
    let keys: [EncryptionKey]
    let scope: Scope

    /// The first problem, or `.intact` with the number of links (those kept, after a prune) and rows checked.
    func verify(checkpoint: HistoryCheckpoint? = nil) throws -> AuditVerification {
        let walked = try walk(through: nil, keepHashOf: checkpoint?.sequence)
        let (start, cursors) = (walked.start, walked.cursors)
        if let broken = walked.broken { return broken }
        guard let lastLink = walked.last, walked.genesis != nil || start != nil else {
            if let start {
                return .broken(
                    sequence: start.link + 1,
                    problem: "the history has no links after its start (link \(start.link), where a prune left it): they were erased")
            }
            return .broken(
                sequence: 1,
                problem: "the history has no genesis link: its chain was erased (every history made by Symphony starts with one), or it was never opened by 'symphony run'")
        }
        if let problem = try checkHead(last: lastLink) { return .broken(sequence: lastLink.sequence, problem: problem) }
        if let cursor = cursors.first(where: { $0.hasRow && (scope == .everything || $0.table == "audit") }) {
            return .broken(
                sequence: lastLink.sequence + 1,
                problem: "the \(cursor.table) table has rows after link \(lastLink.sequence), which no link covers (inserted, or a link was removed)")
        }
        // The records from before schema 6 are covered by link 1: once a prune removed it, they are gone too.
        if start == nil, let problem = try LegacyAuditVerifier(database: database).problem(keys: keys) { return .broken(sequence: 1, problem: problem) }
        if scope == .everything, let problem = try checkScheduledState() { return .broken(sequence: lastLink.sequence, problem: problem) }
        let databaseID = walked.genesis?.databaseID ?? start?.databaseID
        if let checkpoint, let problem = check(checkpoint, databaseID: databaseID, start: start, last: lastLink, linkHash: walked.checkpointedHash) {
            return .broken(sequence: min(checkpoint.sequence, lastLink.sequence + 1), problem: problem)
        }
        let rows = cursors.reduce(0) { $0 + $1.consumed }
        return .intact(links: Int(lastLink.sequence - (start?.link ?? 0)), rows: rows)
    }

    /// Checks the links from the chain's start through link `last` (every row of each, whatever the
    /// scope) and nothing after: what a prune checks before it removes them. Nil when they are intact.
    func problem(through last: Int64) throws -> String? {
        let walked = try walk(through: last)
        if case .broken(let sequence, let problem) = walked.broken { return "link \(sequence): \(problem)" }
        guard let reached = walked.last, reached.sequence == last else { return "the chain does not reach link \(last)" }
        return nil
    }

    /// What walking the links found.
    private struct Walk {
        var start: ChainStart?
        var cursors: [ChainTableCursor]
        var broken: AuditVerification?
        var genesis: ChainLink?
        var last: ChainLink?
        /// The hash of the link a checkpoint names, when the walk met it.
        var checkpointedHash: [UInt8]?
    }

    /// Walks the links in order from the chain's start (the genesis link, or the link after the
    /// latest prune's signed start), checking each one's hash and rows, up to `through` (or the end).
    private func walk(through limit: Int64?, keepHashOf wanted: Int64? = nil) throws -> Walk {
        let start = try ChainStart.latest(in: database)
        let cursors = try ChainTableCursor.all(in: database)
        var walked = Walk(start: start, cursors: cursors)
        if let start, let problem = check(start) {
            walked.broken = .broken(sequence: start.link + 1, problem: problem)
            return walked
        }
        let links = try database.prepare(
            """
            SELECT seq, time_ns, kind, events_digest, executions_digest, scheduled_digest, dead_letters_digest, audit_digest, note, prev_hash, hash
            FROM chain WHERE seq <= ? ORDER BY seq
            """)
        try links.bind([.int(limit ?? Int64.max)])
        var previous = start?.hash ?? HistoryChain.genesis
        var expected: Int64 = (start?.link ?? 0) + 1
        while try links.step() {
            guard let kind = ChainLink.Kind(rawValue: links.int(2)) else {
                walked.broken = .broken(sequence: links.int(0), problem: "link \(links.int(0)) has an unknown kind \(links.int(2)) (altered)")
                return walked
            }
            let link = ChainLink(
                sequence: links.int(0), time: Timestamp(nanosecondsSinceEpoch: links.int(1)), kind: kind,
                digests: TableDigests(
                    events: links.blob(3) ?? [], executions: links.blob(4) ?? [], scheduled: links.blob(5) ?? [], deadLetters: links.blob(6) ?? [],
                    audit: links.blob(7) ?? []),
                note: links.text(8) ?? "", previousHash: links.blob(9) ?? [], hash: links.blob(10) ?? [])
            if link.sequence != expected {
                let problem: String
                if let start, link.sequence <= start.link {
                    problem = "link \(link.sequence) is still there, but the chain starts after link \(start.link) (pruned \(start.pruned)): the start was inserted, or links were put back"
                } else if start == nil && expected == 1 {
                    problem = "links 1…\(link.sequence - 1) are missing, and no signed start says they were pruned (cut from the front of the chain)"
                } else if link.sequence > expected {
                    problem = expected == (start?.link ?? 0) + 1 && start != nil
                        ? "link \(expected) is missing (the chain starts after link \(expected - 1), where a prune left it, but its first link is \(link.sequence))"
                        : "link \(expected) is missing (the chain jumps from \(expected - 1) to \(link.sequence))"
                } else {
                    problem = "link \(link.sequence) is out of order"
                }
                walked.broken = .broken(sequence: min(expected, link.sequence), problem: problem)
                return walked
            }
            if (link.sequence == 1) != (link.kind == .genesis) {
                walked.broken = .broken(
                    sequence: link.sequence,
                    problem: link.sequence == 1 ? "link 1 is not a genesis link (altered)" : "link \(link.sequence) claims to be a genesis link (altered)")
                return walked
            }
            if link.previousHash != previous {
                walked.broken = .broken(
                    sequence: link.sequence,
                    problem: start != nil && link.sequence == start!.link + 1
                        ? "link \(link.sequence) does not follow the chain's signed start (its previous hash is not the hash the prune recorded for link \(start!.link))"
                        : "link \(link.sequence) does not follow link \(link.sequence - 1) (its previous hash differs: replaced or inserted)")
                return walked
            }
            let recomputed = HistoryChain.hash(
                sequence: link.sequence, time: link.time, kind: link.kind, digests: link.digests, note: link.note, after: previous)
            if recomputed != link.hash {
                walked.broken = .broken(sequence: link.sequence, problem: "link \(link.sequence) was altered (its hash does not match its contents)")
                return walked
            }
            if let problem = try checkRows(of: link, cursors: cursors, everything: limit != nil) {
                walked.broken = .broken(sequence: link.sequence, problem: problem)
                return walked
            }
            if link.kind == .genesis { walked.genesis = link }
            if link.sequence == wanted { walked.checkpointedHash = link.hash }
            previous = link.hash
            walked.last = link
            expected += 1
        }
        return walked
    }

    /// The signed start of a pruned chain: signed under a key given, and its MAC verifies.
    private func check(_ start: ChainStart) -> String? {
        guard let key = keys.first(where: { $0.idString == start.keyID }) else {
            return "the chain's start (links 1…\(start.link) were pruned) is signed under key \(start.keyID), which was not given, so it cannot be checked (pass that key, with --retired-key-file after a rotation)"
        }
        guard start.isAuthentic(macKey: HistoryChain.macKey(from: key)) else {
            return "the chain's start (after link \(start.link)) does not verify under key \(start.keyID): it was forged or altered (links were cut from the front of the chain)"
        }
        return nil
    }

    /// Recomputes the digests of the rows `link` covers (only the audit records' in `.operations` scope).
    private func checkRows(of link: ChainLink, cursors: [ChainTableCursor], everything: Bool) throws -> String? {
        let recomputed: TableDigests
        do {
            if scope == .everything || everything {
                recomputed = try ChainTableCursor.digests(of: link.sequence, cursors: cursors)
            } else {
                let stream = SHA256Stream()
                try cursors[cursors.count - 1].digestRows(of: link.sequence, into: stream)
                var only = link.digests
                only.audit = stream.finish()
                recomputed = only
            }
        } catch let error as ChainTableCursor.OutOfOrder {
            return "a row of the \(error.table) table names link \(error.rowLink) but follows the rows of link \(error.link) (moved or inserted)"
        } catch let error as ChainTableCursor.WrongType {
            return "a row of the \(error.table) table of link \(link.sequence) holds a value of another type than its \(error.column) declares (altered)"
        }
        for ((table, stored), (_, computed)) in zip(link.digests.named, recomputed.named) where stored != computed {
            return "the \(table) rows of link \(link.sequence) differ from what that commit wrote (a row was edited, deleted, inserted or reordered)"
        }
        return nil
    }

    /// The head must name the last link, with a MAC under the key whose id it names.
    private func checkHead(last: ChainLink) throws -> String? {
        let head = try database.prepare("SELECT seq, hash, key_id, mac FROM chain_head WHERE id = 1").rows {
            ($0.int(0), $0.blob(1) ?? [], $0.text(2) ?? "", $0.blob(3) ?? [])
        }
        guard let (sequence, hash, keyID, mac) = head.first else { return "the authenticated head is missing" }
        guard let key = keys.first(where: { $0.idString == keyID }) else {
            return "the head is signed under key \(keyID), which was not given, so it cannot be checked (pass that key, with --retired-key-file after a rotation)"
        }
        if !ConstantTime.equal(HistoryChain.headMAC(sequence: sequence, hash: hash, macKey: HistoryChain.macKey(from: key)), mac) {
            return "the head's MAC does not verify under key \(keyID) (a forged head)"
        }
        if sequence > last.sequence {
            return "links \(last.sequence + 1)…\(sequence) were removed (the head says the chain ends at link \(sequence), the table at \(last.sequence))"
        }
        if sequence < last.sequence || hash != last.hash {
            return "links after \(sequence) are not covered by the authenticated head"
        }
        return nil
    }

    /// `scheduled`'s state columns must be what its changes, replayed, leave.
    private func checkScheduledState() throws -> String? {
        let mismatched = try database.prepare(
            """
            SELECT s.id FROM scheduled s
            LEFT JOIN (SELECT entry_id, state, due_ns, fired_ns, late, MAX(seq) FROM scheduled_changes GROUP BY entry_id) c ON c.entry_id = s.id
            WHERE c.entry_id IS NULL
               OR s.state IS NOT (CASE c.state WHEN 0 THEN 'pending' WHEN 1 THEN 'done' ELSE 'cancelled' END)
               OR s.due_ns IS NOT c.due_ns OR s.fired_ns IS NOT c.fired_ns OR s.late IS NOT c.late
            LIMIT 1
            """
        ).rows { $0.text(0) ?? "" }
        guard let id = mismatched.first else { return nil }
        return "scheduled entry \(id) does not have the state its recorded changes give it (its state, due, fired or late column was edited)"
    }

    private func check(_ checkpoint: HistoryCheckpoint, databaseID: String?, start: ChainStart?, last: ChainLink, linkHash: [UInt8]?) -> String? {
        guard let key = keys.first(where: { $0.idString == checkpoint.keyID }) else {
            return "the checkpoint is signed under key \(checkpoint.keyID), which was not given"
        }
        guard checkpoint.isAuthentic(under: key) else { return "the checkpoint's MAC does not verify (it was altered)" }
        guard checkpoint.databaseID == databaseID else {
            return "the checkpoint is of database \(checkpoint.databaseID), this history is database \(databaseID ?? "?"): it was erased and started afresh, or it is another database"
        }
        guard checkpoint.sequence <= last.sequence else {
            return "the checkpoint names link \(checkpoint.sequence), the history ends at link \(last.sequence): it was rolled back to an older copy, or links were removed"
        }
        if let start, checkpoint.sequence <= start.link {
            // A pruned link: the signed start vouches for the chain up to it; only its own hash can be compared.
            guard checkpoint.sequence < start.link || checkpoint.hash == start.hash else {
                return "link \(checkpoint.sequence) is not the link the checkpoint names (the history was rewritten since)"
            }
            return nil
        }
        guard linkHash == checkpoint.hash else {
            return "link \(checkpoint.sequence) is not the link the checkpoint names (the history was rewritten since)"
        }
        return nil
    }
}
