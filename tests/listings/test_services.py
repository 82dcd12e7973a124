"""Members place offers and requests; coordinators help and moderate."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Status
from listings import services
from listings.models import Category, Listing, ListingEvent, ListingReport, ListingStatus
from ruilkring.errors import InvalidInput, NotAllowed, NotFound, TransitionNotAllowed
from tests.factories import AreaFactory, CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_a_new_circle_gets_the_default_categories_once_in_both_languages(circle):
    first = services.categories_ensure(community=circle)
    again = services.categories_ensure(community=circle)
    assert [c.pk for c in first] == [c.pk for c in again]
    assert Category.objects.filter(community=circle).count() == len(first) >= 10
    garden = next(c for c in first if c.name_nl == "Tuin en planten")
    assert (garden.name("nl"), garden.name("en")) == ("Tuin en planten", "Garden and plants")


def test_anna_offers_help_in_the_garden_for_ninety_days(anna, place):
    listing = place(indicative_amount=60, indicative_per=" per keer ", availability="zaterdag")
    assert listing.status == ListingStatus.ACTIVE
    assert listing.expires_on == timezone.localdate() + timedelta(days=90)
    assert (listing.indicative_amount, listing.indicative_per) == (60, "per keer")
    assert listing.created_by == anna.user
    event = ListingEvent.objects.get(listing=listing)
    assert (event.actor, event.from_status, event.to_status) == (anna.user, "", "active")


def test_markup_is_kept_as_typed_and_shown_as_text_later(place):
    listing = place(title="<script>alert(1)</script> tuin")
    assert Listing.objects.get(pk=listing.pk).title == "<script>alert(1)</script> tuin"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"description": ""}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"availability": "x" * 201}, "availability"),
        ({"help_type": "magic"}, "help_type"),
        ({"kind": "swap"}, "kind"),
        ({"indicative_amount": 0}, "indicative_amount"),
        ({"indicative_amount": -30}, "indicative_amount"),
        ({"indicative_amount": 1.5}, "indicative_amount"),
    ],
)
def test_bad_input_is_refused_with_its_field_and_nothing_is_placed(place, changes, field):
    with pytest.raises(InvalidInput) as refused:
        place(**changes)
    assert refused.value.field == field
    assert str(refused.value)
    assert not Listing.objects.exists()


def test_a_category_or_area_of_another_circle_is_refused(circle, place):
    elsewhere = CommunityFactory()
    other_category = services.categories_ensure(community=elsewhere)[0]
    with pytest.raises(InvalidInput) as refused:
        place(category=other_category)
    assert refused.value.field == "category"
    with pytest.raises(InvalidInput) as refused:
        place(area=AreaFactory(community=elsewhere))
    assert refused.value.field == "area"
    assert not Listing.objects.exists()


def test_a_retired_category_takes_no_new_listings(garden, place):
    garden.is_active = False
    garden.save()
    with pytest.raises(InvalidInput):
        place()


def test_a_coordinator_places_a_request_for_a_member_who_is_not_online(anna, coordinator, place):
    listing = place(actor=coordinator, kind="request", title="Wie brengt me naar het ziekenhuis?")
    assert (listing.owner, listing.created_by) == (anna, coordinator)


def test_a_member_cannot_place_a_listing_for_someone_else(anna, bram, place):
    with pytest.raises(NotAllowed):
        place(owner=bram, actor=anna.user)
    assert not Listing.objects.exists()


@pytest.mark.parametrize("status", [Status.SUSPENDED, Status.APPLIED, Status.LEFT])
def test_only_members_who_can_trade_place_listings(member_factory, place, status):
    with pytest.raises(NotAllowed):
        place(owner=member_factory("Dirk", status))
    assert not Listing.objects.exists()


def test_a_leaving_member_can_still_offer_help(member_factory, place):
    assert place(owner=member_factory("Els", Status.LEAVING)).status == ListingStatus.ACTIVE


def test_anna_changes_her_listing_but_not_bram(anna, bram, place):
    listing = place()
    changed = services.listing_update(
        actor=anna.user,
        listing=listing,
        title="Hulp in de moestuin",
        description=listing.description,
        category=listing.category,
        help_type="practical",
        not_for_neighbours=True,
    )
    assert (changed.title, changed.not_for_neighbours) == ("Hulp in de moestuin", True)
    with pytest.raises(NotAllowed):
        services.listing_update(
            actor=bram.user,
            listing=listing,
            title="Van mij",
            description="x",
            category=listing.category,
            help_type="practical",
        )
    assert Listing.objects.get(pk=listing.pk).title == "Hulp in de moestuin"


def test_anna_pauses_resumes_and_removes_her_listing(anna, place):
    listing = place()
    for status in (ListingStatus.PAUSED, ListingStatus.ACTIVE, ListingStatus.REMOVED):
        listing = services.listing_status_change(actor=anna.user, listing=listing, to_status=status)
    assert listing.status == ListingStatus.REMOVED
    assert listing.removed_reason == ""
    steps = list(
        ListingEvent.objects.filter(listing=listing).values_list("from_status", "to_status")
    )
    assert steps == [
        ("", "active"),
        ("active", "paused"),
        ("paused", "active"),
        ("active", "removed"),
    ]


def test_a_coordinator_removes_a_listing_only_with_a_reason_the_owner_can_read(
    anna, coordinator, place
):
    listing = place()
    with pytest.raises(InvalidInput) as refused:
        services.listing_status_change(
            actor=coordinator, listing=listing, to_status=ListingStatus.REMOVED
        )
    assert refused.value.field == "note"
    assert Listing.objects.get(pk=listing.pk).status == ListingStatus.ACTIVE
    removed = services.listing_status_change(
        actor=coordinator,
        listing=listing,
        to_status=ListingStatus.REMOVED,
        note="Commerciële diensten passen niet in de kring.",
    )
    assert removed.removed_reason == "Commerciële diensten passen niet in de kring."
    with pytest.raises(NotAllowed):
        services.listing_status_change(
            actor=anna.user, listing=removed, to_status=ListingStatus.ACTIVE
        )
    restored = services.listing_status_change(
        actor=coordinator, listing=removed, to_status=ListingStatus.ACTIVE, note="Toch in orde."
    )
    assert (restored.status, restored.removed_reason) == (ListingStatus.ACTIVE, "")


def test_people_outside_the_circle_cannot_touch_a_listing(place):
    stranger = MembershipFactory()
    listing = place()
    with pytest.raises(NotFound):
        services.listing_status_change(
            actor=stranger.user, listing=listing, to_status=ListingStatus.PAUSED
        )
    with pytest.raises(NotFound):
        services.listing_report(actor=stranger.user, listing=listing, reason="Spam")
    assert Listing.objects.get(pk=listing.pk).status == ListingStatus.ACTIVE


def test_a_listing_expires_after_its_date_and_renewing_brings_it_back(anna, place):
    listing = place()
    later = listing.expires_on + timedelta(days=1)
    assert services.listings_expire_due(today=listing.expires_on) == 0
    assert services.listings_expire_due(today=later) == 1
    assert services.listings_expire_due(today=later) == 0
    expired = Listing.objects.get(pk=listing.pk)
    assert expired.status == ListingStatus.EXPIRED
    assert ListingEvent.objects.filter(listing=listing, to_status="expired", actor=None).exists()
    renewed = services.listing_renew(actor=anna.user, listing=expired)
    assert renewed.status == ListingStatus.ACTIVE
    assert renewed.expires_on == timezone.localdate() + timedelta(days=90)


def test_renewing_an_active_listing_moves_its_date_and_a_removed_one_stays_down(anna, place):
    listing = place()
    Listing.objects.filter(pk=listing.pk).update(expires_on=timezone.localdate())
    listing.refresh_from_db()
    assert services.listing_renew(actor=anna.user, listing=listing).expires_on == (
        timezone.localdate() + timedelta(days=90)
    )
    removed = services.listing_status_change(
        actor=anna.user, listing=listing, to_status=ListingStatus.REMOVED
    )
    with pytest.raises(TransitionNotAllowed):
        services.listing_renew(actor=anna.user, listing=removed)
    with pytest.raises(TransitionNotAllowed):
        services.listing_update(
            actor=anna.user,
            listing=removed,
            title="Weer terug",
            description="x",
            category=removed.category,
            help_type="practical",
        )


def test_bram_reports_a_listing_once_and_anna_cannot_report_her_own(anna, bram, place):
    listing = place()
    report = services.listing_report(actor=bram.user, listing=listing, reason="Dit is reclame.")
    again = services.listing_report(actor=bram.user, listing=listing, reason="Echt reclame!")
    assert again.pk == report.pk
    assert ListingReport.objects.get().reason == "Dit is reclame."
    with pytest.raises(NotAllowed):
        services.listing_report(actor=anna.user, listing=listing, reason="Oeps")
    with pytest.raises(InvalidInput):
        services.listing_report(actor=bram.user, listing=place(title="Nog een"), reason=" ")
    assert ListingReport.objects.count() == 1
