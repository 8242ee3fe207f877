#!/usr/bin/env python3
"""Verify a Symphony history database (schema 6 to 11) outside Symphony.

Usage:
    verify_history.py DATABASE KEYFILE [CHECKPOINT]

Recomputes every link of the history chain from the rows it covers, checks the chain's
authenticated head, the audit records written before schema 6 (their own hash chain and
head), the state of scheduled entries against their recorded changes and, when CHECKPOINT is
given (a file written by 'symphony run --checkpoint'), that the database still holds the link
the checkpoint names. After a prune ('symphony history prune'), the chain is checked from its
signed start on. The formats are documented in docs/reference/history-database.md, "The chain" and "Retention".

KEYFILE is the key whose id the heads name (after a rotation, the key that wrote the head).
Exit status: 0 intact; 2 broken (the first problem is printed on stderr); 1 unreadable.
Standard library only. It opens the database read-only, so it can run beside 'symphony run'.
"""

import hashlib
import hmac
import os
import sqlite3
import stat
import struct
import sys

INTEGER, TEXT, BLOB = "integer", "text", "blob"
# A text column added after rows were written (scheduled.key and executions.key, schema 7): NULL adds no bytes.
ADDED_TEXT = "added-text"

# Each table's columns in canonical order and its row order; `link` is read first and not encoded.
# `scheduled` and `scheduled_changes` share one digest: the entries' bytes, then the changes'.
TABLES = [
    ("events", "events", "SELECT link, id, type, priority, source, received_ns, time_ns, parent_id, rule, hop, payload"
     " FROM events ORDER BY rowid", [TEXT, TEXT, INTEGER, TEXT, INTEGER, INTEGER, TEXT, TEXT, INTEGER, BLOB]),
    ("executions", "executions", "SELECT link, event_id, rule, kind, outcome, error, message, started_ns, duration_us,"
     " derived_event_id, key FROM executions ORDER BY seq", [TEXT, TEXT, INTEGER, INTEGER, TEXT, TEXT, INTEGER, INTEGER, TEXT, ADDED_TEXT]),
    ("scheduled", "scheduled", "SELECT link, id, interval_ns, event_id, event_type, priority, origin_rule, envelope, key"
     " FROM scheduled ORDER BY rowid", [TEXT, INTEGER, TEXT, TEXT, INTEGER, TEXT, BLOB, ADDED_TEXT]),
    ("scheduled_changes", "scheduled", "SELECT link, seq, entry_id, state, due_ns, fired_ns, late FROM scheduled_changes ORDER BY seq",
     [INTEGER, TEXT, INTEGER, INTEGER, INTEGER, INTEGER]),
    ("dead_letters", "dead_letters", "SELECT link, seq, source, line, reason, received_ns, content FROM dead_letters ORDER BY seq",
     [INTEGER, TEXT, INTEGER, TEXT, INTEGER, BLOB]),
    ("audit", "audit", "SELECT link, seq, time_ns, principal, operation, target, outcome, details FROM audit ORDER BY seq",
     [INTEGER, INTEGER, TEXT, TEXT, TEXT, TEXT, TEXT]),
]
DIGESTS = ["events", "executions", "scheduled", "dead_letters", "audit"]


STORED = {INTEGER: int, TEXT: str, BLOB: bytes, ADDED_TEXT: str}


def field(kind, value, table="chain"):
    """One tagged field of the canonical encoding; a value not stored as its column declares is an alteration."""
    if value is None:
        return b"" if kind == ADDED_TEXT else b"\x00"
    if type(value) is not STORED[kind]:
        raise Broken(f"a row of the {table} table holds a value of another type than its column declares (altered)")
    if kind == INTEGER:
        return b"\x01" + struct.pack(">q", value)
    text = kind in (TEXT, ADDED_TEXT)
    data = value.encode("utf-8") if text else bytes(value)
    return (b"\x02" if text else b"\x03") + struct.pack(">I", len(data)) + data


class Broken(Exception):
    pass


def table_digests(db, links, start):
    """SHA-256 of each link's rows, per digest name: {name: {link: hasher}}; links up to `start` were pruned."""
    hashers = {name: {} for name in DIGESTS}
    has_key = any(column[1] == "key" for column in db.execute("PRAGMA table_info(scheduled)"))
    for table, digest, select, kinds in TABLES:
        if table in ("scheduled", "executions") and not has_key:
            select = select.replace(", key FROM", ", NULL FROM")  # schema 6: no key columns yet
        latest = 1
        for row in db.execute(select):
            if row[0] is not None and type(row[0]) is not int:
                raise Broken(f"a row of the {table} table holds a link that is not an integer (altered)")
            link = 1 if row[0] is None else row[0]
            if link < latest:
                raise Broken(f"a row of the {table} table names link {link} but follows the rows of link {latest}")
            if link <= start:
                raise Broken(f"a row of the {table} table names link {link}, which was pruned")
            if link > links:
                raise Broken(f"the {table} table has rows after link {links}, which no link covers")
            latest = link
            encoded = b"".join(field(kind, value, table) for kind, value in zip(kinds, row[1:]))
            hashers[digest].setdefault(link, hashlib.sha256()).update(encoded)
    return hashers


def verify_legacy(db, keys):
    """The audit records written before schema 6: their own chain and head."""
    previous, count = hashlib.sha256(b"symphony.audit.genesis.v1").digest(), 0
    for seq, time_ns, *texts, prev_hash, stored in db.execute(
            "SELECT seq, time_ns, principal, operation, target, outcome, details, prev_hash, hash"
            " FROM audit WHERE link IS NULL ORDER BY seq"):
        if seq != count + 1 or prev_hash != previous:
            raise Broken(f"legacy audit record {count + 1} is missing, reordered or replaced")
        fields = [str(seq), str(time_ns)] + texts
        encoded = b"".join(struct.pack(">I", len(f.encode())) + f.encode() for f in fields)
        previous, count = hashlib.sha256(previous + encoded).digest(), seq
        if previous != stored:
            raise Broken(f"legacy audit record {seq} was altered")
    head = db.execute("SELECT seq, hash, key_id, mac FROM audit_head WHERE id = 1").fetchone()
    if head is None:
        if count:
            raise Broken("the legacy audit records have no authenticated head")
        return
    seq, hash_, key_id, mac = head
    if key_id not in keys:
        raise Broken(f"the legacy audit head is signed under key {key_id}, which was not given")
    if not hmac.compare_digest(hmac.new(keys[key_id], f"{seq}:".encode() + hash_, hashlib.sha256).digest(), mac):
        raise Broken("the legacy audit head's MAC does not verify")
    if seq != count or hash_ != previous:
        raise Broken(f"the legacy audit records end at {count}, their head at {seq}")


def chain_start(db, keys):
    """The latest prune's signed start (last link removed, its hash, database id), or None."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'chain_start'").fetchone():
        return None
    row = db.execute("SELECT database_id, link, hash, cut_ns, pruned_ns, principal, key_id, mac"
                     " FROM chain_start ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return None
    database_id, link, hash_, cut_ns, pruned_ns, principal, key_id, mac = row
    if key_id not in keys:
        raise Broken(f"the chain's start is signed under key {key_id}, which was not given")
    message = b"chain-start:" + b"".join([field(TEXT, database_id), field(INTEGER, link), field(BLOB, hash_),
                                          field(INTEGER, cut_ns), field(INTEGER, pruned_ns), field(TEXT, principal)])
    if not hmac.compare_digest(hmac.new(keys[key_id], message, hashlib.sha256).digest(), mac):
        raise Broken(f"the chain's start (after link {link}) does not verify under key {key_id}")
    return link, hash_, database_id


def verify(db, keys, checkpoint):
    start = chain_start(db, keys)
    links = db.execute("SELECT coalesce(max(seq), 0) FROM chain").fetchone()[0]
    if links == 0:
        raise Broken("the history has no genesis link (its chain was erased)")
    pruned, previous, database_id = start if start else (0, hashlib.sha256(b"symphony.chain.genesis.v1").digest(), None)
    hashers = table_digests(db, links, pruned)
    empty = hashlib.sha256(b"").digest()
    hashes = {}
    for expected, (seq, time_ns, kind, *digests, note, prev_hash, stored) in enumerate(db.execute(
            "SELECT seq, time_ns, kind, events_digest, executions_digest, scheduled_digest, dead_letters_digest,"
            " audit_digest, note, prev_hash, hash FROM chain ORDER BY seq"), start=pruned + 1):
        if seq != expected or kind != (0 if seq == 1 else 1) or prev_hash != previous:
            raise Broken(f"link {expected} is missing, out of order, of the wrong kind or does not follow link {expected - 1}")
        encoded = b"".join([field(INTEGER, seq), field(INTEGER, time_ns), field(INTEGER, kind)]
                           + [field(BLOB, d) for d in digests] + [field(TEXT, note)])
        if hashlib.sha256(previous + encoded).digest() != stored:
            raise Broken(f"link {seq} was altered (its hash does not match its contents)")
        for name, digest in zip(DIGESTS, digests):
            hasher = hashers[name].get(seq)
            if (hasher.digest() if hasher else empty) != digest:
                raise Broken(f"the {name} rows of link {seq} differ from what that commit wrote")
        if seq == 1:
            database_id = note.split()[1]
        previous, hashes[seq] = stored, stored
    head = db.execute("SELECT seq, hash, key_id, mac FROM chain_head WHERE id = 1").fetchone()
    if head is None:
        raise Broken("the authenticated head is missing")
    seq, hash_, key_id, mac = head
    if key_id not in keys:
        raise Broken(f"the head is signed under key {key_id}, which was not given")
    if not hmac.compare_digest(hmac.new(keys[key_id], f"chain:{seq}:".encode() + hash_, hashlib.sha256).digest(), mac):
        raise Broken(f"the head's MAC does not verify under key {key_id}")
    if seq != links:
        raise Broken(f"the head names link {seq}, the chain ends at link {links}")
    if hash_ != previous:
        raise Broken(f"link {seq} is not the link the head signs (rewritten)")
    if not start:
        verify_legacy(db, keys)  # link 1 covers them; a prune that removed it removed them
    entry = db.execute(
        "SELECT s.id FROM scheduled s LEFT JOIN (SELECT entry_id, state, due_ns, fired_ns, late, MAX(seq)"
        " FROM scheduled_changes GROUP BY entry_id) c ON c.entry_id = s.id WHERE c.entry_id IS NULL"
        " OR s.state IS NOT (CASE c.state WHEN 0 THEN 'pending' WHEN 1 THEN 'done' ELSE 'cancelled' END)"
        " OR s.due_ns IS NOT c.due_ns OR s.fired_ns IS NOT c.fired_ns OR s.late IS NOT c.late LIMIT 1").fetchone()
    if entry:
        raise Broken(f"scheduled entry {entry[0]} does not have the state its recorded changes give it")
    if checkpoint:
        words = checkpoint.split()
        if len(words) != 7 or words[:2] != ["symphony-checkpoint", "v1"]:
            raise ValueError("not a Symphony checkpoint")
        cp_id, cp_seq, cp_hash, cp_key, cp_mac = words[2], int(words[3]), bytes.fromhex(words[4]), words[5], bytes.fromhex(words[6])
        if cp_key not in keys:
            raise Broken(f"the checkpoint is signed under key {cp_key}, which was not given")
        message = f"checkpoint:{cp_id}:{cp_seq}:".encode() + cp_hash
        if not hmac.compare_digest(hmac.new(keys[cp_key], message, hashlib.sha256).digest(), cp_mac):
            raise Broken("the checkpoint's MAC does not verify")
        if cp_id != database_id:
            raise Broken(f"the checkpoint is of database {cp_id}, this history is database {database_id}")
        if cp_seq <= pruned:
            if cp_seq == pruned and cp_hash != start[1]:
                raise Broken(f"link {cp_seq} is not the link the checkpoint names (rewritten)")
        elif hashes.get(cp_seq) != cp_hash:
            raise Broken(f"the history does not hold link {cp_seq} as the checkpoint names it (rolled back or rewritten)")
    rows = sum(sum(1 for _ in db.execute(f"SELECT 1 FROM {table}")) for table, *_ in TABLES)
    return f"history intact: {len(hashes)} links covering {rows} rows" + (f"; links 1…{pruned} were pruned" if pruned else "")


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: verify_history.py DATABASE KEYFILE [CHECKPOINT]")
    try:
        info = os.stat(sys.argv[2])
        if info.st_mode & 0o077 or info.st_size != 32 or not stat.S_ISREG(info.st_mode):
            raise OSError("the key file must be a 32-byte regular file with mode 0600")
        with open(sys.argv[2], "rb") as file:
            key = file.read()
        key_id = hashlib.sha256(b"symphony-key-id-v1" + key).digest()[:4].hex()
        keys = {key_id: hashlib.sha256(b"symphony.audit.mac.v1" + key).digest()}
        checkpoint = open(sys.argv[3], encoding="utf-8").read() if len(sys.argv) == 4 else None
        db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
        db.execute("BEGIN")  # one snapshot: a writer committing meanwhile is not seen half-way
        if db.execute("PRAGMA user_version").fetchone()[0] not in (6, 7, 8, 9, 10, 11):
            raise ValueError("not a schema 6 to 11 history database")
        print(verify(db, keys, checkpoint))
    except Broken as problem:
        print(f"broken: {problem}", file=sys.stderr)
        sys.exit(2)
    except (OSError, ValueError, sqlite3.Error) as error:
        print(f"unreadable: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
