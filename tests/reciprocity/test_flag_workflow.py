"""A flag's steps: every from × to × actor against the table, and every
refusal leaves the flag and its history as they were."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.models import Notification
from reciprocity.flags import DEFAULT_THRESHOLDS, thresholds_of, window_days_of
from reciprocity.models import Flag, FlagEvent, FlagStatus, ReciprocitySettings
from reciprocity.services import flag_step, reciprocity_settings_set
from reciprocity.transitions import FLAG_TRANSITIONS, FlagActor
from ruilkring.errors import InvalidInput, NotAllowed, NotFound, TransitionNotAllowed
from tests.factories import CommunityFactory, CoordinatorFactory, UserFactory

pytestmark = pytest.mark.django_db

STATUSES = FlagStatus.values
TOMORROW = timezone.localdate() + timedelta(days=1)


def make_flag(circle, membership, status=FlagStatus.OPEN, **changes):
    values = {
        "community": circle,
        "membership": membership,
        "kind": "overload",
        "status": status,
        "numbers": {"load_30d": 600},
        "sentence_nl": "Anna gaf veel.",
        "sentence_en": "Anna gave a lot.",
        "period": date(2025, 6, 1),
        "last_seen_period": date(2025, 6, 1),
    }
    values.update(changes)
    return Flag.objects.create(**values)


def state(flag):
    """What a coordinator sees of a flag: its row and its history."""
    return Flag.objects.values().get(pk=flag.pk), list(
        FlagEvent.objects.filter(flag=flag).values_list("pk", flat=True)
    )


def valid_inputs(*, other_coordinator):
    return {
        "note": "Gebeld; het gaat goed.",
        "assignee": other_coordinator,
        "snoozed_until": TOMORROW,
        "outcome": "Ze neemt een maand rust.",
    }


@pytest.mark.parametrize("actor_kind", [FlagActor.COORDINATOR, FlagActor.SYSTEM])
@pytest.mark.parametrize("to_status", STATUSES)
@pytest.mark.parametrize("from_status", STATUSES)
def test_every_step_is_allowed_exactly_as_the_table_says(
    circle, anna, mieke, joost, from_status, to_status, actor_kind
):
    # A snoozed flag's date has come, so the system may wake it; an assigned
    # one is Mieke's, so handing it on goes to Joost.
    flag = make_flag(
        circle,
        anna,
        status=from_status,
        assigned_to=mieke if from_status == FlagStatus.ASSIGNED else None,
        snoozed_until=timezone.localdate() if from_status == FlagStatus.SNOOZED else None,
    )
    actor = mieke if actor_kind == FlagActor.COORDINATOR else None
    before = state(flag)
    allowed = actor_kind in FLAG_TRANSITIONS.get((from_status, to_status), frozenset())
    inputs = valid_inputs(other_coordinator=joost)
    if allowed:
        moved = flag_step(actor=actor, flag=flag, to_status=to_status, **inputs)
        assert moved.status == to_status
        event = FlagEvent.objects.filter(flag=flag).last()
        assert (event.actor, event.from_status, event.to_status) == (actor, from_status, to_status)
        assert event.note
    else:
        with pytest.raises((NotAllowed, TransitionNotAllowed)):
            flag_step(actor=actor, flag=flag, to_status=to_status, **inputs)
        assert state(flag) == before


def test_the_table_has_exactly_the_steps_of_the_workflow():
    S = FlagStatus
    coordinator_steps = {
        step for step, actors in FLAG_TRANSITIONS.items() if "coordinator" in actors
    }
    assert coordinator_steps == {
        (S.OPEN, S.ASSIGNED),
        (S.OPEN, S.CONTACTED),
        (S.ASSIGNED, S.CONTACTED),
        (S.ASSIGNED, S.ASSIGNED),
        (S.OPEN, S.SNOOZED),
        (S.ASSIGNED, S.SNOOZED),
        (S.CONTACTED, S.SNOOZED),
        (S.SNOOZED, S.OPEN),
        *((source, S.RESOLVED) for source in (S.OPEN, S.ASSIGNED, S.CONTACTED, S.SNOOZED)),
    }
    assert {step for step, actors in FLAG_TRANSITIONS.items() if "system" in actors} == {
        (S.SNOOZED, S.OPEN)
    }


@pytest.mark.parametrize("from_status", STATUSES)
@pytest.mark.parametrize("to_status", STATUSES)
def test_a_member_is_refused_and_an_outsider_does_not_see_the_flag(
    circle, anna, joost, from_status, to_status
):
    flag = make_flag(circle, anna, status=from_status)
    before = state(flag)
    inputs = valid_inputs(other_coordinator=joost)
    with pytest.raises(NotAllowed):
        flag_step(actor=anna.user, flag=flag, to_status=to_status, **inputs)
    with pytest.raises(NotFound):
        flag_step(actor=UserFactory(), flag=flag, to_status=to_status, **inputs)
    coordinator_elsewhere = CoordinatorFactory(community=CommunityFactory()).user
    with pytest.raises(NotFound):
        flag_step(actor=coordinator_elsewhere, flag=flag, to_status=to_status, **inputs)
    assert state(flag) == before


def test_the_system_wakes_a_snoozed_flag_only_once_its_date_has_come(circle, anna):
    flag = make_flag(circle, anna, status=FlagStatus.SNOOZED, snoozed_until=TOMORROW)
    before = state(flag)
    with pytest.raises(TransitionNotAllowed):
        flag_step(actor=None, flag=flag, to_status="open")
    assert state(flag) == before


def test_a_coordinator_can_wake_a_snoozed_flag_early(circle, anna, mieke):
    flag = make_flag(circle, anna, status=FlagStatus.SNOOZED, snoozed_until=TOMORROW)
    flag = flag_step(actor=mieke, flag=flag, to_status="open")
    assert (flag.status, flag.snoozed_until) == ("open", None)


def test_a_whole_conversation_is_recorded_step_by_step(circle, anna, mieke, joost):
    flag = make_flag(circle, anna)
    flag = flag_step(actor=mieke, flag=flag, to_status="assigned", assignee=mieke)
    flag = flag_step(
        actor=mieke, flag=flag, to_status="assigned", assignee=joost, note="Jij kent haar."
    )
    flag = flag_step(actor=joost, flag=flag, to_status="contacted", note="Koffie gedronken.")
    flag = flag_step(actor=joost, flag=flag, to_status="snoozed", snoozed_until=TOMORROW)
    flag = flag_step(actor=joost, flag=flag, to_status="resolved", outcome="Gaat weer goed.")
    assert (flag.status, flag.assigned_to, flag.outcome, flag.snoozed_until) == (
        "resolved",
        joost,
        "Gaat weer goed.",
        None,
    )
    steps = list(flag.events.values_list("actor__display_name", "from_status", "to_status", "note"))
    assert steps == [
        ("Mieke", "open", "assigned", ""),
        ("Mieke", "assigned", "assigned", "Jij kent haar."),
        ("Joost", "assigned", "contacted", "Koffie gedronken."),
        ("Joost", "contacted", "snoozed", ""),
        ("Joost", "snoozed", "resolved", "Gaat weer goed."),
    ]
    assert not Notification.objects.filter(user=anna.user).exists()


@pytest.mark.parametrize(
    ("from_status", "to_status", "inputs", "field"),
    [
        ("open", "contacted", {"note": "   "}, "note"),
        ("open", "snoozed", {}, "snoozed_until"),
        ("open", "snoozed", {"snoozed_until": "2099-01-01"}, "snoozed_until"),
        ("open", "snoozed", {"snoozed_until": timezone.localdate()}, "snoozed_until"),
        ("open", "snoozed", {"snoozed_until": date(2020, 1, 1)}, "snoozed_until"),
        ("open", "resolved", {"outcome": ""}, "outcome"),
        ("open", "assigned", {}, "assignee"),
        ("open", "contacted", {"note": "x" * 2001}, "note"),
        ("open", "nonsense", {}, "status"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_changes_nothing(
    circle, anna, mieke, from_status, to_status, inputs, field
):
    flag = make_flag(circle, anna, status=from_status)
    before = state(flag)
    with pytest.raises(InvalidInput) as refused:
        flag_step(actor=mieke, flag=flag, to_status=to_status, **inputs)
    assert refused.value.field == field
    assert str(refused.value)
    assert state(flag) == before


def test_only_a_coordinator_of_this_circle_can_be_assigned(circle, anna, mieke):
    flag = make_flag(circle, anna)
    before = state(flag)
    elsewhere = CoordinatorFactory(community=CommunityFactory()).user
    for assignee in (anna.user, elsewhere):
        with pytest.raises(InvalidInput, match="not a coordinator"):
            flag_step(actor=mieke, flag=flag, to_status="assigned", assignee=assignee)
    assert state(flag) == before


def test_handing_on_needs_another_coordinator(circle, anna, mieke):
    flag = make_flag(circle, anna, status="assigned", assigned_to=mieke)
    before = state(flag)
    with pytest.raises(InvalidInput, match="already"):
        flag_step(actor=mieke, flag=flag, to_status="assigned", assignee=mieke)
    assert state(flag) == before


# -- The circle's window and thresholds -------------------------------------------


def test_a_coordinator_sets_the_window_and_only_changed_thresholds_are_kept(circle, mieke):
    reciprocity_settings_set(
        actor=mieke,
        community=circle,
        window_days=180,
        thresholds={"weekly_weeks": 5, "min_trades": 5, "near_limit_share": 0.7},
    )
    row = ReciprocitySettings.objects.get(community=circle)
    assert row.thresholds == {"weekly_weeks": 5, "near_limit_share": 0.7}
    assert window_days_of(community=circle) == 180
    chosen = thresholds_of(community=circle)
    assert (chosen["weekly_weeks"], chosen["near_limit_share"]) == (5, 0.7)
    assert chosen["min_trades"] == DEFAULT_THRESHOLDS["min_trades"]


@pytest.mark.parametrize(
    ("window_days", "thresholds", "field"),
    [
        (29, {}, "window_days"),
        (5000, {}, "window_days"),
        ("365", {}, "window_days"),
        (365, {"weekly_weeks": 9}, "weekly_weeks"),
        (365, {"near_limit_share": 1.5}, "near_limit_share"),
        (365, {"min_trades": 2.5}, "min_trades"),
        (365, {"min_trades": "5"}, "min_trades"),
        (365, {"whatever": 1}, "whatever"),
    ],
)
def test_settings_out_of_range_are_refused_and_change_nothing(
    circle, mieke, window_days, thresholds, field
):
    reciprocity_settings_set(actor=mieke, community=circle, window_days=200, thresholds={})
    before = ReciprocitySettings.objects.values().get()
    with pytest.raises(InvalidInput) as refused:
        reciprocity_settings_set(
            actor=mieke, community=circle, window_days=window_days, thresholds=thresholds
        )
    assert refused.value.field == field
    assert ReciprocitySettings.objects.values().get() == before


def test_members_cannot_change_the_thresholds_and_outsiders_do_not_see_them(circle, anna):
    with pytest.raises(NotAllowed):
        reciprocity_settings_set(actor=anna.user, community=circle, window_days=200, thresholds={})
    with pytest.raises(NotFound):
        reciprocity_settings_set(
            actor=UserFactory(), community=circle, window_days=200, thresholds={}
        )
    assert not ReciprocitySettings.objects.exists()
    assert window_days_of(community=circle) == 365
