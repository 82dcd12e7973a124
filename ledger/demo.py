"""Demo exchanges for the demo circles: a few months of giving and receiving.

Made through the same services as real use, with fixed idempotency keys, so a
second run replays the same transfers instead of adding new ones. Some
payments are refused by the limits, as in real life; those are skipped.
"""

from __future__ import annotations

import contextlib
import random

from accounts.models import Community, Membership, Role, Status
from ledger import services
from ledger.models import AccountKind, Transfer, TransferKind
from ruilkring.errors import DomainError

EXCHANGES_PER_COMMUNITY = 120
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


def _demo_community(community: Community, rng: random.Random) -> None:
    if Transfer.objects.filter(community=community, idempotency_key__startswith="demo-").exists():
        # Seeded before. Replaying against today's balances could let through
        # a payment the limits refused the first time, so leave it as it is.
        return
    members = list(
        Membership.objects.filter(community=community, status__in=(Status.ACTIVE, Status.LEAVING))
        .select_related("user")
        .order_by("pk")
    )
    coordinator = next(m.user for m in members if m.role == Role.COORDINATOR)
    accounts = [services.account_open(membership=m) for m in members]
    unit = community.unit_scale
    # A few generous givers and a few who mostly receive, as circles have.
    givers, receivers = accounts[1:4], accounts[-4:]
    for number in range(EXCHANGES_PER_COMMUNITY):
        if number % 5 == 0:
            payee, payer = rng.choice(givers), rng.choice(accounts)
        elif number % 7 == 0:
            payee, payer = rng.choice(accounts), rng.choice(receivers)
        else:
            payee, payer = rng.sample(accounts, 2)
        if payer.pk == payee.pk:
            continue
        if community.unit_kind == "time":  # half hours and quarters, as people trade time
            amount = rng.choice([1, 1, 2, 3]) * unit // 2 + rng.choice([0, unit // 4])
        else:  # whole units
            amount = rng.choice([5, 10, 10, 15, 20, 25]) * unit
        try:
            services.transfer_create(
                actor=payer.membership.user,
                community=community,
                kind=TransferKind.PAYMENT,
                payer=payer,
                payee=payee,
                amount=amount,
                memo=rng.choice(MEMOS),
                idempotency_key=f"demo-{community.slug}-{number}",
            )
        except DomainError:
            continue  # refused by a limit or a status, as it would be for real
    pot = services.system_account_open(community=community, kind=AccountKind.POT)
    for number, giver in enumerate(givers):
        try:
            services.transfer_create(
                actor=giver.membership.user,
                community=community,
                kind=TransferKind.POT_DONATION,
                payer=giver,
                payee=pot,
                amount=unit,
                memo="Voor wie het nodig heeft",
                idempotency_key=f"demo-{community.slug}-pot-{number}",
            )
        except DomainError:
            continue
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
        payee, payer = accounts[number + 5], accounts[0] if number == 0 else accounts[number + 10]
        try:
            services.payment_request_create(
                actor=payee.membership.user,
                community=community,
                payer=payer,
                payee=payee,
                amount=unit,
                memo=rng.choice(MEMOS),
                idempotency_key=f"demo-{community.slug}-ask-{number}",
            )
        except DomainError:
            continue


def demo_seed() -> dict[str, str]:
    """Exchanges in every demo circle. Returns no extra logins."""
    rng = random.Random(20261122)  # noqa: S311 - a fixed seed makes the demo the same each time
    for community in Community.objects.filter(slug__in=("niksen", "sterrenstelsel")).order_by(
        "slug"
    ):
        _demo_community(community, rng)
    return {}
