"""Raising flags and alerts from stored snapshots, month after month.

Anna's snapshots are stored by hand for May and June; ``flags_evaluate`` reads
them as the nightly analysis leaves them."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.models import Notification
from listings import services as listing_services
from listings.selectors import match_suggestions
from reciprocity.flags import flags_evaluate, overloaded_memberships
from reciprocity.models import (
    AlertKind,
    CommunityAlert,
    CommunitySnapshot,
    Flag,
    FlagEvent,
    FlagStatus,
    Scope,
)
from reciprocity.services import flag_step
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.reciprocity.flag_builders import PERIOD, PREVIOUS, TRIGGERS, store_member, store_pair

pytestmark = pytest.mark.django_db

JULY = date(2025, 7, 1)


def member(circle, name):
    return MembershipFactory(community=circle, user=UserFactory(display_name=name))


@pytest.fixture
def anna(circle):
    return member(circle, "Anna")


def overloaded(circle, membership, periods=(PREVIOUS, PERIOD), **changes):
    for period in periods:
        store_member(
            community=circle, membership=membership, period=period, **TRIGGERS["overload"] | changes
        )
    # Others who gave, so that the 90th percentile of loads means something.
    return membership


def givers(circle, periods=(PREVIOUS, PERIOD, JULY)):
    """Others who gave, so that the 90th percentile of loads means something."""
    others = [member(circle, f"Lid {n}") for n in range(9)]
    for period in periods:
        for index, other in enumerate(others):
            store_member(community=circle, membership=other, period=period, load_30d=30 + index)
    return others


def test_a_condition_in_one_month_only_raises_nothing(circle, anna):
    givers(circle)
    store_member(community=circle, membership=anna, period=PREVIOUS)
    store_member(community=circle, membership=anna, period=PERIOD, **TRIGGERS["overload"])
    flags_evaluate(community=circle, period=PERIOD)
    assert not Flag.objects.exists()


def test_without_the_month_before_nothing_is_raised(circle, anna):
    givers(circle)
    overloaded(circle, anna, periods=(PERIOD,))
    flags_evaluate(community=circle, period=PERIOD)
    assert not Flag.objects.exists()


def test_two_months_in_a_row_raise_an_open_flag_with_its_reasons(circle, anna):
    givers(circle)
    overloaded(circle, anna)
    flags_evaluate(community=circle, period=PERIOD)
    flag = Flag.objects.get()
    assert (flag.membership, flag.kind, flag.status) == (anna, "overload", FlagStatus.OPEN)
    assert (flag.period, flag.last_seen_period) == (PERIOD, PERIOD)
    assert flag.numbers["load_30d"] == 420
    assert "Anna" in flag.sentence_en and "Anna" in flag.sentence_nl
    assert "7\u00a0hours" in flag.sentence_en  # 420 minutes given in the last 30 days
    event = flag.events.get()
    assert (event.actor, event.from_status, event.to_status) == (None, "", FlagStatus.OPEN)


def test_evaluating_the_same_month_again_changes_nothing(circle, anna):
    givers(circle)
    overloaded(circle, anna)
    flags_evaluate(community=circle, period=PERIOD)
    flags_evaluate(community=circle, period=PERIOD)
    assert Flag.objects.count() == 1
    assert FlagEvent.objects.count() == 1


def test_a_flag_that_still_holds_gets_the_new_numbers_and_keeps_its_status(
    circle, anna, coordinator
):
    givers(circle)
    overloaded(circle, anna)
    flags_evaluate(community=circle, period=PERIOD)
    flag = flag_step(
        actor=coordinator, flag=Flag.objects.get(), to_status="assigned", assignee=coordinator
    )
    overloaded(circle, anna, periods=(JULY,), load_30d=600)
    flags_evaluate(community=circle, period=JULY)
    flag.refresh_from_db()
    assert (flag.status, flag.period, flag.last_seen_period) == ("assigned", PERIOD, JULY)
    assert flag.numbers["load_30d"] == 600
    assert "10\u00a0hours" in flag.sentence_en
    assert flag.events.count() == 2


def test_a_flag_whose_condition_is_gone_stays_as_it_was(circle, anna):
    givers(circle)
    overloaded(circle, anna)
    flags_evaluate(community=circle, period=PERIOD)
    before = Flag.objects.values().get()
    store_member(community=circle, membership=anna, period=JULY)
    flags_evaluate(community=circle, period=JULY)
    assert Flag.objects.values().get() == before
    assert FlagEvent.objects.count() == 1


def test_nothing_reaches_the_member(circle, anna, coordinator):
    givers(circle)
    overloaded(circle, anna)
    store_member(community=circle, membership=anna, period=JULY, **TRIGGERS["near_limit"])
    flags_evaluate(community=circle, period=PERIOD)
    flags_evaluate(community=circle, period=JULY)
    assert Flag.objects.filter(membership=anna).exists()
    assert not Notification.objects.filter(user=anna.user).exists()
    anna.refresh_from_db()
    assert anna.status == "active"


def test_a_snoozed_flag_comes_back_when_its_date_has_come(circle, anna, coordinator):
    givers(circle)
    overloaded(circle, anna)
    flags_evaluate(community=circle, period=PERIOD)
    flag = flag_step(
        actor=coordinator,
        flag=Flag.objects.get(),
        to_status="snoozed",
        snoozed_until=timezone.localdate() + timedelta(days=3),
    )
    flags_evaluate(community=circle, period=PERIOD)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.SNOOZED
    Flag.objects.filter(pk=flag.pk).update(snoozed_until=timezone.localdate())
    flags_evaluate(community=circle, period=PERIOD)
    flag.refresh_from_db()
    assert (flag.status, flag.snoozed_until) == (FlagStatus.OPEN, None)
    woke = flag.events.last()
    assert (woke.actor, woke.from_status, woke.to_status) == (None, "snoozed", "open")


def test_a_resolved_flag_is_raised_again_only_after_two_whole_months(circle, anna, coordinator):
    # Resolved on 20 June while the numbers stay the same: June is not a whole
    # month after it, so July and August must both hold first.
    august = date(2025, 8, 1)
    givers(circle, periods=(PREVIOUS, PERIOD, JULY, august))
    overloaded(circle, anna, periods=(PREVIOUS, PERIOD, JULY, august))
    flags_evaluate(community=circle, period=PERIOD)
    flag = flag_step(
        actor=coordinator, flag=Flag.objects.get(), to_status="resolved", outcome="Rust genomen."
    )
    Flag.objects.filter(pk=flag.pk).update(
        updated_at=timezone.make_aware(timezone.datetime(2025, 6, 20, 12))
    )
    flags_evaluate(community=circle, period=PERIOD)
    flags_evaluate(community=circle, period=JULY)
    assert Flag.objects.count() == 1
    flags_evaluate(community=circle, period=august)
    again = Flag.objects.exclude(pk=flag.pk).get()
    assert (again.status, again.period) == (FlagStatus.OPEN, august)


def test_new_members_are_not_flagged_for_anything(circle):
    young = []
    for kind, changes in TRIGGERS.items():
        newcomer = member(circle, kind)
        young.append(newcomer)
        for period in (PREVIOUS, PERIOD):
            joined = period - timedelta(days=40)
            store_member(
                community=circle, membership=newcomer, period=period, member_since=joined, **changes
            )
    one, other = young[:2]
    for period in (PREVIOUS, PERIOD):
        store_pair(
            community=circle,
            one=one,
            other=other,
            period=period,
            first_gave=900,
            second_gave=0,
            recent_weeks=8,
        )
    flags_evaluate(community=circle, period=PERIOD)
    assert not Flag.objects.exists()


def test_every_kind_is_raised_for_established_members(circle):
    established = []
    for kind, changes in TRIGGERS.items():
        someone = member(circle, kind)
        established.append(someone)
        for period in (PREVIOUS, PERIOD):
            store_member(community=circle, membership=someone, period=period, **changes)
    one, other = established[:2]
    for period in (PREVIOUS, PERIOD):
        store_pair(
            community=circle,
            one=one,
            other=other,
            period=period,
            first_gave=900,
            second_gave=0,
            recent_weeks=8,
        )
    givers(circle)
    flags_evaluate(community=circle, period=PERIOD)
    kinds = set(Flag.objects.values_list("kind", flat=True))
    assert kinds == {*TRIGGERS, "one_way_pair", "weekly_pair"}


def test_a_pair_whose_helper_changes_sides_keeps_one_flag(circle):
    one, other = member(circle, "Anna"), member(circle, "Bram")
    for period in (PREVIOUS, PERIOD, JULY):
        store_member(community=circle, membership=one, period=period)
        store_member(community=circle, membership=other, period=period)
    store_pair(community=circle, one=one, other=other, period=PREVIOUS, recent_weeks=7)
    store_pair(community=circle, one=one, other=other, period=PERIOD, recent_weeks=7)
    store_pair(community=circle, one=one, other=other, period=JULY, recent_weeks=8, first_gave=10)
    flags_evaluate(community=circle, period=PERIOD)
    flags_evaluate(community=circle, period=JULY)
    flag = Flag.objects.get()
    assert (flag.kind, flag.last_seen_period, flag.numbers["recent_weeks"]) == (
        "weekly_pair",
        JULY,
        8,
    )


def test_overloaded_members_are_left_out_of_matching_until_resolved(circle, anna, coordinator):
    helper = member(circle, "Bram")
    garden = next(
        c
        for c in listing_services.categories_ensure(community=circle)
        if c.name_en == "Garden and plants"
    )
    listing = dict(category=garden, help_type="practical", description="Snoeien en wieden.")
    listing_services.listing_create(
        actor=helper.user, owner=helper, kind="offer", title="Tuinhulp", **listing
    )
    request = listing_services.listing_create(
        actor=anna.user, owner=anna, kind="request", title="Heg", **listing
    )
    assert [s.member for s in match_suggestions(listing=request)] == [helper]
    givers(circle)
    overloaded(circle, helper)
    flags_evaluate(community=circle, period=PERIOD)
    assert overloaded_memberships(community=circle) == {helper.pk}
    assert match_suggestions(listing=request) == []
    flag_step(actor=coordinator, flag=Flag.objects.get(), to_status="resolved", outcome="Gesprek.")
    assert overloaded_memberships(community=circle) == set()
    assert [s.member for s in match_suggestions(listing=request)] == [helper]


def test_other_kinds_and_other_circles_do_not_leave_anyone_out(circle, anna):
    elsewhere = CommunityFactory()
    givers(circle)
    store_member(community=circle, membership=anna, period=PREVIOUS, **TRIGGERS["near_limit"])
    store_member(community=circle, membership=anna, period=PERIOD, **TRIGGERS["near_limit"])
    flags_evaluate(community=circle, period=PERIOD)
    assert Flag.objects.filter(kind="near_limit").exists()
    assert overloaded_memberships(community=circle) == set()
    assert overloaded_memberships(community=elsewhere) == set()


# -- Community alerts -------------------------------------------------------------

MARCH = date(2025, 3, 1)


def circle_month(circle, period, **changes):
    values = {"W": 1000, "C": 300, "giant_scc_share": 0.8, "members": 100, "near_limit_members": 5}
    values.update(changes)
    return CommunitySnapshot.objects.create(
        community=circle, period=period, scope=Scope.WINDOW, as_of=period, **values
    )


@pytest.mark.parametrize(
    ("kind", "earlier", "now"),
    [
        (AlertKind.CIRCULATION_FALLING, {"C": 300}, {"C": 239}),
        (AlertKind.GIANT_FALLING, {"giant_scc_share": 0.8}, {"giant_scc_share": 0.74}),
        (AlertKind.NEAR_LIMIT_RISING, {"near_limit_members": 5}, {"near_limit_members": 11}),
    ],
)
def test_a_quarter_on_quarter_change_over_the_threshold_raises_one_alert(
    circle, kind, earlier, now
):
    circle_month(circle, MARCH, **earlier)
    circle_month(circle, PERIOD, **now)
    flags_evaluate(community=circle, period=PERIOD)
    flags_evaluate(community=circle, period=PERIOD)
    alert = CommunityAlert.objects.get()
    assert (alert.kind, alert.period) == (kind, PERIOD)
    assert alert.sentence_en and alert.sentence_nl
    assert "debt" not in alert.sentence_en.lower()


@pytest.mark.parametrize(
    ("earlier", "now"),
    [
        ({"C": 300}, {"C": 250}),  # exactly 5 points less
        ({"giant_scc_share": 0.8}, {"giant_scc_share": 0.75}),
        ({"near_limit_members": 5}, {"near_limit_members": 10}),
        ({"C": 300}, {"C": 400}),  # more circulation is good news
    ],
)
def test_a_change_within_the_threshold_raises_no_alert(circle, earlier, now):
    circle_month(circle, MARCH, **earlier)
    circle_month(circle, PERIOD, **now)
    flags_evaluate(community=circle, period=PERIOD)
    assert not CommunityAlert.objects.exists()


def test_an_alert_compares_with_three_months_before_not_the_month_before(circle):
    circle_month(circle, date(2025, 5, 1), C=100)
    circle_month(circle, MARCH, C=250)
    circle_month(circle, PERIOD, C=220)
    flags_evaluate(community=circle, period=PERIOD)
    assert not CommunityAlert.objects.exists()


def test_an_alert_is_updated_and_goes_when_the_month_is_analysed_again(circle):
    circle_month(circle, MARCH, C=300)
    june = circle_month(circle, PERIOD, C=200)
    flags_evaluate(community=circle, period=PERIOD)
    assert CommunityAlert.objects.get().numbers["now"] == pytest.approx(0.2)
    CommunitySnapshot.objects.filter(pk=june.pk).update(C=150)
    flags_evaluate(community=circle, period=PERIOD)
    assert CommunityAlert.objects.get().numbers["now"] == pytest.approx(0.15)
    CommunitySnapshot.objects.filter(pk=june.pk).update(C=290)
    flags_evaluate(community=circle, period=PERIOD)
    assert not CommunityAlert.objects.exists()
