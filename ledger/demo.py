"""Demo exchanges for the demo circles: a year of giving and receiving.

The circles kept paper cheques before they came here, and their coordinators
typed in each month's stack (``transfer_batch_create``, each cheque with the
date written on it). The year has the patterns real circles show, so that the
reciprocity analysis has something to find:

- most members both give and receive, mostly within their own area;
- a few members mostly give (their coordinator gave them more room to do so);
- a few mostly receive, and one of them stopped after a run of help;
- one pair trades only with each other;
- one area trades only within itself.

After the paper year come a few payments made on the site today, a gift to
the pot, a reversal and open payment requests. Everything goes through the
same services as real use, with fixed idempotency keys. A circle seeded
before is left as it is: replaying against today's balances could let
through a payment the limits refused the first time.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from accounts.demo import demo_island_area
from accounts.models import Community, Membership, Role, Status
from ledger import services
from ledger.models import Account, AccountKind, Transfer, TransferKind
from ruilkring.errors import DomainError

MONTHS = 12
# Cheques a month among the members who trade both ways.
MONTHLY_EXCHANGES = 22
PAYMENTS_TODAY = 12
MEMOS = [
    "Hulp in de tuin",
    "Fiets gerepareerd",
    "Boodschappen gedaan",
    "Samen koffie en een praatje",
    "Hulp bij een formulier van de gemeente",
    "Naar het ziekenhuis gebracht",
    "Rits in een jas gezet",
    "Kapsel",
    "Computer weer aan de praat",
    "Gordijnen opgehangen",
    "Uurtje Nederlands oefenen",
    "Soep gekookt",
]
MONTH_NAMES = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]


@dataclass
class Cast:
    """Who plays which part in a circle's year."""

    everyone: list[Account]
    givers: list[Account] = field(default_factory=list)
    receivers: list[Account] = field(default_factory=list)
    # The receiver who stopped after a run of help, and when they stopped.
    withdrawn: Account | None = None
    pair: tuple[Account, Account] | None = None
    island: list[Account] = field(default_factory=list)
    # Everyone else: trades with each other, both ways.
    open: list[Account] = field(default_factory=list)


def _cast(community: Community, accounts: list[Account], rng: random.Random) -> Cast:
    """Deal the parts. The demo login (Anna) and coordinators stay ordinary members."""
    island = demo_island_area(community)
    cast = Cast(everyone=accounts)
    cast.island = [a for a in accounts if island and a.membership.area_id == island.pk]
    rest = [
        a
        for a in accounts
        if a not in cast.island
        and a.membership.role != Role.COORDINATOR
        and not a.membership.user.email.startswith("anna@")
    ]
    rng.shuffle(rest)
    cast.givers, cast.receivers, pair = rest[:3], rest[3:6], rest[6:8]
    cast.withdrawn = cast.receivers[0]
    cast.pair = (pair[0], pair[1])
    special = {*cast.island, *cast.givers, *cast.receivers, *pair}
    cast.open = [a for a in accounts if a not in special]
    return cast


def _amount(community: Community, rng: random.Random) -> int:
    unit = community.unit_scale
    if community.unit_kind == "time":  # half hours and quarters, as people trade time
        return rng.choice([1, 1, 2, 3]) * unit // 2 + rng.choice([0, unit // 4])
    return rng.choice([5, 10, 10, 15, 20, 25]) * unit  # whole units


def _month_lines(*, cast: Cast, month: int, rng: random.Random) -> list[tuple[Account, Account]]:
    """(payer, payee) pairs for one month; the payee is the one who helped."""
    lines: list[tuple[Account, Account]] = []
    both_ways = cast.open + cast.givers + cast.receivers
    for _ in range(MONTHLY_EXCHANGES):
        payer, payee = rng.sample(cast.open, 2)
        if rng.random() < 0.5:  # most help stays in the neighbourhood
            near = [a for a in cast.open if a.membership.area_id == payer.membership.area_id]
            if len(near) > 1:
                payee = rng.choice([a for a in near if a != payer])
        lines.append((payer, payee))
    # The generous givers: help often, and hardly ever ask.
    for giver in cast.givers:
        for _ in range(rng.randint(1, 3)):
            lines.append((rng.choice([a for a in both_ways if a not in cast.givers]), giver))
        if rng.random() < 0.1:
            lines.append((giver, rng.choice(cast.open)))
    # Those who mostly receive. The one who withdrew received a lot in the
    # first half of the year, then stopped asking altogether.
    for receiver in cast.receivers:
        if receiver == cast.withdrawn:
            if month < MONTHS // 2:
                lines += [(receiver, rng.choice(cast.open + cast.givers)) for _ in range(3)]
            continue
        lines += [(receiver, rng.choice(cast.open + cast.givers)) for _ in range(rng.randint(1, 2))]
        if rng.random() < 0.2:
            lines.append((rng.choice(cast.open), receiver))
    # The closed pair: only with each other, both ways.
    if cast.pair:
        one, other = cast.pair
        lines += [(one, other), (other, one)]
    # The area that keeps to itself.
    if len(cast.island) >= 2:
        for _ in range(max(2, len(cast.island))):
            payer, payee = rng.sample(cast.island, 2)
            lines.append((payer, payee))
    return lines


def _history(community: Community, coordinator, cast: Cast, rng: random.Random) -> None:
    """Twelve monthly stacks of cheques, each dated within its month."""
    today = timezone.localdate()
    balance = {a.pk: a.balance for a in cast.everyone}
    joined = {a.pk: timezone.localdate(a.membership.joined_at) for a in cast.everyone}
    for month in range(MONTHS):
        first = today - timedelta(days=30 * (MONTHS - month))
        last = min(first + timedelta(days=29), today)
        drawn = []
        for payer, payee in _month_lines(cast=cast, month=month, rng=rng):
            day = first + timedelta(days=rng.randint(0, (last - first).days))
            drawn.append((day, payer, payee, _amount(community, rng)))
        drawn.sort(key=lambda line: line[0])
        lines = []
        for day, payer, payee, amount in drawn:
            if day < max(joined[payer.pk], joined[payee.pk]) or payer == payee:
                continue  # not both members yet on that day
            # Checked as the ledger will, in the stack's order: a cheque past
            # a limit is not accepted.
            if balance[payer.pk] - amount < payer.effective_floor:
                continue
            if balance[payee.pk] + amount > payee.effective_ceiling:
                continue
            balance[payer.pk] -= amount
            balance[payee.pk] += amount
            lines.append((day, payer, payee, amount))
        if not lines:
            continue
        services.transfer_batch_create(
            actor=coordinator,
            community=community,
            lines=[
                services.ChequeLine(
                    payer=payer,
                    payee=payee,
                    amount=amount,
                    memo=rng.choice(MEMOS),
                    occurred_on=day,
                )
                for day, payer, payee, amount in lines
            ],
            declared_total=sum(line[3] for line in lines),
            idempotency_key=f"demo-{community.slug}-history-{month}",
            note=f"Cheques van {MONTH_NAMES[first.month - 1]} {first.year}",
        )


def _demo_community(community: Community, rng: random.Random) -> None:
    if Transfer.objects.filter(community=community, idempotency_key__startswith="demo-").exists():
        return
    members = list(
        Membership.objects.filter(community=community, status__in=(Status.ACTIVE, Status.LEAVING))
        .select_related("user", "area", "community")
        .order_by("pk")
    )
    coordinator = next(m.user for m in members if m.role == Role.COORDINATOR)
    accounts = [services.account_open(membership=m) for m in members]
    active = [a for a in accounts if a.membership.status == Status.ACTIVE]
    cast = _cast(community, active, rng)
    for giver in cast.givers:
        # Generous givers hit the ceiling; their coordinator gave them room.
        services.account_limits_set(
            actor=coordinator,
            account=giver,
            floor=None,
            ceiling=community.default_ceiling * 2,
            reason="Geeft veel; samen afgesproken dat er meer ruimte mag zijn.",
        )
    for account in accounts:
        account.refresh_from_db()
    _history(community, coordinator, cast, rng)

    accounts = [Account.objects.select_related("membership__user").get(pk=a.pk) for a in accounts]
    for number in range(PAYMENTS_TODAY):
        payer, payee = rng.sample(cast.open, 2)
        with contextlib.suppress(DomainError):  # refused by a limit, as it would be for real
            services.transfer_create(
                actor=payer.membership.user,
                community=community,
                kind=TransferKind.PAYMENT,
                payer=Account.objects.get(pk=payer.pk),
                payee=Account.objects.get(pk=payee.pk),
                amount=_amount(community, rng),
                memo=rng.choice(MEMOS),
                idempotency_key=f"demo-{community.slug}-{number}",
            )
    pot = services.system_account_open(community=community, kind=AccountKind.POT)
    for number, giver in enumerate(cast.givers):
        with contextlib.suppress(DomainError):
            services.transfer_create(
                actor=giver.membership.user,
                community=community,
                kind=TransferKind.POT_DONATION,
                payer=Account.objects.get(pk=giver.pk),
                payee=pot,
                amount=community.unit_scale,
                memo="Voor wie het nodig heeft",
                idempotency_key=f"demo-{community.slug}-pot-{number}",
            )
    mistake = Transfer.objects.filter(
        community=community, idempotency_key=f"demo-{community.slug}-3"
    ).first()
    if mistake is not None:
        with contextlib.suppress(DomainError):
            services.transfer_reverse(
                actor=coordinator,
                transfer=mistake,
                reason="Per ongeluk twee keer ingevoerd",
                idempotency_key=f"demo-{community.slug}-reversal",
            )
    for number in range(3):
        payee, payer = cast.open[number + 1], accounts[0] if number == 0 else cast.open[number + 5]
        with contextlib.suppress(DomainError):
            services.payment_request_create(
                actor=payee.membership.user,
                community=community,
                payer=Account.objects.get(pk=payer.pk),
                payee=Account.objects.get(pk=payee.pk),
                amount=community.unit_scale,
                memo=rng.choice(MEMOS),
                idempotency_key=f"demo-{community.slug}-ask-{number}",
            )


def demo_seed() -> dict[str, str]:
    """Exchanges in every demo circle. Returns no extra logins."""
    rng = random.Random(20261122)  # noqa: S311 - a fixed seed makes the demo the same each time
    for community in Community.objects.filter(slug__in=("niksen", "sterrenstelsel")).order_by(
        "slug"
    ):
        _demo_community(community, rng)
    return {}
