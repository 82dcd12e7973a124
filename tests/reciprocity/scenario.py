"""A planted circle: about 300 members and a year of paper cheques, typed in
month by month through the real ledger, with known patterns hidden among
ordinary members.

- 3 **overloaded givers** help about ten times a month and are almost never
  helped (their coordinator gave them more room above);
- 3 **withdrawing receivers** were helped often in the first half of the
  year, never gave, and then stopped asking;
- 2 **one-way pairs**: one member helps the other twice a month, never the
  other way round; both trade normally besides;
- 1 **closed clique** of 5 who trade only with each other, evenly;
- 5 members **near their limit**, receiving about two hours a month more
  than they give;
- everyone else is the **control** group: they give and receive at random
  with each other, about once a month each way.

Everyone joined one to two and a half years ago. The cheques are dated in
the last 365 days and pass the ledger's limits (a cheque that would not is
left out, as the ledger would refuse it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone

from accounts.models import Community, Membership
from ledger import services as ledger
from ledger.models import Account
from tests.factories import CommunityFactory, CoordinatorFactory, MembershipFactory, UserFactory

MEMBERS = 300
MONTHS = 12
HOUR = 60


@dataclass
class Planted:
    community: Community
    coordinator: object
    roles: dict[int, str] = field(default_factory=dict)  # membership id -> role
    names: dict[int, str] = field(default_factory=dict)
    # membership id of the giver -> that of the member they help, per one-way pair
    one_way: dict[int, int] = field(default_factory=dict)

    def of_role(self, role: str) -> list[int]:
        return [pk for pk, r in self.roles.items() if r == role]


def _member(community: Community, name: str, rng: random.Random) -> Account:
    joined = timezone.now() - timedelta(days=rng.randint(400, 900))
    membership = MembershipFactory(
        community=community, user=UserFactory(display_name=name), joined_at=joined
    )
    Membership.objects.filter(pk=membership.pk).update(applied_at=joined - timedelta(days=3))
    return ledger.account_open(membership=membership)


def _amount(rng: random.Random) -> int:
    return rng.choice([30, 45, 60, 60, 75, 90])


def planted_circle(seed: int = 20250601) -> Planted:
    rng = random.Random(seed)
    community = CommunityFactory(name="Proefkring", slug="proefkring")
    coordinator = CoordinatorFactory(
        community=community,
        user=UserFactory(display_name="Coördinator"),
        joined_at=timezone.now() - timedelta(days=1000),
    ).user
    planted = Planted(community=community, coordinator=coordinator)
    counts = {"giver": 3, "withdrawer": 3, "pair_giver": 2, "pair_receiver": 2}
    counts |= {"clique": 5, "near_limit": 5}
    counts["control"] = MEMBERS - sum(counts.values())
    accounts: dict[str, list[Account]] = {}
    for role, count in counts.items():
        accounts[role] = []
        for number in range(count):
            account = _member(community, f"{role} {number + 1}", rng)
            accounts[role].append(account)
            planted.roles[account.membership_id] = role
            planted.names[account.membership_id] = f"{role} {number + 1}"
    for giver in accounts["giver"]:
        ledger.account_limits_set(
            actor=coordinator,
            account=giver,
            floor=None,
            ceiling=400 * HOUR,
            reason="Geeft graag; meer ruimte afgesproken.",
        )
    for giver, receiver in zip(accounts["pair_giver"], accounts["pair_receiver"], strict=True):
        planted.one_way[giver.membership_id] = receiver.membership_id
    _year(planted, accounts, rng)
    return planted


def _month_lines(
    accounts: dict[str, list[Account]], month: int, rng: random.Random
) -> list[tuple[Account, Account, int]]:
    """(payer, payee, amount) for one month; the payee is the one who helped."""
    control = accounts["control"]
    ordinary = control + accounts["pair_giver"] + accounts["pair_receiver"]
    lines = []
    # Ordinary members: each pays someone at random about once a month.
    for payer in ordinary:
        if rng.random() < 0.9:
            payee = rng.choice([a for a in ordinary if a != payer])
            lines.append((payer, payee, _amount(rng)))
    # The overloaded givers: about ten times a month; helped once in the year.
    for giver in accounts["giver"]:
        for _ in range(rng.randint(9, 11)):
            lines.append((rng.choice(control), giver, _amount(rng)))
        if month == 3:
            lines.append((giver, rng.choice(control), 60))
    # The withdrawing receivers: helped four times a month for half a year.
    for receiver in accounts["withdrawer"]:
        if month < MONTHS // 2:
            lines += [(receiver, rng.choice(control), 45) for _ in range(4)]
    # One-way pairs: the giver helps the other twice a month.
    for giver, receiver in zip(accounts["pair_giver"], accounts["pair_receiver"], strict=True):
        lines += [(receiver, giver, 30), (receiver, giver, 30)]
    # The clique: every pair helps each other once each way, evenly.
    clique = accounts["clique"]
    for i, one in enumerate(clique):
        for other in clique[i + 1 :]:
            amount = _amount(rng)
            lines += [(one, other, amount), (other, one, amount)]
    # Near the limit: helped three times, helping once.
    for member in accounts["near_limit"]:
        lines += [(member, rng.choice(control), 60) for _ in range(3)]
        lines.append((rng.choice(control), member, 60))
    return lines


def _year(planted: Planted, accounts: dict[str, list[Account]], rng: random.Random) -> None:
    """Twelve monthly stacks of cheques, each dated within its 30 days."""
    everyone = [a for group in accounts.values() for a in group]
    balance = {a.pk: 0 for a in everyone}
    floor = {a.pk: a.effective_floor for a in everyone}
    ceiling = {a.pk: Account.objects.get(pk=a.pk).effective_ceiling for a in everyone}
    today = timezone.localdate()
    for month in range(MONTHS):
        first = today - timedelta(days=30 * (MONTHS - month) + 5)
        drawn = [
            (first + timedelta(days=rng.randint(0, 29)), payer, payee, amount)
            for payer, payee, amount in _month_lines(accounts, month, rng)
        ]
        drawn.sort(key=lambda line: line[0])
        lines = []
        for day, payer, payee, amount in drawn:
            if balance[payer.pk] - amount < floor[payer.pk]:
                continue
            if balance[payee.pk] + amount > ceiling[payee.pk]:
                continue
            balance[payer.pk] -= amount
            balance[payee.pk] += amount
            lines.append(_cheque(day, payer, payee, amount))
        ledger.transfer_batch_create(
            actor=planted.coordinator,
            community=planted.community,
            lines=lines,
            declared_total=sum(line.amount for line in lines),
            idempotency_key=f"planted-{month}",
            note=f"Cheques, maand {month + 1}",
        )


def _cheque(day: date, payer: Account, payee: Account, amount: int) -> ledger.ChequeLine:
    return ledger.ChequeLine(payer=payer, payee=payee, amount=amount, memo="Hulp", occurred_on=day)
