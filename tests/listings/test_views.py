"""The listing pages, as members and coordinators use them."""

import pytest
from django.urls import reverse

from listings.models import Listing, ListingReport, ListingStatus
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def url(name, circle, *args):
    return reverse(f"listings:{name}", args=[circle.slug, *args])


@pytest.fixture
def as_anna(client, anna):
    client.force_login(anna.user)
    return client


def test_anna_places_an_offer_on_the_page_and_finds_it(as_anna, anna, circle, garden):
    page = as_anna.get(url("new", circle) + "?kind=offer")
    assert page.status_code == 200
    response = as_anna.post(
        url("new", circle),
        {
            "kind": "offer",
            "title": "Fiets repareren",
            "description": "Band plakken.\nRemmen afstellen.",
            "category": garden.pk,
            "help_type": "practical",
            "indicative_amount": "1",
            "indicative_per": "per keer",
        },
    )
    listing = Listing.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("detail", circle, listing.pk)
    assert listing.indicative_amount == 60
    detail = as_anna.get(url("detail", circle, listing.pk)).content.decode()
    assert "Band plakken.<br>Remmen afstellen." in detail
    assert "1\u00a0hour per keer" in detail
    listed = as_anna.get(url("list", circle), {"q": "fiets"}).content.decode()
    assert "Fiets repareren" in listed and "1 listing found" in listed
    assert "Fiets repareren" in as_anna.get(url("mine", circle)).content.decode()


def test_the_list_opens_without_a_search_and_ignores_a_filter_that_makes_no_sense(
    as_anna, circle, place
):
    place(title="Hulp in de tuin")
    plain = as_anna.get(url("list", circle))
    assert plain.status_code == 200 and "Hulp in de tuin" in plain.content.decode()
    odd = as_anna.get(url("list", circle), {"category": "not-a-number", "q": "tuin", "page": "x"})
    assert odd.status_code == 200 and "Hulp in de tuin" in odd.content.decode()


def test_a_form_with_mistakes_says_what_is_wrong_and_places_nothing(as_anna, circle, garden):
    response = as_anna.post(
        url("new", circle),
        {"kind": "offer", "title": "", "description": "x", "category": garden.pk},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["title"]
    assert response.context["form"].errors["help_type"]
    assert not Listing.objects.exists()


def test_markup_in_a_listing_is_shown_as_text(as_anna, circle, place):
    listing = place(title="<script>alert('x')</script>", description="<b>vet</b>")
    page = as_anna.get(url("detail", circle, listing.pk)).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<b>vet</b>" not in page


def test_people_of_another_circle_see_nothing(client, circle, place):
    listing = place()
    client.force_login(MembershipFactory(community=CommunityFactory()).user)
    assert client.get(url("list", circle)).status_code == 404
    assert client.get(url("detail", circle, listing.pk)).status_code == 404
    assert client.post(url("report", circle, listing.pk), {"reason": "x"}).status_code == 404
    assert not ListingReport.objects.exists()


def test_a_listing_of_another_circle_is_not_found_under_this_one(as_anna, circle, place):
    elsewhere = CommunityFactory()
    MembershipFactory(community=elsewhere, user=place().owner.user)
    other_owner = MembershipFactory(community=elsewhere)
    from listings import services

    other = place(
        owner=other_owner,
        category=services.categories_ensure(community=elsewhere)[0],
    )
    assert as_anna.get(url("detail", circle, other.pk)).status_code == 404


def test_anna_pauses_her_listing_and_others_no_longer_see_it(
    as_anna, client, anna, bram, circle, place
):
    listing = place()
    response = as_anna.post(url("status", circle, listing.pk), {"status": "paused"})
    assert response.status_code == 302
    assert Listing.objects.get(pk=listing.pk).status == ListingStatus.PAUSED
    assert as_anna.get(url("detail", circle, listing.pk)).status_code == 200
    client.force_login(bram.user)
    assert client.get(url("detail", circle, listing.pk)).status_code == 404


def test_a_coordinator_takes_a_listing_down_only_with_a_reason(
    client, anna, coordinator, circle, place
):
    listing = place()
    client.force_login(coordinator)
    client.post(url("status", circle, listing.pk), {"status": "removed"})
    assert Listing.objects.get(pk=listing.pk).status == ListingStatus.ACTIVE
    client.post(url("status", circle, listing.pk), {"status": "removed", "note": "Reclame."})
    assert Listing.objects.get(pk=listing.pk).status == ListingStatus.REMOVED
    client.force_login(anna.user)
    page = client.get(url("detail", circle, listing.pk)).content.decode()
    assert "A coordinator took this listing down: Reclame." in page


def test_bram_reports_a_listing_and_anna_cannot_report_her_own(
    as_anna, client, bram, circle, place
):
    listing = place()
    assert (
        "Report this listing" not in as_anna.get(url("detail", circle, listing.pk)).content.decode()
    )
    client.force_login(bram.user)
    assert "Report this listing" in client.get(url("detail", circle, listing.pk)).content.decode()
    response = client.post(url("report", circle, listing.pk), {"reason": "Dit is reclame."})
    assert response.status_code == 302
    assert ListingReport.objects.get().reason == "Dit is reclame."


def test_an_unknown_status_or_renewing_a_removed_listing_changes_nothing(
    as_anna, anna, circle, place
):
    listing = place()
    as_anna.post(url("status", circle, listing.pk), {"status": "sold"})
    assert Listing.objects.get(pk=listing.pk).status == ListingStatus.ACTIVE
    as_anna.post(url("status", circle, listing.pk), {"status": "removed"})
    response = as_anna.post(url("status", circle, listing.pk), {"status": "renew"}, follow=True)
    assert "cannot be renewed" in response.content.decode()
    assert Listing.objects.get(pk=listing.pk).status == ListingStatus.REMOVED


def test_a_coordinator_places_a_request_for_a_member_who_is_not_online(
    client, anna, coordinator, circle, garden
):
    client.force_login(coordinator)
    page = client.get(url("new", circle)).content.decode()
    assert "For whom?" in page and "Anna" in page
    client.post(
        url("new", circle),
        {
            "owner": anna.pk,
            "kind": "request",
            "title": "Boodschappen op dinsdag",
            "description": "Anna heeft geen computer.",
            "category": garden.pk,
            "help_type": "practical",
        },
    )
    listing = Listing.objects.get()
    assert (listing.owner, listing.created_by) == (anna, coordinator)


def test_a_member_sees_no_choice_of_owner_and_cannot_slip_one_in(
    as_anna, anna, bram, circle, garden
):
    assert "For whom?" not in as_anna.get(url("new", circle)).content.decode()
    as_anna.post(
        url("new", circle),
        {
            "owner": bram.pk,
            "kind": "offer",
            "title": "Tuinhulp",
            "description": "x",
            "category": garden.pk,
            "help_type": "practical",
        },
    )
    assert Listing.objects.get().owner == anna
