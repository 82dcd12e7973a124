"""A small circle with dated history, written through the real ledger services,
for the analysis tests (test_edges, test_analysis, test_analysis_jobs)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from django.utils import timezone

from ledger import services as ledger
from ledger.models import AccountKind
from tests.factories import CommunityFactory, CoordinatorFactory, MembershipFactory, UserFactory

_keys = itertools.count(1)


def next_key() -> str:
    return f"analysis-{next(_keys)}"


def month_start(day: date) -> date:
    return day.replace(day=1)


def last_month() -> date:
    """The first day of the month before this one: a month that has ended."""
    return month_start(month_start(timezone.localdate()) - timedelta(days=1))


def last_month_end() -> date:
    return month_start(timezone.localdate()) - timedelta(days=1)


class Circle:
    """Sterrenstelsel counts minutes. Members may receive 20 hours more than
    they give (floor -1200) and give 40 hours more (ceiling 2400)."""

    def __init__(self):
        self.community = CommunityFactory(
            name="Sterrenstelsel", default_floor=-20 * 60, default_ceiling=40 * 60
        )
        self.coordinator_membership = CoordinatorFactory(
            community=self.community,
            user=UserFactory(display_name="Mieke"),
            joined_at=timezone.now() - timedelta(days=3 * 365),
        )
        self.coordinator = self.coordinator_membership.user

    def member(self, name: str, *, area=None, joined_days_ago: int = 3 * 365):
        membership = MembershipFactory(
            community=self.community,
            user=UserFactory(display_name=name),
            area=area,
            joined_at=timezone.now() - timedelta(days=joined_days_ago),
        )
        return ledger.account_open(membership=membership)

    def pot(self):
        return ledger.system_account_open(community=self.community, kind=AccountKind.POT)

    def cheques(self, *lines: tuple) -> list:
        """Paper cheques (payer, payee, minutes, date): the payee gave the help."""
        cheques = [
            ledger.ChequeLine(payer=payer, payee=payee, amount=amount, memo="Hulp", occurred_on=on)
            for payer, payee, amount, on in lines
        ]
        batch = ledger.transfer_batch_create(
            actor=self.coordinator,
            community=self.community,
            lines=cheques,
            declared_total=sum(line.amount for line in cheques),
            idempotency_key=next_key(),
        )
        return list(batch.transfers.order_by("pk"))

    def pay(self, payer, payee, amount: int):
        """A payment recorded today, on the site."""
        return ledger.transfer_create(
            actor=self.coordinator,
            community=self.community,
            kind=ledger.transfer_kind_for_accounts(payer=payer, payee=payee),
            payer=payer,
            payee=payee,
            amount=amount,
            memo="Hulp",
            idempotency_key=next_key(),
        )

    def reverse(self, transfer):
        return ledger.transfer_reverse(
            actor=self.coordinator,
            transfer=transfer,
            reason="Verkeerd getypt",
            idempotency_key=next_key(),
        )
