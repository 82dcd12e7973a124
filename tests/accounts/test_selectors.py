"""Tenancy: every read is scoped to a community the reader belongs to."""

import pytest

from accounts import selectors
from accounts.models import Status
from ruilkring.errors import NotAllowed, NotFound
from tests.factories import (
    AreaFactory,
    CommunityFactory,
    CoordinatorFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_a_member_sees_their_own_community_but_another_does_not_exist_for_them():
    mine, theirs = CommunityFactory(), CommunityFactory()
    membership = MembershipFactory(community=mine)
    community, found = selectors.community_for_member_get(user=membership.user, slug=mine.slug)
    assert (community, found) == (mine, membership)
    with pytest.raises(NotFound):
        selectors.community_for_member_get(user=membership.user, slug=theirs.slug)


@pytest.mark.parametrize("status", [Status.APPLIED, Status.LEFT, Status.DECLINED])
def test_applicants_and_former_members_do_not_see_member_pages(status):
    membership = MembershipFactory(status=status)
    with pytest.raises(NotFound):
        selectors.community_for_member_get(user=membership.user, slug=membership.community.slug)


def test_coordinator_pages_are_not_found_outside_and_not_allowed_for_members():
    circle = CommunityFactory()
    member = MembershipFactory(community=circle).user
    coordinator = CoordinatorFactory(community=circle).user
    outsider = CoordinatorFactory().user
    assert selectors.community_for_coordinator_get(user=coordinator, slug=circle.slug) == circle
    with pytest.raises(NotAllowed):
        selectors.community_for_coordinator_get(user=member, slug=circle.slug)
    with pytest.raises(NotFound):
        selectors.community_for_coordinator_get(user=outsider, slug=circle.slug)


def test_a_membership_of_another_community_is_not_found_by_id():
    mine, theirs = CommunityFactory(), CommunityFactory()
    foreign = MembershipFactory(community=theirs)
    with pytest.raises(NotFound):
        selectors.membership_get(community=mine, membership_id=foreign.pk)
    with pytest.raises(NotFound):
        selectors.membership_get(community=mine, membership_id="not-a-number")


def test_the_member_list_holds_only_this_communitys_members_and_filters():
    circle, other = CommunityFactory(), CommunityFactory()
    anna = MembershipFactory(community=circle, user=UserFactory(display_name="Anna Jansen"))
    MembershipFactory(
        community=circle, status=Status.APPLIED, user=UserFactory(display_name="Bram")
    )
    MembershipFactory(community=other, user=UserFactory(display_name="Anna Bakker"))
    assert list(selectors.membership_list(community=circle, search="anna")) == [anna]
    assert [
        m.user.display_name
        for m in selectors.membership_list(community=circle, status=Status.APPLIED)
    ] == ["Bram"]


def test_observer_figures_hide_small_counts_and_never_name_anyone():
    circle = CommunityFactory(name="Sterrenstelsel")
    lombok, oudwijk = (
        AreaFactory(community=circle, name="Lombok"),
        AreaFactory(community=circle, name="Oudwijk"),
    )
    overvecht = AreaFactory(community=circle, name="Overvecht")
    for _ in range(6):
        MembershipFactory(community=circle, area=lombok)
    for _ in range(8):
        MembershipFactory(community=circle, area=overvecht)
    MembershipFactory(community=circle, area=oudwijk)
    MembershipFactory(community=circle, status=Status.APPLIED)
    (aggregate,) = selectors.observer_overview()
    assert aggregate.active_members == 15
    assert aggregate.applications is None, "one application is too few to show"
    assert aggregate.areas == 3
    # Oudwijk's single member is hidden, and so is Lombok, the smallest other
    # area: otherwise 15 - 6 - 8 would give Oudwijk's count away.
    assert aggregate.members_per_area == [("Lombok", None), ("Oudwijk", None), ("Overvecht", 8)]


def test_observer_figures_with_two_small_cells_need_no_extra_hiding():
    circle = CommunityFactory()
    areas = [AreaFactory(community=circle, name=name) for name in ("A", "B", "C")]
    for area, size in zip(areas, (2, 3, 9), strict=True):
        for _ in range(size):
            MembershipFactory(community=circle, area=area)
    (aggregate,) = selectors.observer_overview()
    assert aggregate.members_per_area == [("A", None), ("B", None), ("C", 9)]
