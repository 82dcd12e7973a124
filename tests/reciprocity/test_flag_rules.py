"""Each rule on both sides of its threshold, with snapshot rows built by hand.

The rules are pure: one member's (or pair's) window snapshot and the
community's marks for the month go in, the numbers behind a flag (or None)
come out."""

from datetime import timedelta

import pytest
from django.utils import translation

from accounts.models import Community, UnitKind
from reciprocity.flags import (
    MEMBER_RULES,
    PAIR_RULES,
    flag_sentence,
    period_context,
    period_findings,
    rule_large_balance,
    rule_latent_need,
    rule_latent_offer,
    rule_near_limit,
    rule_one_way_pair,
    rule_outside,
    rule_overload,
    rule_weekly_pair,
    rule_withdrawal,
)
from reciprocity.models import FlagKind, PairSnapshot
from tests.reciprocity.flag_builders import AS_OF, TRIGGERS, context, member_row


def holds(rule, **changes):
    return rule(member_row(**changes), context()) is not None


def pair(**changes) -> PairSnapshot:
    values = {"first_id": 1, "second_id": 2, "first_gave": 300, "second_gave": 300}
    values |= {"exchanges": 6, "recent_weeks": 2}
    values.update(changes)
    return PairSnapshot(**values)


def test_a_member_who_gives_and_receives_raises_nothing():
    member = member_row()
    assert {kind: rule(member, context()) for kind, rule in MEMBER_RULES.items()} == dict.fromkeys(
        MEMBER_RULES
    )


@pytest.mark.parametrize("kind", sorted(TRIGGERS))
def test_each_planted_change_makes_exactly_its_own_rule_hold(kind):
    member = member_row(**TRIGGERS[kind])
    held = {name for name, rule in MEMBER_RULES.items() if rule(member, context()) is not None}
    assert held == {kind}


def test_near_limit_from_80_percent_of_the_floor():
    # Floor −20 hours = −1200 minutes; 80% of it is −960.
    assert holds(rule_near_limit, balance=-960)
    assert not holds(rule_near_limit, balance=-959)
    numbers = rule_near_limit(member_row(balance=-1000), context())
    assert numbers["limit_used"] == pytest.approx(1000 / 1200, abs=0.001)


def test_near_limit_when_heading_for_the_floor_within_60_days():
    assert holds(rule_near_limit, days_to_floor=60, balance=-100)
    assert not holds(rule_near_limit, days_to_floor=61, balance=-100)


def test_near_limit_needs_a_floor_below_zero():
    assert not holds(rule_near_limit, floor=0, balance=0)


def test_overload_needs_a_one_sided_skew_and_a_load_at_the_communitys_90th_percentile():
    # The context's mark (90th percentile of loads) is 300.
    assert holds(rule_overload, skew=0.8, load_30d=300)
    assert not holds(rule_overload, skew=0.79, load_30d=300)
    assert not holds(rule_overload, skew=0.8, load_30d=299)
    assert rule_overload(member_row(skew=0.9, load_30d=0), context(load_mark=0.0)) is None
    assert rule_overload(member_row(skew=0.9, load_30d=500), context(load_mark=None)) is None


def test_the_load_mark_is_the_90th_percentile_among_members_who_gave():
    # Loads 10..100 among ten givers, and thirty members who gave nothing:
    # the mark counts only the givers (91), so 100 is above it and 90 is not.
    rows = [member_row(m, load_30d=10 * m) for m in range(1, 11)]
    rows += [member_row(100 + m, load_30d=0) for m in range(30)]
    ctx = period_context(members=rows, thresholds=context().thresholds, as_of=AS_OF)
    assert ctx.load_mark == pytest.approx(91.0)
    assert rule_overload(member_row(skew=0.9, load_30d=100), ctx) is not None
    assert rule_overload(member_row(skew=0.9, load_30d=90), ctx) is None


def test_withdrawal_after_receipts_without_giving_for_180_days_and_without_offers():
    base = {"skew": -0.8, "receipts": 3, "last_gave": None, "open_offers": 0}
    assert holds(rule_withdrawal, **base)
    assert not holds(rule_withdrawal, **base | {"skew": -0.79})
    assert not holds(rule_withdrawal, **base | {"receipts": 2})
    assert not holds(rule_withdrawal, **base | {"open_offers": 1})
    assert not holds(rule_withdrawal, **base | {"last_gave": AS_OF - timedelta(days=180)})
    assert holds(rule_withdrawal, **base | {"last_gave": AS_OF - timedelta(days=181)})


def test_latent_need_for_a_long_time_member_who_gives_and_never_asked():
    base = {"receipts": 0, "requests_ever": 0, "gives": 5}
    assert holds(rule_latent_need, **base | {"member_since": AS_OF - timedelta(days=365)})
    assert not holds(rule_latent_need, **base | {"member_since": AS_OF - timedelta(days=364)})
    assert not holds(rule_latent_need, **base | {"gives": 4})
    assert not holds(rule_latent_need, **base | {"requests_ever": 1})
    assert not holds(rule_latent_need, **base | {"receipts": 1})


def test_latent_need_counts_receipts_of_all_time():
    member = member_row(receipts=0, requests_ever=0, gives=6)
    received_long_ago = member_row(receipts=2)
    assert rule_latent_need(member, context(all_time={1: received_long_ago})) is None
    assert rule_latent_need(member, context(all_time={1: member_row(receipts=0)})) is not None


def test_latent_offer_when_offers_go_untaken_and_nothing_was_given():
    assert holds(rule_latent_offer, offers_untaken=1, gives=0)
    assert not holds(rule_latent_offer, offers_untaken=0, gives=0)
    assert not holds(rule_latent_offer, offers_untaken=1, gives=1)


def test_large_balance_near_the_ceiling_with_nothing_spent_for_180_days():
    # Ceiling 40 hours = 2400 minutes; 80% is 1920. The context's 95th
    # percentile of balances is 1000.
    never = {"last_spent": None}
    assert holds(rule_large_balance, balance=1920, **never)
    assert rule_large_balance(member_row(balance=1919, **never), context(balance_mark=None)) is None
    assert not holds(rule_large_balance, balance=1920, last_spent=AS_OF - timedelta(days=180))
    assert holds(rule_large_balance, balance=1920, last_spent=AS_OF - timedelta(days=181))


def test_large_balance_above_the_communitys_95th_percentile():
    assert holds(rule_large_balance, balance=1001, last_spent=None)
    assert not holds(rule_large_balance, balance=1000, last_spent=None)
    negative_mark = context(balance_mark=-50.0)
    assert rule_large_balance(member_row(balance=0, last_spent=None), negative_mark) is None


def test_outside_the_circle_when_nothing_comes_back_round_and_not_in_the_giant_component():
    assert holds(rule_outside, cycle_bin="none", in_giant_scc=False)
    assert holds(rule_outside, cycle_bin="", in_giant_scc=False)
    assert not holds(rule_outside, cycle_bin="none", in_giant_scc=True)
    assert not holds(rule_outside, cycle_bin="some", in_giant_scc=False)
    assert not holds(rule_outside, cycle_bin="none", in_giant_scc=False, gives=0, receipts=0)


def test_one_way_pair_when_one_side_gave_more_than_80_percent_across_5_payments():
    assert rule_one_way_pair(pair(first_gave=81, second_gave=19, exchanges=5), context())
    assert rule_one_way_pair(pair(first_gave=80, second_gave=20, exchanges=5), context()) is None
    assert rule_one_way_pair(pair(first_gave=81, second_gave=19, exchanges=4), context()) is None
    assert rule_one_way_pair(pair(first_gave=0, second_gave=0, exchanges=5), context()) is None


def test_a_pair_flag_names_the_side_that_gave_first_whichever_it_is():
    ctx = context()
    members = [member_row(1), member_row(2)]
    found = period_findings(
        members=members, pairs=[pair(first_gave=10, second_gave=500, exchanges=6)], ctx=ctx
    )
    (finding,) = found.values()
    assert (finding.kind, finding.membership_id, finding.other_id) == ("one_way_pair", 2, 1)
    assert finding.numbers["gave"] == 500


def test_weekly_pair_from_6_of_the_last_8_weeks():
    assert rule_weekly_pair(pair(recent_weeks=6), context())
    assert rule_weekly_pair(pair(recent_weeks=5), context()) is None


def test_a_communitys_own_thresholds_move_the_line():
    lower = context(thresholds=context().thresholds | {"weekly_weeks": 4, "near_limit_share": 0.5})
    assert rule_weekly_pair(pair(recent_weeks=4), lower)
    assert rule_near_limit(member_row(balance=-600), lower)
    assert not holds(rule_near_limit, balance=-600)


def _everyone_flagged(**changes):
    """One member per member rule and one pair per pair rule, all with ``changes``."""
    rows = [
        member_row(index, **TRIGGERS[kind] | changes)
        for index, kind in enumerate(sorted(TRIGGERS), start=1)
    ]
    rows += [member_row(50, **changes), member_row(51, **changes)]
    pairs = [
        pair(first_id=50, second_id=51, first_gave=900, second_gave=10, exchanges=8),
        pair(first_id=50, second_id=51, recent_weeks=7),
    ]
    return period_findings(members=rows, pairs=pairs, ctx=context())


def test_the_planted_rows_raise_every_kind_when_nobody_is_exempt():
    kinds = {finding.kind for finding in _everyone_flagged().values()}
    assert kinds == set(FlagKind.values)


@pytest.mark.parametrize(
    "changes",
    [
        {"member_since": AS_OF - timedelta(days=89)},
        {"member_since": None},
        {"trades_all_time": 4},
    ],
    ids=["joined-89-days-ago", "joining-date-unknown", "four-trades"],
)
def test_new_members_and_members_with_few_trades_raise_nothing_of_any_kind(changes):
    assert _everyone_flagged(**changes) == {}


def test_90_days_and_5_trades_are_enough():
    found = _everyone_flagged(member_since=AS_OF - timedelta(days=90), trades_all_time=5)
    # latent_need needs a year of membership; every other kind is there.
    assert {f.kind for f in found.values()} == set(FlagKind.values) - {"latent_need"}


def test_a_pair_needs_both_members_past_the_exemptions():
    rows = [member_row(50), member_row(51, trades_all_time=4)]
    pairs = [pair(first_id=50, second_id=51, first_gave=900, second_gave=10, recent_weeks=8)]
    assert period_findings(members=rows, pairs=pairs, ctx=context()) == {}
    assert len(PAIR_RULES) == 2


SAMPLES = {
    "near_limit": {"balance": -1000, "floor": -1200, "limit_used": 0.833, "days_to_floor": 40},
    "overload": {"load_30d": 720, "percentile": 90, "receipts": 1},
    "withdrawal": {"received": 900, "receipts": 6, "last_gave": "2024-11-02"},
    "latent_need": {"gives": 8, "member_since": "2021-03-01"},
    "latent_offer": {"offers_untaken": 2},
    "one_way_pair": {"gave": 600, "gave_back": 30, "share": 0.95, "exchanges": 9},
    "weekly_pair": {"recent_weeks": 7},
    "large_balance": {"balance": 2300, "last_spent": None},
    "outside": {"gives": 4, "receipts": 5},
}

WORDS_OF_DEBT = ("schuld", "debt", "owe", "tekort", "achterstand")


@pytest.mark.parametrize("kind", FlagKind.values)
@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_sentence_names_the_member_and_speaks_of_giving_never_of_debt(kind, language):
    circle = Community(
        unit_kind=UnitKind.TIME,
        unit_singular_en="hour",
        unit_plural_en="hours",
        unit_singular_nl="uur",
        unit_plural_nl="uren",
    )
    with translation.override(language):
        text = flag_sentence(
            community=circle, kind=kind, numbers=SAMPLES[kind], name="Anna", other="Bram"
        )
    assert "Anna" in text
    assert not any(word in text.lower() for word in WORDS_OF_DEBT)
    if kind == "overload":
        assert ("12\u00a0hours" if language == "en" else "12\u00a0uren") in text
