"""Every status × actor × target: the table decides, and a refused step changes nothing."""

import itertools

import pytest

from listings import services
from listings.models import ExchangeStatus, Listing, ListingEvent, ListingStatus
from listings.transitions import (
    EXCHANGE_TRANSITIONS,
    LISTING_TRANSITIONS,
    ExchangeParty,
    ListingActor,
    exchange_step_roles,
    listing_targets,
)
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


# -- Exchanges: the table itself (every state x actor x target is walked in
# -- test_exchanges.py) ---------------------------------------------------------


def test_every_exchange_step_names_known_statuses_and_parties():
    for (source, target), actors in EXCHANGE_TRANSITIONS.items():
        assert {source, target} <= set(ExchangeStatus.values)
        assert source != target
        assert actors and actors <= set(ExchangeParty.values)


def test_a_payment_waiting_for_approval_has_its_way_in_and_its_ways_out():
    S, P = ExchangeStatus, ExchangeParty
    into_review = {
        key: actors for key, actors in EXCHANGE_TRANSITIONS.items() if key[1] == S.REVIEW
    }
    assert into_review == {(S.ACCEPTED, S.REVIEW): {P.PROVIDER}}
    out_of_review = {
        key[1]: actors for key, actors in EXCHANGE_TRANSITIONS.items() if key[0] == S.REVIEW
    }
    assert out_of_review == {
        S.DONE: {P.COORDINATOR},
        S.CANCELLED: {P.COORDINATOR},
        S.DISPUTED: {P.PROVIDER, P.RECEIVER},
    }


def test_a_coordinator_never_decides_on_their_own_payment_in_review():
    S, P = ExchangeStatus, ExchangeParty
    own = {P.PROVIDER, P.COUNTERPART, P.COORDINATOR}
    for target in (S.DONE, S.CANCELLED):
        assert exchange_step_roles(parties=own, from_status=S.REVIEW, to_status=target) == set()
        assert exchange_step_roles(
            parties={P.COORDINATOR}, from_status=S.REVIEW, to_status=target
        ) == {P.COORDINATOR}
    # Elsewhere a coordinator who is also a member keeps both roles.
    assert exchange_step_roles(parties=own, from_status=S.ACCEPTED, to_status=S.DONE) == {
        P.PROVIDER,
        P.COORDINATOR,
    }
    assert exchange_step_roles(parties=own, from_status=S.REVIEW, to_status=S.DISPUTED) == {
        P.PROVIDER
    }
    assert exchange_step_roles(parties=own, from_status=S.REVIEW, to_status=S.PAID) == set()
