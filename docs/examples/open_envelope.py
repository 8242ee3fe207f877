#!/usr/bin/env python3
"""Open a Symphony version-1 event envelope outside Symphony and print the event as JSON.

Usage:
    open_envelope.py KEYFILE ENVELOPEFILE ID TYPE PRIORITY
    open_envelope.py --batch KEYFILE ENVELOPEFILE PRIORITY ID TYPE [ID TYPE ...]

KEYFILE       the 32-byte raw key file (mode 0600, as written by Symphony's KeyFile)
ENVELOPEFILE  the raw envelope bytes (SealedEvent.envelope)
ID, TYPE      the event's id and type, exactly as they travel beside the envelope
PRIORITY      the event's priority, an integer 0-9 (written into the AAD in decimal)

--batch opens a batch envelope (several events of one priority sealed together): give the
priority, then the id and type of every event in the batch, in order. It prints a JSON array
of the events, each with its "id" and "type" added.

On success the decrypted event body is decoded (EventBodyCodec, version 1) and printed on
stdout as one JSON object:

    {"time_ns": ..., "source": ... or null, "causation": {"parent_id", "rule", "hop"} or null,
     "payload": ...}

Whole-number payload values print as JSON integers and other numbers as JSON floats, as the
body stores them. A non-finite double (possible only for events built in Swift code) prints
as NaN/Infinity, which strict JSON parsers reject.

Exit status: 0 on success; 1 with a one-line error on stderr when the envelope cannot be
opened or decoded; 2 for a usage error. The byte formats are documented in docs/reference/envelope-format.md.
Requires the `cryptography` package (pip install cryptography).
"""

import hashlib
import json
import os
import stat
import struct
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
VERSION = 1
HEADER_BYTES = 17  # version (1) + key id (4) + nonce (12)
TAG_BYTES = 16
OVERHEAD = HEADER_BYTES + TAG_BYTES
EVENT_DOMAIN = "symphony.event.v1"
BATCH_DOMAIN = "symphony.batch.v1"
BATCH_VERSION = 1
BODY_VERSION = 1
MAXIMUM_DEPTH = 256  # EventBodyCodec.maximumDepth


class Failure(Exception):
    """A failure reported as one line on stderr with exit status 1."""


def utf8(text):
    # Command-line arguments arrive decoded with surrogateescape; this restores their exact bytes.
    return text.encode("utf-8", "surrogateescape")


def key_id(key):
    """First 4 bytes of SHA-256("symphony-key-id-v1" || key), read big-endian."""
    return struct.unpack(">I", hashlib.sha256(b"symphony-key-id-v1" + key).digest()[:4])[0]


def length_prefixed(data):
    return struct.pack(">I", len(data)) + data


def event_context(event_id, event_type, priority):
    """EnvelopeContext encoding for queued events: domain, then id, type and decimal priority."""
    fields = [EVENT_DOMAIN.encode("utf-8"), utf8(event_id), utf8(event_type), str(priority).encode("ascii")]
    return b"".join(length_prefixed(field) for field in fields)


def batch_context(priority, pairs):
    """EnvelopeContext encoding for queued batches: domain, decimal priority, then each id and type."""
    fields = [BATCH_DOMAIN.encode("utf-8"), str(priority).encode("ascii")]
    for event_id, event_type in pairs:
        fields += [utf8(event_id), utf8(event_type)]
    return b"".join(length_prefixed(field) for field in fields)


def read_key(path):
    """Reads a key file with the same checks as Symphony's KeyFile.read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise Failure(f"Cannot open key file '{path}': {error.strerror}.")
    try:
        info = os.fstat(fd)
        mode = stat.S_IMODE(info.st_mode) & 0o777
        if mode & 0o077:
            raise Failure(
                f"Key file '{path}' is accessible by group or others (mode {mode:o}); run 'chmod 600 {path}'.")
        if info.st_size != KEY_BYTES:
            raise Failure(f"Key file '{path}' must hold exactly {KEY_BYTES} bytes, not {info.st_size}.")
        key = b""
        while len(key) < KEY_BYTES:
            chunk = os.read(fd, KEY_BYTES - len(key))
            if not chunk:
                raise Failure(f"Cannot read key file '{path}': it ended early.")
            key += chunk
        return key
    finally:
        os.close(fd)


def open_envelope(key, envelope, context):
    """Checks the header, rebuilds the AAD from the encoded context and decrypts; returns the plaintext."""
    if len(envelope) < OVERHEAD:
        raise Failure(f"malformed envelope: an envelope is at least {OVERHEAD} bytes; this one has {len(envelope)}")
    if envelope[0] != VERSION:
        raise Failure(f"unsupported envelope version {envelope[0]}; this tool reads version 1")
    named = struct.unpack(">I", envelope[1:5])[0]
    mine = key_id(key)
    if named != mine:
        raise Failure(f"unknown key: the envelope names key {named:08x}, the key file holds key {mine:08x}")
    nonce = envelope[5:HEADER_BYTES]
    aad = envelope[:HEADER_BYTES] + context
    try:
        # cryptography expects the 16-byte tag appended to the ciphertext, which is the envelope's own layout.
        return AESGCM(key).decrypt(nonce, envelope[HEADER_BYTES:], aad)
    except InvalidTag:
        raise Failure("authentication failed: the envelope was altered, its id/type/priority differ, or the key is wrong")


class BodyReader:
    """Decodes EventBodyCodec version-1 bytes; all integers big-endian, strings u32 length + UTF-8."""

    def __init__(self, data):
        self.data = data
        self.offset = 0

    def need(self, count):
        if count < 0 or len(self.data) - self.offset < count:
            raise Failure("malformed event body: it ends too early")

    def take(self, count):
        self.need(count)
        chunk = self.data[self.offset:self.offset + count]
        self.offset += count
        return chunk

    def byte(self):
        return self.take(1)[0]

    def uint32(self):
        return struct.unpack(">I", self.take(4))[0]

    def int64(self):
        return struct.unpack(">q", self.take(8))[0]

    def float64(self):
        return struct.unpack(">d", self.take(8))[0]

    def string(self):
        # Swift decodes with String(decoding:as: UTF8.self), which replaces invalid sequences with U+FFFD.
        return self.take(self.uint32()).decode("utf-8", "replace")

    def value(self, depth):
        if depth > MAXIMUM_DEPTH:
            raise Failure(f"malformed event body: it nests deeper than {MAXIMUM_DEPTH} levels")
        tag = self.byte()
        if tag == 0:
            return None
        if tag == 1:
            return False
        if tag == 2:
            return True
        if tag == 3:
            return self.int64()
        if tag == 4:
            return self.float64()
        if tag == 5:
            return self.string()
        if tag == 6:
            count = self.uint32()
            self.need(count)  # every element takes at least one byte
            return [self.value(depth + 1) for _ in range(count)]
        if tag == 7:
            count = self.uint32()
            self.need(count * 5)  # every member takes at least five bytes
            members = {}
            for _ in range(count):
                name = self.string()
                members[name] = self.value(depth + 1)
            return members
        raise Failure(f"malformed event body: unknown value tag {tag}")


def decode_body(body):
    reader = BodyReader(body)
    if reader.byte() != BODY_VERSION:
        raise Failure("malformed event body: unknown format version")
    time_ns = reader.int64()
    source = reader.string() if reader.byte() == 1 else None
    causation = None
    if reader.byte() == 1:
        causation = {"parent_id": reader.string(), "rule": reader.string(), "hop": reader.uint32()}
    payload = reader.value(0)
    if reader.offset != len(body):
        raise Failure("malformed event body: trailing bytes")
    return {"time_ns": time_ns, "source": source, "causation": causation, "payload": payload}


def decode_batch(plaintext, pairs):
    """Splits a batch's plaintext (u8 version, then each body preceded by its u32 byte count) into events."""
    reader = BodyReader(plaintext)
    if reader.byte() != BATCH_VERSION:
        raise Failure("malformed event batch: unknown format version")
    events = []
    for event_id, event_type in pairs:
        event = decode_body(reader.take(reader.uint32()))
        events.append({"id": event_id, "type": event_type, **event})
    if reader.offset != len(plaintext):
        raise Failure("malformed event batch: trailing bytes")
    return events


def parse_priority(text):
    try:
        priority = int(text, 10)
    except ValueError:
        priority = None
    if priority is None or not 0 <= priority <= 9:
        sys.stderr.write(f"open_envelope.py: PRIORITY must be an integer from 0 to 9, not '{text}'\n")
    return priority


def read_envelope(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise Failure(f"Cannot read envelope file '{path}': {error.strerror}.")


def main(argv):
    batch = len(argv) > 1 and argv[1] == "--batch"
    if batch and (len(argv) < 7 or len(argv) % 2 == 0) or not batch and len(argv) != 6:
        sys.stderr.write(
            "usage: open_envelope.py KEYFILE ENVELOPEFILE ID TYPE PRIORITY\n"
            "       open_envelope.py --batch KEYFILE ENVELOPEFILE PRIORITY ID TYPE [ID TYPE ...]\n")
        return 2
    if batch:
        key_path, envelope_path, priority_text = argv[2:5]
        pairs = list(zip(argv[5::2], argv[6::2]))
    else:
        key_path, envelope_path, event_id, event_type, priority_text = argv[1:]
    priority = parse_priority(priority_text)
    if priority is None:
        return 2
    try:
        key = read_key(key_path)
        envelope = read_envelope(envelope_path)
        if batch:
            result = decode_batch(open_envelope(key, envelope, batch_context(priority, pairs)), pairs)
        else:
            result = decode_body(open_envelope(key, envelope, event_context(event_id, event_type, priority)))
    except Failure as failure:
        sys.stderr.write(f"open_envelope.py: {failure}\n")
        return 1
    sys.stdout.buffer.write((json.dumps(result, ensure_ascii=False) + "\n").encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
