"""Every status × actor × target: the table decides, and a refused step changes nothing."""

import itertools

import pytest

from listings import services
from listings.models import Listing, ListingEvent, ListingStatus
from listings.transitions import LISTING_TRANSITIONS, ListingActor, listing_targets
from ruilkring.errors import NotAllowed, TransitionNotAllowed

pytestmark = pytest.mark.django_db


def test_every_step_in_the_table_names_known_statuses_and_actors():
    for (source, target), actors in LISTING_TRANSITIONS.items():
        assert {source, target} <= set(ListingStatus.values)
        assert source != target
        assert actors and actors <= set(ListingActor.values)


def test_listing_targets_follow_the_table():
    assert listing_targets(from_status="active", actor="owner") == ["paused", "removed"]
    assert listing_targets(from_status="removed", actor="owner") == []
    assert listing_targets(from_status="removed", actor="coordinator") == ["active"]
    assert listing_targets(from_status="paused", actor="system") == ["expired"]


@pytest.mark.parametrize(
    ("source", "target", "actor"),
    list(
        itertools.product(
            ListingStatus.values,
            ListingStatus.values,
            [ListingActor.OWNER, ListingActor.COORDINATOR, ListingActor.SYSTEM],
        )
    ),
)
def test_a_step_is_taken_exactly_when_the_table_allows_it(
    anna, coordinator, place, source, target, actor
):
    listing = place()
    Listing.objects.filter(pk=listing.pk).update(status=source)
    listing.refresh_from_db()
    events_before = ListingEvent.objects.count()
    person = {"owner": anna.user, "coordinator": coordinator, "system": None}[actor]
    allowed = actor in LISTING_TRANSITIONS.get((source, target), frozenset())
    if allowed:
        changed = services.listing_status_change(
            actor=person, listing=listing, to_status=target, note="Met reden."
        )
        assert changed.status == target
        event = ListingEvent.objects.latest("pk")
        assert (event.from_status, event.to_status, event.actor) == (source, target, person)
        return
    expected = TransitionNotAllowed if (source, target) not in LISTING_TRANSITIONS else NotAllowed
    with pytest.raises(expected):
        services.listing_status_change(
            actor=person, listing=listing, to_status=target, note="Met reden."
        )
    assert Listing.objects.get(pk=listing.pk).status == source
    assert ListingEvent.objects.count() == events_before
