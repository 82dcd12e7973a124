"""A coordinator puts two members together by hand: Mieke knows that Anna likes
to do the shopping, and that Bram will not ask anyone."""

import re

import pytest
from django.urls import reverse

from accounts.models import Notification, Status
from listings import services
from listings.models import Exchange, ExchangeEvent, ExchangeStatus
from tests.factories import CommunityFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def url(name, circle, *args):
    return reverse(f"listings:{name}", args=[circle.slug, *args])


def api(name, circle, *args):
    return reverse(f"listings_api:{name}", args=[circle.slug, *args])


def post_json(client, path, body):
    return client.post(path, body, content_type="application/json")


def test_a_coordinator_matches_two_members_on_the_page(client, circle, anna, bram, coordinator):
    client.force_login(coordinator)
    response = client.post(
        url("exchange_new", circle),
        {"provider": anna.pk, "receiver": bram.pk, "description": "Boodschappen op vrijdag"},
    )
    exchange = Exchange.objects.get()
    assert response["Location"] == url("exchange", circle, exchange.pk)
    assert (exchange.provider, exchange.receiver, exchange.listing) == (anna, bram, None)
    assert (exchange.proposer, exchange.created_by) == (None, coordinator)
    assert exchange.status == ExchangeStatus.PROPOSED
    event = ExchangeEvent.objects.get()
    assert (event.role, event.actor) == ("coordinator", coordinator)
    told = Notification.objects.get(user=anna.user, kind="exchange_new")
    assert "Boodschappen op vrijdag" in told.body
    page = client.get(url("exchange", circle, exchange.pk)).content.decode()
    assert "Proposed to Anna" in page


def test_the_page_offers_the_circle_s_members_by_name_and_its_listings(
    client, circle, anna, bram, coordinator, member_factory, place
):
    member_factory("Aafke")
    member_factory("Zeger", Status.SUSPENDED)
    MembershipFactory(user=UserFactory(display_name="Buiten"))  # another circle
    offer = place(title="Hulp in de tuin")
    client.force_login(coordinator)
    page = client.get(url("exchange_new", circle)).content.decode()
    start = page.index('name="provider"')
    provider_select = page[start : page.index("</select>", start)]
    names = re.findall(r"<option value=\"\d+\">([^<]+)</option>", provider_select)
    assert names == ["Aafke", "Anna", "Bram", "Mieke"]
    assert "Zeger" not in page and "Buiten" not in page
    assert f'<option value="{offer.pk}">Offer: Hulp in de tuin (Anna)</option>' in page


def test_a_match_can_be_for_a_listing(client, circle, anna, bram, coordinator, place):
    request = place(owner=bram, kind="request", title="Hulp bij de boodschappen")
    client.force_login(coordinator)
    client.post(
        url("exchange_new", circle),
        {
            "provider": anna.pk,
            "receiver": bram.pk,
            "description": "Anna doet het op vrijdag",
            "listing": request.pk,
        },
    )
    assert Exchange.objects.get().listing == request


def test_the_same_member_twice_is_refused_with_a_clear_message(client, circle, anna, coordinator):
    client.force_login(coordinator)
    response = client.post(
        url("exchange_new", circle),
        {"provider": anna.pk, "receiver": anna.pk, "description": "Zichzelf helpen"},
    )
    assert response.status_code == 400
    assert "Choose two different members." in response.content.decode()
    assert not Exchange.objects.exists() and not Notification.objects.exists()


def test_a_forged_member_or_listing_of_another_circle_is_refused(
    client, circle, anna, coordinator, garden
):
    elsewhere = MembershipFactory(community=CommunityFactory())
    client.force_login(coordinator)
    response = client.post(
        url("exchange_new", circle),
        {"provider": anna.pk, "receiver": elsewhere.pk, "description": "Over de grens"},
    )
    assert response.status_code == 400
    assert "Choose a member of this circle." in response.content.decode()
    other_listing_owner = MembershipFactory(community=elsewhere.community)
    other_listing = services.listing_create(
        actor=other_listing_owner.user,
        owner=other_listing_owner,
        kind="offer",
        title="Elders",
        description="Elders",
        category=services.categories_ensure(community=elsewhere.community)[0],
        help_type="practical",
    )
    response = client.post(
        url("exchange_new", circle),
        {
            "provider": anna.pk,
            "receiver": coordinator.memberships.get().pk,
            "description": "Met een advertentie van elders",
            "listing": other_listing.pk,
        },
    )
    assert response.status_code == 400
    assert "Choose one of this circle&#x27;s listings." in response.content.decode()
    assert not Exchange.objects.exists()


def test_an_empty_description_is_refused(client, circle, anna, bram, coordinator):
    client.force_login(coordinator)
    response = client.post(
        url("exchange_new", circle),
        {"provider": anna.pk, "receiver": bram.pk, "description": "   "},
    )
    assert response.status_code == 400
    assert not Exchange.objects.exists()


def test_members_get_the_403_page_and_outsiders_a_404(client, circle, anna, bram):
    client.force_login(anna.user)
    response = client.get(url("exchange_new", circle))
    assert response.status_code == 403
    assert "Only a coordinator of this community can open this page." in response.content.decode()
    response = client.post(
        url("exchange_new", circle),
        {"provider": anna.pk, "receiver": bram.pk, "description": "Zelf regelen"},
    )
    assert response.status_code == 403
    client.force_login(UserFactory())
    assert client.get(url("exchange_new", circle)).status_code == 404
    assert not Exchange.objects.exists()


def test_coordinators_find_the_page_from_the_queue_and_the_circle_page(
    client, circle, anna, coordinator
):
    new = url("exchange_new", circle)
    client.force_login(coordinator)
    assert new in client.get(url("moderation", circle)).content.decode()
    circle_page = reverse("accounts:community_detail", args=[circle.slug])
    assert new in client.get(circle_page).content.decode()
    client.force_login(anna.user)
    assert new not in client.get(circle_page).content.decode()


# -- Through the API -------------------------------------------------------------------


def test_a_coordinator_matches_two_members_through_the_api(client, circle, anna, bram, coordinator):
    client.force_login(coordinator)
    response = post_json(
        client,
        api("exchanges", circle),
        {"provider": anna.pk, "receiver": bram.pk, "description": "Boodschappen"},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["provider"], body["receiver"], body["status"]) == (anna.pk, bram.pk, "proposed")
    assert Exchange.objects.get().proposer is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "anna", "receiver": "bram", "description": "x"}, None),
        ({"provider": 1, "description": "x"}, None),
        ({"receiver": "same", "description": "Zichzelf"}, "receiver"),
        ({"receiver": "elsewhere", "description": "Over de grens"}, "receiver"),
        ({"receiver": 999999, "description": "Niemand"}, "receiver"),
        ({"receiver": "bram", "description": "x", "listing": 999999}, "listing"),
        ({"receiver": "bram", "description": ""}, None),
    ],
)
def test_bad_matches_through_the_api_are_a_problem_and_change_nothing(
    client, circle, anna, bram, coordinator, body, field
):
    elsewhere = MembershipFactory(community=CommunityFactory())
    ids = {"same": anna.pk, "elsewhere": elsewhere.pk, "bram": bram.pk}
    body = {"provider": anna.pk, **body}
    body = {
        key: ids.get(value, value) if key != "description" else value for key, value in body.items()
    }
    client.force_login(coordinator)
    response = post_json(client, api("exchanges", circle), body)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    if field:
        assert response.json()["field"] == field
    assert not Exchange.objects.exists()


def test_members_cannot_match_through_the_api(client, circle, anna, bram):
    client.force_login(anna.user)
    response = post_json(
        client,
        api("exchanges", circle),
        {"provider": anna.pk, "receiver": bram.pk, "description": "Zelf"},
    )
    assert response.status_code == 403 and response.json()["code"] == "not_allowed"
    client.force_login(UserFactory())
    response = post_json(
        client,
        api("exchanges", circle),
        {"provider": anna.pk, "receiver": bram.pk, "description": "Zelf"},
    )
    assert response.status_code == 404
    assert not Exchange.objects.exists()
