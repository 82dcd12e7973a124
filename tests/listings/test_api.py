"""The listings API: what an app or a script sees."""

import pytest
from django.urls import reverse

from listings.models import Exchange, Listing, ListingReport
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def api(name, circle, *args):
    return reverse(f"listings_api:{name}", args=[circle.slug, *args])


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_place_find_respond_do_pay_and_thank_through_the_api(client, anna, bram, circle):
    client.force_login(anna.user)
    categories = client.get(api("categories", circle)).json()
    garden = next(c["id"] for c in categories if c["name"] == "Garden and plants")
    created = post(
        client,
        api("listings", circle),
        {
            "kind": "offer",
            "title": "Hulp in de tuin",
            "description": "Snoeien en wieden.",
            "category": garden,
            "help_type": "practical",
            "indicative_amount": 60,
        },
    )
    assert created.status_code == 201
    listing = created.json()
    assert (listing["status"], listing["indicative_amount"]) == ("active", 60)

    client.force_login(bram.user)
    found = client.get(api("listings", circle), {"q": "tuin", "kind": "offer"}).json()
    assert (found["count"], found["results"][0]["id"]) == (1, listing["id"])
    proposed = post(client, api("listing_respond", circle, listing["id"]), {"description": "Graag"})
    assert proposed.status_code == 201
    exchange = proposed.json()["id"]

    client.force_login(anna.user)
    accepted = post(client, api("exchange_step", circle, exchange), {"status": "accepted"})
    assert accepted.status_code == 200
    done = post(client, api("exchange_step", circle, exchange), {"status": "done", "amount": 90})
    assert done.json()["payment_request"] is not None
    post(client, api("exchange_messages", circle, exchange), {"body": "Tot zaterdag!"})

    client.force_login(bram.user)
    paid = post(client, api("exchange_step", circle, exchange), {"status": "paid"}).json()
    assert paid["status"] == "paid" and paid["transfer"] is not None
    assert (
        post(client, api("exchange_thanks", circle, exchange), {"body": "Dank!"}).status_code == 201
    )
    detail = client.get(api("exchange", circle, exchange)).json()
    assert detail["thank_you"] == "Dank!" and detail["messages"][0]["body"] == "Tot zaterdag!"
    assert [e["id"] for e in client.get(api("exchanges", circle)).json()] == [exchange]


def test_bad_input_gets_a_problem_with_a_code_and_changes_nothing(client, anna, circle, place):
    client.force_login(anna.user)
    response = post(
        client,
        api("listings", circle),
        {"kind": "swap", "title": "", "description": "x", "category": 0, "help_type": "x"},
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert not Listing.objects.exists()
    listing = place()
    response = post(client, api("listing_status", circle, listing.pk), {"status": "sold"})
    assert response.status_code in (400, 422) and "code" in response.json()
    step = post(client, api("listing_respond", circle, listing.pk), {"description": "Ikzelf"})
    assert step.status_code == 403 and not Exchange.objects.exists()
    amount = post(
        client,
        api("listings", circle),
        {
            "kind": "offer",
            "title": "Halve uren",
            "description": "x",
            "category": listing.category_id,
            "help_type": "practical",
            "indicative_amount": 1.5,
        },
    )
    assert amount.status_code == 400


def test_another_circle_sees_nothing(client, circle, place):
    listing = place()
    client.force_login(MembershipFactory(community=CommunityFactory()).user)
    assert client.get(api("listings", circle)).status_code == 404
    assert client.get(api("listing", circle, listing.pk)).status_code == 404
    assert (
        post(client, api("listing_report", circle, listing.pk), {"reason": "x"}).status_code == 404
    )
    assert not ListingReport.objects.exists()
