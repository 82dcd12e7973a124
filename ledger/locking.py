"""Locking accounts and retrying, in one place.

Why this order and this lock:
- Every writer locks the accounts it touches **in ascending id order**. Two
  transfers between the same accounts then queue behind each other instead of
  each holding one lock and waiting for the other (a deadlock).
- PostgreSQL's ``FOR NO KEY UPDATE``, not ``FOR UPDATE``: inserting an entry
  takes a KEY SHARE lock on its account for the foreign key check, which
  ``FOR UPDATE`` would block (also in other transactions), so concurrent
  transfers would deadlock on the foreign keys under load.
- Deadlocks and serialization failures can still come from elsewhere (for
  example a person's two tabs); the whole transaction is then retried a few
  times with a short random pause. That is only possible when we own the
  transaction, so inside an outer atomic block it runs once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import OperationalError, connection, transaction

from ledger.models import Account

T = TypeVar("T")
RETRY_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
ATTEMPTS = 5


def accounts_lock(account_ids: Iterable[int]) -> dict[int, Account]:
    """Lock the accounts, lowest id first, and return them fresh from the database."""
    ids = sorted(set(account_ids))
    locked = (
        Account.objects.select_for_update(no_key=True, of=("self",))
        .select_related("community", "membership", "membership__user")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    return {account.pk: account for account in locked}


def _is_retryable(error: OperationalError) -> bool:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) in RETRY_SQLSTATES


def atomic_with_retry(work: Callable[[], T], *, single_statement: bool = False) -> T:
    """Run ``work`` in a transaction, retrying it after a deadlock or serialization failure.

    With ``single_statement``, ``work`` makes exactly one database statement that
    does all its writing (a database function); outside a transaction it then
    runs in autocommit, where that statement is its own transaction: one round
    trip instead of three (BEGIN, the statement, COMMIT).
    """
    if connection.in_atomic_block:
        with transaction.atomic():
            return work()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            if single_statement:
                return work()
            with transaction.atomic():
                return work()
        except OperationalError as error:
            if attempt == ATTEMPTS or not _is_retryable(error):
                raise
            time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - jitter, not security
    raise AssertionError("unreachable")  # pragma: no cover
