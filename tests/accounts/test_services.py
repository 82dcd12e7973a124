"""Membership rules, told as what happens in a circle."""

import pytest
from django.core import mail

from accounts import services
from accounts.models import Community, Membership, MembershipEvent, Role, Status
from ruilkring.errors import InvalidInput, NotAllowed, NotFound, TransitionNotAllowed
from tests.factories import (
    AreaFactory,
    CommunityFactory,
    CoordinatorFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle():
    return CommunityFactory(name="Sterrenstelsel", slug="sterrenstelsel")


@pytest.fixture
def coordinator(circle):
    return CoordinatorFactory(community=circle).user


def _snapshot(membership: Membership) -> tuple:
    membership.refresh_from_db()
    return (membership.status, membership.role, MembershipEvent.objects.count())


def test_anna_applies_and_a_coordinator_admits_her_with_events_and_a_welcome_mail(
    circle, coordinator, django_capture_on_commit_callbacks
):
    anna = UserFactory(display_name="Anna", email="anna@example.org")
    membership = services.membership_apply(user=anna, community=circle, note="Ik tuinier graag.")
    assert membership.status == Status.APPLIED
    assert membership.joined_at is None

    with django_capture_on_commit_callbacks(execute=True):
        services.membership_status_change(
            actor=coordinator, membership=membership, to_status=Status.ACTIVE
        )

    membership.refresh_from_db()
    assert membership.status == Status.ACTIVE
    assert membership.joined_at is not None
    events = list(membership.events.order_by("created_at", "id"))
    assert [(e.from_value, e.to_value, e.actor) for e in events] == [
        ("", Status.APPLIED, anna),
        (Status.APPLIED, Status.ACTIVE, coordinator),
    ]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["anna@example.org"]
    assert "Welcome to Sterrenstelsel" in mail.outbox[0].subject


def test_the_welcome_mail_is_in_the_members_own_language(
    circle, coordinator, django_capture_on_commit_callbacks
):
    bram = UserFactory(language="nl", email="bram@example.org")
    membership = services.membership_apply(user=bram, community=circle)
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_status_change(
            actor=coordinator, membership=membership, to_status=Status.ACTIVE
        )
    assert "Welkom bij Sterrenstelsel" in mail.outbox[0].subject


def test_a_circle_that_admits_everyone_admits_at_once_by_the_system(coordinator):
    open_circle = CommunityFactory(requires_approval=False)
    person = UserFactory()
    membership = services.membership_apply(user=person, community=open_circle)
    assert membership.status == Status.ACTIVE
    last = membership.events.order_by("-id").first()
    assert last.actor is None
    assert (last.from_value, last.to_value) == (Status.APPLIED, Status.ACTIVE)


def test_applying_twice_is_refused_and_changes_nothing(circle):
    person = UserFactory()
    services.membership_apply(user=person, community=circle)
    before = MembershipEvent.objects.count()
    with pytest.raises(TransitionNotAllowed, match="already applied"):
        services.membership_apply(user=person, community=circle)
    assert Membership.objects.filter(user=person).count() == 1
    assert MembershipEvent.objects.count() == before


def test_an_active_member_cannot_apply_again(circle):
    membership = MembershipFactory(community=circle)
    with pytest.raises(TransitionNotAllowed, match="already a member"):
        services.membership_apply(user=membership.user, community=circle)


def test_applying_with_an_area_of_another_circle_is_refused(circle):
    other_area = AreaFactory()
    with pytest.raises(InvalidInput):
        services.membership_apply(user=UserFactory(), community=circle, area=other_area)
    assert not Membership.objects.filter(community=circle).exists()


def test_declining_needs_a_reason_and_then_the_applicant_may_apply_again(circle, coordinator):
    person = UserFactory()
    membership = services.membership_apply(user=person, community=circle)
    with pytest.raises(InvalidInput, match="reason"):
        services.membership_status_change(
            actor=coordinator, membership=membership, to_status=Status.DECLINED
        )
    assert _snapshot(membership)[0] == Status.APPLIED

    services.membership_status_change(
        actor=coordinator,
        membership=membership,
        to_status=Status.DECLINED,
        reason="We are full for now.",
    )
    membership = services.membership_apply(user=person, community=circle)
    assert membership.status == Status.APPLIED


def test_left_cannot_go_back_to_active_without_reapplying(circle, coordinator):
    membership = MembershipFactory(community=circle, status=Status.LEFT)
    before = _snapshot(membership)
    with pytest.raises(TransitionNotAllowed, match="cannot go from"):
        services.membership_status_change(
            actor=coordinator, membership=membership, to_status=Status.ACTIVE, reason="Back"
        )
    assert _snapshot(membership) == before


def test_a_member_cannot_admit_someone(circle):
    applicant = services.membership_apply(user=UserFactory(), community=circle)
    fellow_member = MembershipFactory(community=circle).user
    before = _snapshot(applicant)
    with pytest.raises(NotAllowed):
        services.membership_status_change(
            actor=fellow_member, membership=applicant, to_status=Status.ACTIVE
        )
    assert _snapshot(applicant) == before


def test_nobody_admits_themselves(circle, coordinator):
    applicant = services.membership_apply(user=UserFactory(), community=circle)
    with pytest.raises(NotAllowed):
        services.membership_status_change(
            actor=applicant.user, membership=applicant, to_status=Status.ACTIVE
        )


def test_a_coordinator_of_another_circle_gets_not_found(circle):
    membership = MembershipFactory(community=circle)
    stranger = CoordinatorFactory().user
    before = _snapshot(membership)
    with pytest.raises(NotFound):
        services.membership_status_change(
            actor=stranger, membership=membership, to_status=Status.SUSPENDED, reason="x"
        )
    assert _snapshot(membership) == before


def test_an_unknown_status_is_refused(circle, coordinator):
    membership = MembershipFactory(community=circle)
    with pytest.raises(InvalidInput, match="Unknown status"):
        services.membership_status_change(
            actor=coordinator, membership=membership, to_status="banished", reason="x"
        )


def test_a_member_can_start_leaving_and_change_their_mind(
    circle, django_capture_on_commit_callbacks
):
    membership = MembershipFactory(community=circle)
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_status_change(
            actor=membership.user, membership=membership, to_status=Status.LEAVING
        )
        services.membership_status_change(
            actor=membership.user, membership=membership, to_status=Status.ACTIVE
        )
    assert _snapshot(membership)[0] == Status.ACTIVE
    assert len(mail.outbox) == 0, "a member's own steps send them no mail"


def test_the_coordinator_closes_a_leaving_membership_with_a_reason(circle, coordinator):
    membership = MembershipFactory(community=circle, status=Status.LEAVING)
    services.membership_status_change(
        actor=coordinator, membership=membership, to_status=Status.LEFT, reason="Moved away"
    )
    membership.refresh_from_db()
    assert membership.status == Status.LEFT
    assert membership.left_at is not None
    assert membership.events.get().reason == "Moved away"


def test_suspension_and_return_need_a_coordinator_and_a_reason(circle, coordinator):
    membership = MembershipFactory(community=circle)
    with pytest.raises(NotAllowed):
        services.membership_status_change(
            actor=membership.user, membership=membership, to_status=Status.SUSPENDED
        )
    services.membership_status_change(
        actor=coordinator, membership=membership, to_status=Status.SUSPENDED, reason="A pause"
    )
    with pytest.raises(NotAllowed):
        services.membership_status_change(
            actor=membership.user, membership=membership, to_status=Status.ACTIVE
        )
    services.membership_status_change(
        actor=coordinator, membership=membership, to_status=Status.ACTIVE, reason="Talked it over"
    )
    assert _snapshot(membership)[0] == Status.ACTIVE


def test_the_last_coordinator_cannot_leave_or_step_down(circle):
    only = CoordinatorFactory(community=circle)
    before = _snapshot(only)
    with pytest.raises(TransitionNotAllowed, match="only coordinator"):
        services.membership_status_change(
            actor=only.user, membership=only, to_status=Status.LEAVING
        )
    with pytest.raises(TransitionNotAllowed, match="only coordinator"):
        services.membership_role_change(
            actor=only.user, membership=only, to_role=Role.MEMBER, reason="Tired"
        )
    assert _snapshot(only) == before


def test_a_coordinator_makes_a_member_coordinator_and_then_may_step_down(
    circle, coordinator, django_capture_on_commit_callbacks
):
    coordinator_membership = Membership.objects.get(user=coordinator, community=circle)
    member = MembershipFactory(community=circle)
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_role_change(
            actor=coordinator, membership=member, to_role=Role.COORDINATOR, reason="Kernteam"
        )
        services.membership_role_change(
            actor=coordinator,
            membership=coordinator_membership,
            to_role=Role.MEMBER,
            reason="Handing over",
        )
    member.refresh_from_db()
    coordinator_membership.refresh_from_db()
    assert member.role == Role.COORDINATOR
    assert coordinator_membership.role == Role.MEMBER
    assert len(mail.outbox) == 1, "the new coordinator hears of it; stepping down sends no mail"


@pytest.mark.parametrize(
    ("to_role", "reason", "error"),
    [("king", "x", InvalidInput), (Role.COORDINATOR, "  ", InvalidInput)],
)
def test_role_change_with_bad_input_changes_nothing(circle, coordinator, to_role, reason, error):
    member = MembershipFactory(community=circle)
    before = _snapshot(member)
    with pytest.raises(error):
        services.membership_role_change(
            actor=coordinator, membership=member, to_role=to_role, reason=reason
        )
    assert _snapshot(member) == before


def test_a_member_cannot_change_roles(circle, coordinator):
    member = MembershipFactory(community=circle)
    with pytest.raises(NotAllowed):
        services.membership_role_change(
            actor=member.user, membership=member, to_role=Role.COORDINATOR, reason="Please"
        )


def test_only_an_active_members_role_changes(circle, coordinator):
    suspended = MembershipFactory(community=circle, status=Status.SUSPENDED)
    with pytest.raises(TransitionNotAllowed):
        services.membership_role_change(
            actor=coordinator, membership=suspended, to_role=Role.COORDINATOR, reason="x"
        )


def test_community_create_refuses_a_taken_slug_and_an_empty_unit_name():
    admin = UserFactory(is_superuser=True, is_staff=True)
    CommunityFactory(slug="niksen")
    values = {
        "name": "Niksen",
        "slug": "niksen",
        "unit_singular_nl": "nikse",
        "unit_plural_nl": "niksen",
        "unit_singular_en": "nikse",
        "unit_plural_en": "niksen",
    }
    with pytest.raises(InvalidInput, match="web address") as taken:
        services.community_create(actor=admin, **values)
    assert taken.value.field == "slug"
    with pytest.raises(InvalidInput, match="unit name") as empty:
        services.community_create(actor=admin, **{**values, "slug": "new", "unit_plural_en": " "})
    assert empty.value.field == "unit_plural_en"
    assert Community.objects.count() == 1


def test_community_create_makes_the_first_coordinator_and_needs_an_administrator():
    admin = UserFactory(is_superuser=True)
    first = UserFactory()
    values = {
        "name": "Niksen",
        "slug": "niksen",
        "unit_singular_nl": "nikse",
        "unit_plural_nl": "niksen",
        "unit_singular_en": "nikse",
        "unit_plural_en": "niksen",
    }
    with pytest.raises(NotAllowed):
        services.community_create(actor=first, **values)
    community = services.community_create(actor=admin, first_coordinator=first, **values)
    membership = Membership.objects.get(community=community, user=first)
    assert membership.is_coordinator
    assert membership.events.get().actor == admin


def test_community_update_by_a_member_is_refused(circle):
    member = MembershipFactory(community=circle).user
    with pytest.raises(NotAllowed):
        services.community_update(actor=member, community=circle, name="Mine now")
    circle.refresh_from_db()
    assert circle.name == "Sterrenstelsel"


def test_community_update_refuses_a_positive_credit_limit(circle, coordinator):
    with pytest.raises(InvalidInput, match="zero or below"):
        services.community_update(actor=coordinator, community=circle, default_floor=60)
    circle.refresh_from_db()
    assert circle.default_floor == -20 * 60


def test_area_names_are_unique_per_circle_ignoring_case(circle, coordinator):
    services.area_create(actor=coordinator, community=circle, name="Lombok")
    with pytest.raises(InvalidInput, match="already has an area"):
        services.area_create(actor=coordinator, community=circle, name="lombok")
    other = CommunityFactory()
    other_coordinator = CoordinatorFactory(community=other).user
    services.area_create(actor=other_coordinator, community=other, name="Lombok")


def test_the_member_sets_their_area_and_it_is_recorded(circle):
    lombok = AreaFactory(community=circle, name="Lombok")
    member = MembershipFactory(community=circle)
    services.membership_area_change(actor=member.user, membership=member, area=lombok)
    member.refresh_from_db()
    assert member.area == lombok
    assert member.events.get().to_value == "Lombok"
