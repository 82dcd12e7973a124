"""Many people at once: the ledger under concurrent load on PostgreSQL.

Eight workers, each on its own database connection, pay, reverse and enter
cheques against four members who sit near (two even past) their limits. What
the workers were told must be exactly what the books say afterwards: every
acknowledged transfer is there, nothing else is, no limit was crossed on the
way, the circle sums to zero and ``ledger_verify`` finds nothing. Nobody sees a
deadlock, a serialization failure or any error other than a refusal.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import connection, connections, transaction

from ledger import locking, services
from ledger.models import Account, Entry, Transfer, TransferBatch, TransferKind
from ledger.selectors import ledger_verify
from ruilkring.errors import DomainError, PaymentRefused, TransitionNotAllowed
from tests.factories import CommunityFactory, CoordinatorFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 8
RUN_SECONDS = 4.0
MAX_OPERATIONS_PER_WORKER = 250
HOT = ("anna", "bram", "carla", "dirk")


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions: run `make test` (PostgreSQL)")


@pytest.fixture
def retries(monkeypatch):
    """Every deadlock or serialization failure the services met, even if a retry hid it."""
    seen: list[str] = []
    is_retryable = locking._is_retryable

    def recording(error):
        seen.append(getattr(error.__cause__, "sqlstate", None) or repr(error))
        return is_retryable(error)

    monkeypatch.setattr(locking, "_is_retryable", recording)
    return seen


@dataclass
class Circle:
    community: object
    coordinator: object
    account_ids: dict[str, int]


@pytest.fixture
def circle() -> Circle:
    """Four members near their limits: two about to hit the floor or the maximum,
    and two already past a limit a coordinator tightened."""
    community = CommunityFactory(default_floor=-3 * 60, default_ceiling=3 * 60)
    coordinator = CoordinatorFactory(community=community, user=UserFactory(display_name="Mieke"))
    accounts = {}
    for name in HOT:
        membership = MembershipFactory(
            community=community, user=UserFactory(display_name=name.title())
        )
        accounts[name] = services.account_open(membership=membership)

    def pay(payer, payee, minutes):
        services.transfer_create(
            actor=accounts[payer].membership.user,
            community=community,
            kind=TransferKind.PAYMENT,
            payer=accounts[payer],
            payee=accounts[payee],
            amount=minutes,
            memo="Voorbereiding",
            idempotency_key=f"setup-{payer}-{payee}",
        )

    pay("anna", "bram", 150)  # anna -150 of -180; bram +150 of 180
    pay("carla", "dirk", 150)  # and then their limits are tightened past that
    for name, floor, ceiling in (("carla", -120, None), ("dirk", None, 120)):
        services.account_limits_set(
            actor=coordinator.user,
            account=accounts[name],
            floor=floor,
            ceiling=ceiling,
            reason="Eerst weer in balans",
        )
    return Circle(community, coordinator.user, {n: a.pk for n, a in accounts.items()})


@dataclass
class Log:
    """What one worker was told."""

    transfers: set[int] = field(default_factory=set)
    batches: set[int] = field(default_factory=set)
    acknowledged: Counter[str] = field(default_factory=Counter)
    refusals: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)


class Workers:
    """``count`` threads running ``work(i)``, each on its own database connection."""

    def __init__(self, count: int, work: Callable[[int], object]):
        self.results: list[object] = [None] * count
        self.failures: list[str] = []
        self.threads = [
            threading.Thread(target=self._run, args=(work, i), name=f"worker-{i}")
            for i in range(count)
        ]

    def _run(self, work: Callable[[int], object], i: int) -> None:
        try:
            self.results[i] = work(i)
        except BaseException:
            self.failures.append(traceback.format_exc())
        finally:
            connections.close_all()

    def start(self) -> Workers:
        for thread in self.threads:
            thread.start()
        return self

    def join(self) -> list[object]:
        for thread in self.threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in self.threads), "a worker hangs"
        assert not self.failures, "\n".join(self.failures)
        return self.results


def test_concurrent_payments_reversals_and_cheques_keep_the_books_exact(circle, retries):
    community = circle.community
    setup_ids = set(Transfer.objects.filter(community=community).values_list("pk", flat=True))
    start = {
        a.pk: a for a in Account.objects.filter(community=community).select_related("community")
    }
    reversible: list[int] = []  # acknowledged payments and cheques, shared by the workers
    shared = threading.Lock()
    deadline = time.monotonic() + RUN_SECONDS

    def worker(number: int) -> Log:
        rng = random.Random(number)  # a repeatable mix
        log = Log()
        accounts = {
            a.membership.user.display_name.lower(): a
            for a in Account.objects.filter(pk__in=circle.account_ids.values()).select_related(
                "community", "membership__user"
            )
        }
        coordinator = type(circle.coordinator).objects.get(pk=circle.coordinator.pk)
        for step in range(MAX_OPERATIONS_PER_WORKER):
            if time.monotonic() > deadline:
                break
            key = f"w{number}-{step}"
            roll = rng.random()
            try:
                if roll < 0.7:
                    operation = "payment"
                    payer, payee = rng.sample(HOT, 2)
                    transfer = services.transfer_create(
                        actor=accounts[payer].membership.user,
                        community=community,
                        kind=TransferKind.PAYMENT,
                        payer=accounts[payer],
                        payee=accounts[payee],
                        amount=rng.randint(1, 60),
                        memo="Klus",
                        idempotency_key=key,
                    )
                    log.transfers.add(transfer.pk)
                    with shared:
                        reversible.append(transfer.pk)
                elif roll < 0.9:
                    operation = "reversal"
                    with shared:
                        if not reversible:
                            continue
                        # Recent ones, so workers often reverse the same transfer at once.
                        pk = rng.choice(reversible[-6:])
                    transfer = services.transfer_reverse(
                        actor=coordinator,
                        transfer=Transfer.objects.select_related("community").get(pk=pk),
                        reason="Dubbel ingevoerd",
                        idempotency_key=key,
                    )
                    assert transfer.reverses_id == pk
                    log.transfers.add(transfer.pk)
                else:
                    operation = "batch"
                    lines = [
                        services.ChequeLine(
                            payer=accounts[payer],
                            payee=accounts[payee],
                            amount=rng.randint(1, 30),
                            memo="Cheque",
                        )
                        for payer, payee in (rng.sample(HOT, 2) for _ in range(rng.randint(2, 3)))
                    ]
                    batch = services.transfer_batch_create(
                        actor=coordinator,
                        community=community,
                        lines=lines,
                        declared_total=sum(line.amount for line in lines),
                        idempotency_key=key,
                    )
                    ids = set(batch.transfers.values_list("pk", flat=True))
                    assert len(ids) == len(lines)
                    log.batches.add(batch.pk)
                    log.transfers |= ids
                    with shared:
                        reversible.extend(ids)
                log.acknowledged[operation] += 1
            except (PaymentRefused, TransitionNotAllowed) as refusal:
                log.refusals[(operation, type(refusal).__name__, refusal.code)] += 1
            except Exception:
                log.unexpected.append(f"{operation} {key}:\n{traceback.format_exc()}")
        return log

    logs = Workers(WORKERS, worker).start().join()

    # Nobody was told anything but an acknowledgement or a refusal.
    assert [entry for log in logs for entry in log.unexpected] == []
    assert retries == [], "deadlocks or serialization failures happened (and were retried)"
    acknowledged = Counter()
    refusals = Counter()
    for log in logs:
        acknowledged.update(log.acknowledged)
        refusals.update(log.refusals)
    # The mix really ran, and the hot accounts really hit their limits.
    assert min(acknowledged[op] for op in ("payment", "reversal", "batch")) > 0, acknowledged
    assert any(code == "limit_exceeded" for _op, _kind, code in refusals), refusals

    # What the workers were told is exactly what the books hold.
    told = set().union(*(log.transfers for log in logs))
    assert sum(len(log.transfers) for log in logs) == len(told)
    committed = set(Transfer.objects.filter(community=community).values_list("pk", flat=True))
    assert committed - setup_ids == told
    batches = set(TransferBatch.objects.filter(community=community).values_list("pk", flat=True))
    assert batches == set().union(*(log.batches for log in logs))

    # No limit was crossed, not even on the way: every entry written during the
    # run kept its account within its limits, or moved it back towards them.
    for account in Account.objects.filter(community=community).select_related("community"):
        lowest, highest = account.effective_floor, account.effective_ceiling
        entries = Entry.objects.filter(account=account, version__gt=start[account.pk].version)
        for amount, after in entries.order_by("version").values_list("amount", "balance_after"):
            before = after - amount
            assert (
                lowest <= after <= highest
                or (after < lowest and after > before)
                or (after > highest and after < before)
            ), f"{account}: {before} -> {after} with limits {lowest} to {highest}"
        initial = start[account.pk].balance
        if initial < lowest:
            assert initial <= account.balance <= highest
        elif initial > highest:
            assert lowest <= account.balance <= initial
        else:
            assert lowest <= account.balance <= highest

    assert sum(Account.objects.filter(community=community).values_list("balance", flat=True)) == 0
    report = ledger_verify(community=community)
    assert report.clean, report.differences


def _waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _same_request_from_every_worker(circle: Circle, *, payer: str, payee: str, amount: int):
    """Send one payment with one key from every worker at once.

    The test holds the payer's account while the workers start, so every one of
    them is inside its transaction, waiting for that account, before the first
    can write; then it lets go and they race for real.
    """
    accounts = {
        name: Account.objects.select_related("membership__user").get(pk=pk)
        for name, pk in circle.account_ids.items()
    }
    barrier = threading.Barrier(WORKERS)

    def worker(_number: int):
        barrier.wait(timeout=10)
        try:
            transfer = services.transfer_create(
                actor=accounts[payer].membership.user,
                community=circle.community,
                kind=TransferKind.PAYMENT,
                payer=accounts[payer],
                payee=accounts[payee],
                amount=amount,
                memo="Fietsreparatie",
                idempotency_key="tab-1",
            )
        except DomainError as refusal:
            return (type(refusal).__name__, refusal.code)
        return transfer.pk

    workers = Workers(WORKERS, worker)
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=accounts[payer].pk)
        workers.start()
        waited = time.monotonic() + 15
        while _waiting_for_a_lock() < WORKERS and time.monotonic() < waited:
            time.sleep(0.01)
        assert _waiting_for_a_lock() == WORKERS, "the workers did not all reach the lock"
    return workers.join()


def test_the_same_payment_sent_by_eight_workers_at_once_is_made_once(circle):
    before = dict(Account.objects.filter(community=circle.community).values_list("pk", "balance"))

    results = _same_request_from_every_worker(circle, payer="bram", payee="anna", amount=60)

    made = Transfer.objects.filter(community=circle.community, idempotency_key="tab-1")
    assert made.count() == 1
    assert results == [made.get().pk] * WORKERS
    after = dict(Account.objects.filter(community=circle.community).values_list("pk", "balance"))
    anna, bram = circle.account_ids["anna"], circle.account_ids["bram"]
    assert (after[anna] - before[anna], after[bram] - before[bram]) == (60, -60)
    assert ledger_verify(community=circle.community).clean


def test_the_same_payment_that_uses_the_last_room_is_made_once_and_acknowledged_to_all(circle):
    # Anna is 30 minutes above her credit limit and Bram 30 below his maximum:
    # room for this payment once. Every retry of it must still hear "done".
    results = _same_request_from_every_worker(circle, payer="anna", payee="bram", amount=30)

    made = Transfer.objects.filter(community=circle.community, idempotency_key="tab-1")
    assert made.count() == 1
    assert results == [made.get().pk] * WORKERS
