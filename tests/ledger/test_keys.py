"""The keys the ledger's pages hand out are valid, unique and time-ordered."""

import time
import uuid

from ledger.keys import idempotency_key_new
from ledger.services import CLIENT_KEY_PATTERN


def test_a_key_is_a_version_7_uuid_that_the_services_accept():
    key = idempotency_key_new()
    parsed = uuid.UUID(hex=key)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert CLIENT_KEY_PATTERN.fullmatch(key)
    # The first 48 bits are the time in milliseconds.
    assert abs((parsed.int >> 80) - time.time() * 1000) < 5_000


def test_keys_made_later_sort_later_and_never_repeat():
    keys = []
    for _ in range(5):
        keys.extend(idempotency_key_new() for _ in range(200))
        time.sleep(0.002)
    assert len(set(keys)) == len(keys)
    stamps = [key[:12] for key in keys]
    assert stamps == sorted(stamps)
