"""The demo's year of giving and receiving has the patterns it promises.

The reciprocity analysis is built and shown on this data, so each pattern is
checked here from the ledger itself, not from the generator's own notes.
"""

from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from accounts.models import Community, Status
from ledger.models import Account, AccountKind, Entry
from ledger.selectors import ledger_verify
from listings.models import Listing, ListingKind, ListingStatus

pytestmark = pytest.mark.django_db


def _edges(community):
    """(payer membership, payee membership, date) for each member-to-member transfer."""
    rows = (
        Entry.objects.filter(
            account__community=community, account__kind=AccountKind.MEMBER, amount__gt=0
        )
        .exclude(transfer__kind="reversal")
        .exclude(transfer__reversals__isnull=False)
        .annotate(day=Coalesce("transfer__occurred_on", TruncDate("transfer__created_at")))
        .values_list("transfer_id", "account__membership", "day")
    )
    payee_of = {transfer: (membership, day) for transfer, membership, day in rows}
    payers = Entry.objects.filter(
        transfer_id__in=payee_of, amount__lt=0, account__kind=AccountKind.MEMBER
    ).values_list("transfer_id", "account__membership")
    return [(payer, *payee_of[transfer]) for transfer, payer in payers]


@pytest.mark.parametrize("slug", ["niksen", "sterrenstelsel"])
def test_the_demo_year_has_the_patterns_of_a_real_circle(slug):
    call_command("seed_demo")
    community = Community.objects.get(slug=slug)
    assert ledger_verify(community=community).clean
    edges = _edges(community)
    today = timezone.localdate()
    days = [day for _payer, _payee, day in edges]
    assert today - min(days) >= timedelta(days=330), "a year of history"
    assert len(edges) >= 250

    gave, received = Counter(), Counter()
    last_gave = {}
    partners = defaultdict(set)
    for payer, payee, day in edges:
        gave[payee] += 1
        received[payer] += 1
        last_gave[payee] = max(day, last_gave.get(payee, day))
        partners[payer].add(payee)
        partners[payee].add(payer)
    active = list(
        Account.objects.filter(
            community=community, kind=AccountKind.MEMBER, membership__status=Status.ACTIVE
        ).values_list("membership", "membership__area")
    )
    traders = [m for m, _area in active if gave[m] + received[m] >= 5]
    # Most members both give and receive.
    both = [m for m in traders if gave[m] >= 3 and received[m] >= 3]
    assert len(both) >= 0.6 * len(traders)
    # A few mostly give.
    givers = [m for m in traders if (gave[m] - received[m]) / (gave[m] + received[m]) >= 0.8]
    assert 2 <= len(givers) <= 5
    # A few mostly receive; one of them has given nothing for half a year,
    # received at least three times, and has no open offers.
    receivers = [m for m in traders if (gave[m] - received[m]) / (gave[m] + received[m]) <= -0.8]
    assert 2 <= len(receivers) <= 6
    offering = set(
        Listing.objects.filter(
            community=community, kind=ListingKind.OFFER, status=ListingStatus.ACTIVE
        ).values_list("owner", flat=True)
    )
    withdrawn = [
        m
        for m in receivers
        if received[m] >= 3
        and (m not in last_gave or last_gave[m] < today - timedelta(days=180))
        and m not in offering
    ]
    assert withdrawn
    # One pair trades only with each other.
    closed_pairs = {
        frozenset((m, next(iter(partners[m]))))
        for m in partners
        if len(partners[m]) == 1 and partners[next(iter(partners[m]))] == {m}
    }
    assert len(closed_pairs) == 1
    # One area trades only within itself, and it does trade.
    area_of = dict(active)
    for area in {a for _m, a in active if a is not None}:
        inside = [e for e in edges if area_of.get(e[0]) == area or area_of.get(e[1]) == area]
        if inside and all(area_of.get(e[0]) == area_of.get(e[1]) == area for e in inside):
            break
    else:
        pytest.fail("no area keeps to itself")
