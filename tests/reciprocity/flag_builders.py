"""Snapshot rows built by hand for the flag tests: a healthy member who gives
and receives, and a month's rows stored for a circle."""

from __future__ import annotations

from datetime import date, timedelta

from reciprocity.flags import DEFAULT_THRESHOLDS, RuleContext
from reciprocity.models import MemberSnapshot, PairSnapshot, Scope

AS_OF = date(2025, 6, 30)
PERIOD = date(2025, 6, 1)
PREVIOUS = date(2025, 5, 1)


def month_end(period: date) -> date:
    following = date(period.year + period.month // 12, period.month % 12 + 1, 1)
    return following - timedelta(days=1)


def healthy(**changes) -> dict:
    """A member of two years who gives and receives about equally, within
    every threshold: no rule holds for them."""
    values = {
        "member_since": AS_OF - timedelta(days=730),
        "given": 600,
        "received": 600,
        "gives": 10,
        "receipts": 10,
        "trades_all_time": 40,
        "partners": 8,
        "skew": 0.0,
        "cycle_bin": "some",
        "in_giant_scc": True,
        "balance": 0,
        "floor": -1200,
        "ceiling": 2400,
        "balance_trend": 0.0,
        "days_to_floor": None,
        "load_30d": 60,
        "load_median": 60,
        "last_gave": AS_OF - timedelta(days=10),
        "last_received": AS_OF - timedelta(days=12),
        "last_spent": AS_OF - timedelta(days=12),
        "open_offers": 1,
        "open_requests": 0,
        "offers_untaken": 0,
        "requests_ever": 2,
    }
    values.update(changes)
    return values


def member_row(membership_id: int = 1, **changes) -> MemberSnapshot:
    """An unsaved window snapshot, for the pure rules."""
    return MemberSnapshot(
        membership_id=membership_id,
        period=PERIOD,
        scope=Scope.WINDOW,
        as_of=AS_OF,
        **healthy(**changes),
    )


def context(**changes) -> RuleContext:
    values = {
        "as_of": AS_OF,
        "thresholds": dict(DEFAULT_THRESHOLDS),
        "load_mark": 300.0,
        "balance_mark": 1000.0,
    }
    values.update(changes)
    return RuleContext(**values)


# Changes to a healthy member that make exactly one member rule hold.
TRIGGERS = {
    "near_limit": {"balance": -1000},
    "overload": {"skew": 0.9, "load_30d": 420, "last_spent": AS_OF - timedelta(days=30)},
    "withdrawal": {
        "skew": -0.9,
        "receipts": 6,
        "gives": 0,
        "last_gave": None,
        "open_offers": 0,
    },
    "latent_need": {"receipts": 0, "requests_ever": 0, "gives": 6, "last_received": None},
    "latent_offer": {"offers_untaken": 2, "gives": 0, "last_gave": None},
    "large_balance": {"balance": 2000, "last_spent": None},
    "outside": {"cycle_bin": "none", "in_giant_scc": False},
}


def store_member(*, community, membership, period: date = PERIOD, **changes) -> MemberSnapshot:
    """A window snapshot stored for ``period``, computed up to its last day."""
    as_of = month_end(period)
    values = healthy(**changes)
    # Dates given relative to AS_OF move with the period.
    shift = as_of - AS_OF
    for key in ("member_since", "last_gave", "last_received", "last_spent"):
        if key not in changes and values[key] is not None:
            values[key] = values[key] + shift
    return MemberSnapshot.objects.create(
        community=community,
        membership=membership,
        period=period,
        scope=Scope.WINDOW,
        as_of=as_of,
        **values,
    )


def store_pair(*, community, one, other, period: date = PERIOD, **changes) -> PairSnapshot:
    first, second = sorted([one, other], key=lambda m: m.pk)
    values = {"first_gave": 300, "second_gave": 300, "exchanges": 6, "recent_weeks": 2}
    values.update(changes)
    return PairSnapshot.objects.create(
        community=community, period=period, first=first, second=second, **values
    )
