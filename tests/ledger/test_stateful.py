"""Random days in a circle: Hypothesis plays long sequences of ledger operations.

A state machine pays, gives to and from the pot, enters cheques, reverses,
changes limits and statuses and replays requests, all through the real
services on PostgreSQL. Next to the books it keeps its own small model of what
a coordinator should see: every balance, every limit, every status. Before
each operation the model says whether the ledger must accept or refuse it (and
with which error); after each operation the books must agree with the model,
respect every limit (or have moved only towards it), sum to zero and pass
``ledger_verify``. A refusal must leave the books exactly as they were.

Each example runs in its own savepoint, rolled back in ``teardown``, so the
examples never see each other's data.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import Status
from accounts.services import membership_status_change
from ledger import services
from ledger.models import (
    UNLIMITED,
    AccountKind,
    Transfer,
    TransferKind,
)
from ledger.selectors import ledger_verify
from ruilkring.errors import (
    IdempotencyKeyReused,
    InvalidInput,
    NotAllowed,
    PaymentRefused,
    TransitionNotAllowed,
)
from tests.factories import CommunityFactory, CoordinatorFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

# Hypothesis shrinks a failure to a minimal sequence of steps; with a database
# behind every step that can take minutes. By default a failure is reported as
# found (every step is printed); set HYPOTHESIS_SHRINK=1 for the minimal one.
SHRINK = os.environ.get("HYPOTHESIS_SHRINK") == "1"

# Ten hours below zero, fifteen above: tight enough that limits refuse often.
DEFAULT_FLOOR = -10 * 60
DEFAULT_CEILING = 15 * 60
COORDINATOR = "mieke"
MEMBERS = ("anna", "bram", "carla", "dirk", COORDINATOR)
OTHERS = MEMBERS[:-1]
SYSTEM = ("pot", "community")
# Status steps a coordinator may take with a reason (accounts.transitions).
COORDINATOR_STEPS = {
    (Status.ACTIVE, Status.LEAVING),
    (Status.LEAVING, Status.ACTIVE),
    (Status.ACTIVE, Status.SUSPENDED),
    (Status.SUSPENDED, Status.ACTIVE),
}

minutes = st.integers(min_value=1, max_value=4 * 60)
# Now and then an amount that is not a positive whole number.
any_minutes = st.one_of(minutes, minutes, minutes, st.sampled_from([0, -30]))
two_members = st.lists(st.sampled_from(MEMBERS), min_size=2, max_size=2, unique=True)
three_members = st.lists(st.sampled_from(MEMBERS), min_size=3, max_size=3, unique=True)
reasons = st.sampled_from(["Afspraak met de kring", "Verkeerd ingevuld", "Zo besproken", "  "])
cheques = st.lists(st.tuples(two_members, minutes), min_size=1, max_size=4)


@dataclass(frozen=True)
class Books:
    """What ``books()`` observed: account rows (id, balance, version, own floor and
    ceiling, effective floor and ceiling) and counts of what was recorded."""

    accounts: tuple
    transfers: int
    entries: int
    batches: int
    limit_changes: int
    membership_events: int
    memberships: str


@dataclass
class Recorded:
    """A transfer the ledger acknowledged, as the model sees it."""

    transfer: Transfer
    movements: dict[str, int]
    reversed: bool = False


@dataclass
class Request:
    """A request the ledger accepted, to send again with its idempotency key.

    ``different`` changes the request; for a two-account transfer, ``movements``
    says what the request (and the changed one) would move.
    """

    service: object
    kwargs: dict
    result_pk: int
    different: dict = field(default_factory=dict)
    movements: dict[str, int] = field(default_factory=dict)
    different_movements: dict[str, int] = field(default_factory=dict)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        try:
            self._open_the_circle()
        except BaseException:
            self.teardown()
            raise

    def _open_the_circle(self):
        self.community = CommunityFactory(
            name="Kring", default_floor=DEFAULT_FLOOR, default_ceiling=DEFAULT_CEILING
        )
        self.user, self.account, self.membership = {}, {}, {}
        for name in MEMBERS:
            factory = CoordinatorFactory if name == COORDINATOR else MembershipFactory
            membership = factory(
                community=self.community,
                user=UserFactory(display_name=name.title(), language="en"),
            )
            self.membership[name] = membership
            self.user[name] = membership.user
            self.account[name] = services.account_open(membership=membership)
        self.account["pot"] = services.system_account_open(
            community=self.community, kind=AccountKind.POT
        )
        self.account["community"] = services.system_account_open(
            community=self.community, kind=AccountKind.COMMUNITY
        )
        self.coordinator = self.user[COORDINATOR]
        self.name_of = {account.pk: name for name, account in self.account.items()}

        # The model.
        self.balance = dict.fromkeys(self.account, 0)
        self.version = dict.fromkeys(self.account, 0)
        self.floor = dict.fromkeys(MEMBERS) | dict.fromkeys(SYSTEM, 0)
        self.ceiling = dict.fromkeys(MEMBERS) | dict.fromkeys(SYSTEM, UNLIMITED)
        self.status = dict.fromkeys(MEMBERS, Status.ACTIVE)
        self.transfers: dict[int, Recorded] = {}
        self.requests: list[Request] = []
        self.limit_changes = 0
        self.membership_events = 0
        self.batches = 0
        self.seen = dict(self.balance)
        self._keys = itertools.count(1)

    def teardown(self):
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    # -- The model's rules ----------------------------------------------------

    def key(self) -> str:
        return f"step-{next(self._keys)}"

    def limits(self, name: str) -> tuple[int, int]:
        floor, ceiling = self.floor[name], self.ceiling[name]
        return (
            DEFAULT_FLOOR if floor is None else floor,
            DEFAULT_CEILING if ceiling is None else ceiling,
        )

    def refusal(self, name: str, amount: int, before: int) -> str | None:
        """Why the ledger must refuse to move ``amount`` on this account, or None."""
        after = before + amount
        status = self.status.get(name)
        if status == Status.SUSPENDED:
            return "member_suspended"
        # Someone leaving only settles up: towards zero, never past it.
        if status == Status.LEAVING and not (abs(after) <= abs(before) and after * before >= 0):
            return "member_leaving"
        # Outside the limits only when moving back towards them.
        floor, ceiling = self.limits(name)
        if after < floor and after < before:
            return "limit_exceeded"
        if after > ceiling and after > before:
            return "ceiling_exceeded"
        return None

    def movement_refusals(self, movements: dict[str, int]) -> list[str]:
        codes = (
            self.refusal(name, amount, self.balance[name]) for name, amount in movements.items()
        )
        return [code for code in codes if code]

    def books(self) -> Books:
        """Everything a coordinator could observe of this circle's books, in two queries."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT a.id, a.balance, a.version, a.floor, a.ceiling,
                       coalesce(a.floor, c.default_floor), coalesce(a.ceiling, c.default_ceiling)
                  FROM ledger_account a JOIN accounts_community c ON c.id = a.community_id
                 WHERE a.community_id = %(c)s ORDER BY a.id
                """,
                {"c": self.community.pk},
            )
            accounts = tuple(cursor.fetchall())
            cursor.execute(
                """
                SELECT (SELECT count(*) FROM ledger_transfer WHERE community_id = %(c)s),
                       (SELECT count(*) FROM ledger_entry e
                          JOIN ledger_account a ON a.id = e.account_id
                         WHERE a.community_id = %(c)s),
                       (SELECT count(*) FROM ledger_transferbatch WHERE community_id = %(c)s),
                       (SELECT count(*) FROM ledger_limitchange l
                          JOIN ledger_account a ON a.id = l.account_id
                         WHERE a.community_id = %(c)s),
                       (SELECT count(*) FROM accounts_membershipevent
                         WHERE community_id = %(c)s),
                       (SELECT string_agg(concat_ws(':', id, status, role), ',' ORDER BY id)
                          FROM accounts_membership WHERE community_id = %(c)s)
                """,
                {"c": self.community.pk},
            )
            counts = cursor.fetchone()
        return Books(accounts, *counts)

    def refused(self, call, error, codes=None, match=None):
        """``call`` must raise ``error`` (with one of ``codes``) and change nothing."""
        before = self.books()
        with pytest.raises(error, match=match) as refusal:
            call()
        if codes is not None:
            assert refusal.value.code in codes, (refusal.value.code, codes, str(refusal.value))
        assert self.books() == before, f"refused with {refusal.value!r} but the books changed"

    def recorded(self, transfer: Transfer, *, kind: str, by: str, movements: dict[str, int]):
        """Check an acknowledged transfer against the model, then apply it."""
        entries = {self.name_of[e.account_id]: e.amount for e in transfer.entries.all()}
        assert entries == movements
        assert (transfer.kind, transfer.created_by_id) == (kind, self.user[by].pk)
        for name, amount in movements.items():
            self.balance[name] += amount
            self.version[name] += 1
        self.transfers[transfer.pk] = Recorded(transfer, movements)

    def transfer(self, *, kind, by, payer, payee, amount, memo=""):
        """Send a two-account transfer and hold the ledger to the model's verdict."""
        kwargs = dict(
            actor=self.user[by],
            community=self.community,
            kind=kind,
            payer=self.account[payer],
            payee=self.account[payee],
            amount=amount,
            memo=memo,
            idempotency_key=self.key(),
        )

        def call():
            return services.transfer_create(**kwargs)

        if amount <= 0:
            return self.refused(call, InvalidInput)
        if kind == TransferKind.COORDINATOR_ENTRY and not memo.strip():
            return self.refused(call, InvalidInput, match="what the exchange was for")
        codes = self.movement_refusals({payer: -amount, payee: amount})
        if codes:
            # Which of the two refusing accounts is named is not specified.
            return self.refused(call, PaymentRefused, codes=set(codes))
        transfer = call()
        self.recorded(transfer, kind=kind, by=by, movements={payer: -amount, payee: amount})
        self.requests.append(
            Request(
                services.transfer_create,
                kwargs,
                transfer.pk,
                different={"amount": amount + 1},
                movements={payer: -amount, payee: amount},
                different_movements={payer: -amount - 1, payee: amount + 1},
            )
        )
        return None

    # -- Rules ----------------------------------------------------------------

    @rule(pair=two_members, amount=any_minutes)
    def a_member_pays_another(self, pair, amount):
        payer, payee = pair
        self.transfer(kind=TransferKind.PAYMENT, by=payer, payer=payer, payee=payee, amount=amount)

    @rule(
        member=st.sampled_from(MEMBERS),
        edge=st.sampled_from(["zero", "floor", "ceiling"]),
        off=st.sampled_from([0, 0, 1, -1]),
    )
    def a_payment_lands_exactly_on_an_edge(self, member, edge, off):
        """Take a member's balance to zero or to a limit, or a minute short or past it."""
        floor, ceiling = self.limits(member)
        self.move_to(member, {"zero": 0, "floor": floor, "ceiling": ceiling}[edge] + off)

    @precondition(lambda self: self.leaving_with_a_balance())
    @rule(data=st.data(), off=st.sampled_from([0, 0, 1, -1]))
    def a_leaving_member_settles_up(self, data, off):
        """Exactly to zero, or a minute short of it or past it."""
        self.move_to(data.draw(st.sampled_from(self.leaving_with_a_balance())), off)

    def leaving_with_a_balance(self) -> list[str]:
        return [m for m, s in self.status.items() if s == Status.LEAVING and self.balance[m]]

    def move_to(self, member: str, balance: int):
        """Pay so that the member's balance becomes ``balance``. The other side has
        room: the member gives to the pot, or receives from whoever has the most
        room to give."""
        movement = balance - self.balance[member]
        if movement < 0:
            self.transfer(
                kind=TransferKind.POT_DONATION,
                by=member,
                payer=member,
                payee="pot",
                amount=-movement,
            )
        elif movement > 0:
            payer = max(
                (m for m in MEMBERS if m != member),
                key=lambda m: (
                    self.status[m] == Status.ACTIVE,
                    self.balance[m] - self.limits(m)[0],
                ),
            )
            self.transfer(
                kind=TransferKind.PAYMENT, by=payer, payer=payer, payee=member, amount=movement
            )

    @rule(people=three_members, amount=minutes)
    def someone_pays_from_another_members_account(self, people, amount):
        actor, payer, payee = people
        if actor == COORDINATOR:
            # A coordinator may record any transfer on a member's behalf.
            self.transfer(
                kind=TransferKind.PAYMENT, by=actor, payer=payer, payee=payee, amount=amount
            )
            return
        self.refused(
            lambda: services.transfer_create(
                actor=self.user[actor],
                community=self.community,
                kind=TransferKind.PAYMENT,
                payer=self.account[payer],
                payee=self.account[payee],
                amount=amount,
                idempotency_key=self.key(),
            ),
            NotAllowed,
        )

    @rule(giver=st.sampled_from(MEMBERS), amount=minutes)
    def a_member_gives_to_the_pot(self, giver, amount):
        self.transfer(
            kind=TransferKind.POT_DONATION, by=giver, payer=giver, payee="pot", amount=amount
        )

    @rule(receiver=st.sampled_from(MEMBERS), amount=minutes)
    def the_coordinator_gives_from_the_pot(self, receiver, amount):
        self.transfer(
            kind=TransferKind.POT_GRANT,
            by=COORDINATOR,
            payer="pot",
            payee=receiver,
            amount=amount,
            memo="Boodschappen",
        )

    @rule(pair=two_members, amount=minutes, memo=st.sampled_from(["Papieren cheque", " "]))
    def the_coordinator_enters_a_trade(self, pair, amount, memo):
        payer, payee = pair
        self.transfer(
            kind=TransferKind.COORDINATOR_ENTRY,
            by=COORDINATOR,
            payer=payer,
            payee=payee,
            amount=amount,
            memo=memo,
        )

    @rule(member=st.sampled_from(MEMBERS), amount=minutes, to_community=st.booleans())
    def the_coordinator_books_on_the_community_account(self, member, amount, to_community):
        payer, payee = (member, "community") if to_community else ("community", member)
        self.transfer(
            kind=TransferKind.COMMUNITY_ENTRY,
            by=COORDINATOR,
            payer=payer,
            payee=payee,
            amount=amount,
            memo="Bijdrage",
        )

    @rule(stack=cheques, typo=st.sampled_from([0, 0, 0, 0, 0, 1, -60]))
    def the_coordinator_enters_a_stack_of_cheques(self, stack, typo):
        lines = [
            services.ChequeLine(
                payer=self.account[payer], payee=self.account[payee], amount=amount, memo="Cheque"
            )
            for (payer, payee), amount in stack
        ]
        total = sum(amount for _pair, amount in stack)
        kwargs = dict(
            actor=self.coordinator,
            community=self.community,
            lines=lines,
            declared_total=total + typo,
            idempotency_key=self.key(),
        )

        def call():
            return services.transfer_batch_create(**kwargs)

        if typo:
            return self.refused(call, InvalidInput, match="add up to")
        balance = dict(self.balance)
        for number, ((payer, payee), amount) in enumerate(stack, start=1):
            codes = {self.refusal(payer, -amount, balance[payer])}
            codes = {*codes, self.refusal(payee, amount, balance[payee])} - {None}
            if codes:
                # The first cheque that cannot be made is named; nothing is recorded.
                return self.refused(call, PaymentRefused, codes=codes, match=f"^Cheque {number}:")
            balance[payer] -= amount
            balance[payee] += amount
        batch = call()
        key = kwargs["idempotency_key"]
        for number, ((payer, payee), amount) in enumerate(stack, start=1):
            transfer = batch.transfers.get(idempotency_key=f"{key}:{number}")
            movements = {payer: -amount, payee: amount}
            self.recorded(
                transfer, kind=TransferKind.COORDINATOR_ENTRY, by=COORDINATOR, movements=movements
            )
        assert batch.transfers.count() == len(stack)
        self.batches += 1
        first = lines[0]
        changed = [services.ChequeLine(first.payer, first.payee, first.amount + 1, first.memo)]
        self.requests.append(
            Request(
                services.transfer_batch_create,
                kwargs,
                batch.pk,
                {"lines": changed + lines[1:], "declared_total": total + 1},
            )
        )
        return None

    def reversible(self) -> list[int]:
        return sorted(
            pk
            for pk, r in self.transfers.items()
            if not r.reversed and r.transfer.kind != TransferKind.REVERSAL
        )

    @precondition(lambda self: self.reversible())
    @rule(data=st.data(), reason=reasons)
    def the_coordinator_reverses_a_transfer(self, data, reason):
        original = self.transfers[data.draw(st.sampled_from(self.reversible()), "transfer")]
        kwargs = dict(
            actor=self.coordinator,
            transfer=original.transfer,
            reason=reason,
            idempotency_key=self.key(),
        )

        def call():
            return services.transfer_reverse(**kwargs)

        if not reason.strip():
            return self.refused(call, InvalidInput)
        movements = {name: -amount for name, amount in original.movements.items()}
        codes = self.movement_refusals(movements)
        if codes:
            # Which of the two accounts is checked first is not specified.
            return self.refused(call, PaymentRefused, codes=set(codes))
        reversal = call()
        assert reversal.reverses_id == original.transfer.pk
        self.recorded(reversal, kind=TransferKind.REVERSAL, by=COORDINATOR, movements=movements)
        original.reversed = True
        self.requests.append(
            Request(services.transfer_reverse, kwargs, reversal.pk, {"reason": reason + " (bis)"})
        )
        return None

    @precondition(lambda self: len(self.reversible()) < len(self.transfers))
    @rule(data=st.data())
    def the_coordinator_reverses_a_reversed_transfer_or_a_reversal(self, data):
        transfer = self.transfers[
            data.draw(st.sampled_from(sorted(set(self.transfers) - set(self.reversible()))))
        ].transfer
        self.refused(
            lambda: services.transfer_reverse(
                actor=self.coordinator,
                transfer=transfer,
                reason="Nog een keer",
                idempotency_key=self.key(),
            ),
            TransitionNotAllowed,
            match=(
                "cannot be reversed"
                if transfer.kind == TransferKind.REVERSAL
                else "already been reversed"
            ),
        )

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), same=st.booleans())
    def a_request_is_sent_again_with_its_key(self, data, same):
        """A retry gets the first answer; another request with that key is refused."""
        request = data.draw(st.sampled_from(self.requests), "request")
        kwargs = request.kwargs if same else request.kwargs | request.different
        before = self.books()
        try:
            answer = request.service(**kwargs)
        except IdempotencyKeyReused:
            assert not same, "a retry of the same request was refused"
            answer = None
        if same and answer is not None:
            assert answer.pk == request.result_pk
        if not same:
            assert answer is None, "a different request with a used key was accepted"
        assert self.books() == before, "sending a used key again changed the books"

    @rule(
        holder=st.sampled_from((*MEMBERS, "pot")),
        floor=st.one_of(st.none(), st.integers(min_value=-20 * 60, max_value=0)),
        ceiling=st.one_of(st.none(), st.integers(min_value=0, max_value=30 * 60)),
        actor=st.sampled_from([COORDINATOR, COORDINATOR, COORDINATOR, "anna"]),
        reason=reasons,
    )
    def limits_are_changed(self, holder, floor, ceiling, actor, reason):
        self.set_limits(holder, floor, ceiling, actor=actor, reason=reason)

    @rule(holder=st.sampled_from(MEMBERS), margin=st.integers(min_value=1, max_value=3 * 60))
    def the_coordinator_tightens_limits_past_the_balance(self, holder, margin):
        balance = self.balance[holder]
        floor, ceiling = self.floor[holder], self.ceiling[holder]
        if balance < 0:
            floor = min(0, balance + margin)
        else:
            ceiling = max(0, balance - margin)
        self.set_limits(holder, floor, ceiling, actor=COORDINATOR, reason="Te veel, even pauze")

    def set_limits(self, holder, floor, ceiling, *, actor, reason):
        def call():
            return services.account_limits_set(
                actor=self.user[actor],
                account=self.account[holder],
                floor=floor,
                ceiling=ceiling,
                reason=reason,
            )

        if actor != COORDINATOR:
            return self.refused(call, NotAllowed)
        if not reason.strip():
            return self.refused(call, InvalidInput)
        account = call()
        assert (account.floor, account.ceiling) == (floor, ceiling)
        if (floor, ceiling) != (self.floor[holder], self.ceiling[holder]):
            self.limit_changes += 1
        self.floor[holder], self.ceiling[holder] = floor, ceiling
        return None

    @rule(
        member=st.sampled_from(MEMBERS),
        to_status=st.sampled_from([Status.LEAVING, Status.SUSPENDED, Status.ACTIVE]),
        reason=reasons,
    )
    def the_coordinator_changes_a_members_status(self, member, to_status, reason):
        self.change_status(member, to_status, reason)

    @rule(member=st.sampled_from(OTHERS), away=st.sampled_from([Status.LEAVING, Status.SUSPENDED]))
    def a_member_steps_away_or_comes_back(self, member, away):
        to_status = away if self.status[member] == Status.ACTIVE else Status.ACTIVE
        self.change_status(member, to_status, "Zo afgesproken")

    def change_status(self, member, to_status, reason):
        def call():
            return membership_status_change(
                actor=self.coordinator,
                membership=self.membership[member],
                to_status=to_status,
                reason=reason,
            )

        step = (self.status[member], to_status)
        if member == COORDINATOR:
            # Her own membership: she may start leaving, but not while she is the
            # only coordinator; suspending is nobody's own step.
            if step == (Status.ACTIVE, Status.SUSPENDED):
                return self.refused(call, NotAllowed)
            return self.refused(call, TransitionNotAllowed)
        if step not in COORDINATOR_STEPS:
            return self.refused(call, TransitionNotAllowed)
        if not reason.strip():
            return self.refused(call, InvalidInput)
        assert call().status == to_status
        self.status[member] = to_status
        self.membership_events += 1
        return None

    # -- Invariants -----------------------------------------------------------

    @invariant()
    def the_books_are_right(self):
        books = self.books()
        self.check_the_books_match_the_model(books)
        self.check_every_account_is_within_its_limits_or_moved_only_towards_them(books)
        self.check_the_circle_sums_to_zero(books)
        self.check_the_books_verify_and_would_commit()

    def check_the_books_match_the_model(self, books: Books):
        stored = {
            self.name_of[pk]: (balance, version, floor, ceiling)
            for pk, balance, version, floor, ceiling, _lowest, _highest in books.accounts
        }
        assert stored == {
            name: (self.balance[name], self.version[name], self.floor[name], self.ceiling[name])
            for name in self.account
        }
        assert (
            books.transfers,
            books.batches,
            books.limit_changes,
            books.membership_events,
        ) == (len(self.transfers), self.batches, self.limit_changes, self.membership_events)
        # Every entry is counted in exactly one account's version.
        assert books.entries == sum(self.version.values())
        memberships = sorted(
            (m.pk, self.status[name], m.role) for name, m in self.membership.items()
        )
        assert books.memberships == ",".join(":".join(map(str, row)) for row in memberships)

    def check_every_account_is_within_its_limits_or_moved_only_towards_them(self, books: Books):
        for pk, balance, _version, _floor, _ceiling, lowest, highest in books.accounts:
            name = self.name_of[pk]
            before = self.seen[name]
            assert (
                lowest <= balance <= highest
                or (balance < lowest and balance >= before)
                or (balance > highest and balance <= before)
            ), f"{name} went from {before} to {balance} with limits {lowest} to {highest}"
            self.seen[name] = balance

    def check_the_circle_sums_to_zero(self, books: Books):
        assert sum(balance for _pk, balance, *_rest in books.accounts) == 0

    def check_the_books_verify_and_would_commit(self):
        # The database checks some rules at commit, which these examples never
        # reach: make them run now, as a commit would.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        report = ledger_verify(community=self.community)
        assert report.clean, report.differences


def test_random_sequences_of_ledger_operations_keep_the_books_right():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=36,
            deadline=None,
            database=None,
            print_blob=True,
            phases=tuple(Phase) if SHRINK else tuple(p for p in Phase if p != Phase.shrink),
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


@pytest.mark.parametrize("then", ["bram-is-suspended", "annas-limit-is-tightened"])
def test_a_retried_payment_is_answered_with_the_first_transfer(anna, bram, coordinator, then):
    def pay():
        return services.transfer_create(
            actor=anna.membership.user,
            community=anna.community,
            kind=TransferKind.PAYMENT,
            payer=anna,
            payee=bram,
            amount=60,
            memo="Fiets",
            idempotency_key="pay-bram-for-the-bike",
        )

    first = pay()
    # Her connection dropped before the answer arrived; meanwhile:
    if then == "bram-is-suspended":
        membership_status_change(
            actor=coordinator, membership=bram.membership, to_status=Status.SUSPENDED, reason="x"
        )
    else:
        services.account_limits_set(
            actor=coordinator, account=anna, floor=-30, ceiling=None, reason="Eerst aanvullen"
        )
    assert pay().pk == first.pk
