"""Coordinators see who could help with a request, and put it to them."""

import pytest
from django.urls import reverse

from accounts.models import Status
from listings.models import Exchange, ExchangeStatus
from listings.selectors import match_suggestions
from tests.factories import AreaFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def oost(circle):
    return AreaFactory(community=circle, name="Oost")


def names(suggestions):
    return [s.member.user.display_name for s in suggestions]


def test_helpers_with_an_offer_in_the_category_come_first_from_the_same_area(
    anna, member_factory, oost, circle, place
):
    anna.area = oost
    anna.save()
    bram, carla, dirk = (member_factory(name) for name in ("Bram", "Carla", "Dirk"))
    carla.area = oost
    carla.save()
    request = place(owner=anna, kind="request", title="Wie snoeit mijn heg?")
    place(owner=bram, title="Tuinhulp")
    place(owner=carla, title="Snoeien")
    place(
        owner=dirk,
        title="Computerhulp",
        category=next(
            c
            for c in request.category.community.categories.all()
            if c.name_en == "Computers and phones"
        ),
    )
    assert names(match_suggestions(listing=request)) == ["Carla", "Bram"]


def test_neighbours_are_left_out_when_either_side_asks_and_so_are_the_excluded(
    anna, member_factory, oost, place, settings
):
    anna.area = oost
    anna.save()
    carla = member_factory("Carla")
    carla.area = oost
    carla.save()
    bram = member_factory("Bram")
    place(owner=carla, title="Snoeien", not_for_neighbours=True)
    place(owner=bram, title="Tuinhulp")
    request = place(owner=anna, kind="request", title="Heg")
    assert names(match_suggestions(listing=request)) == ["Bram"]
    settings.RUILKRING_MATCHING_EXCLUDE = ["tests.listings.test_matching.exclude_bram"]
    assert names(match_suggestions(listing=request)) == []


def exclude_bram(*, community):
    return community.memberships.filter(user__display_name="Bram").values_list("pk", flat=True)


def test_suspended_members_are_not_suggested(anna, member_factory, place):
    paused = member_factory("Els")
    place(owner=paused, title="Tuinhulp")
    paused.status = Status.SUSPENDED
    paused.save()
    assert match_suggestions(listing=place(owner=anna, kind="request", title="Heg")) == []


def test_a_coordinator_proposes_the_request_to_a_helper_on_the_page(
    client, anna, member_factory, coordinator, circle, place
):
    bram = member_factory("Bram")
    place(owner=bram, title="Tuinhulp")
    request = place(owner=anna, kind="request", title="Wie snoeit mijn heg?")
    client.force_login(coordinator)
    page = client.get(reverse("listings:detail", args=[circle.slug, request.pk])).content.decode()
    assert "Propose to Bram" in page
    client.post(reverse("listings:match", args=[circle.slug, request.pk]), {"provider": bram.pk})
    exchange = Exchange.objects.get()
    assert (exchange.provider, exchange.receiver, exchange.status) == (
        bram,
        anna,
        ExchangeStatus.PROPOSED,
    )
    client.force_login(anna.user)
    assert (
        "Propose to"
        not in client.get(
            reverse("listings:detail", args=[circle.slug, request.pk])
        ).content.decode()
    )
    assert (
        client.post(
            reverse("listings:match", args=[circle.slug, request.pk]), {"provider": bram.pk}
        ).status_code
        == 403
    )
    assert Exchange.objects.count() == 1
