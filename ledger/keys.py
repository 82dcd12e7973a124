"""Idempotency keys that the ledger's own pages hand out."""

from __future__ import annotations

import os
import time
import uuid


def idempotency_key_new() -> str:
    """A new key: a time-ordered UUID (version 7, RFC 9562), as 32 hex digits.

    Keys made one after another sort one after another, so each new transfer
    adds its key at the end of the (community, key) index. Random keys land
    on a different index page each time, and with a long history every one of
    them costs the database a page read and, after each checkpoint, a full
    page in the write-ahead log. (Python 3.14's ``uuid.uuid7`` does the same.)
    """
    milliseconds = time.time_ns() // 1_000_000
    value = ((milliseconds & ((1 << 48) - 1)) << 80) | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # the RFC variant
    return uuid.UUID(int=value).hex
