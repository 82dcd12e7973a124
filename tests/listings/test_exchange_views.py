"""Exchanges on the pages: respond, agree, report it done, pay, thank, talk."""

import pytest
from django.urls import reverse

from ledger.models import Account
from listings.models import Exchange, ExchangeMessage, ExchangeStatus, ThankYou
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def url(name, circle, *args):
    return reverse(f"listings:{name}", args=[circle.slug, *args])


def test_from_a_response_to_a_thank_you_on_the_pages(client, anna, bram, circle, place):
    offer = place(indicative_amount=60, indicative_per="per keer")
    client.force_login(bram.user)
    assert "Ask for this help" in client.get(url("detail", circle, offer.pk)).content.decode()
    response = client.post(url("respond", circle, offer.pk), {"description": "Zaterdag?"})
    exchange = Exchange.objects.get()
    assert response["Location"] == url("exchange", circle, exchange.pk)

    client.force_login(anna.user)
    page = client.get(url("exchange", circle, exchange.pk)).content.decode()
    assert "Agree" in page and "Zaterdag?" in page
    client.post(url("exchange_step", circle, exchange.pk), {"status": "accepted"})
    page = client.get(url("exchange", circle, exchange.pk)).content.decode()
    assert 'value="1"' in page, "the listing's indicative amount is suggested"
    client.post(url("exchange_step", circle, exchange.pk), {"status": "done", "amount": "1,5"})
    assert Exchange.objects.get().status == ExchangeStatus.DONE
    client.post(url("exchange_message", circle, exchange.pk), {"body": "<b>Bedankt</b> alvast"})

    client.force_login(bram.user)
    page = client.get(url("exchange", circle, exchange.pk)).content.decode()
    assert "Pay (1.5\u00a0hours)" in page
    assert "&lt;b&gt;Bedankt&lt;/b&gt; alvast" in page
    client.post(url("exchange_step", circle, exchange.pk), {"status": "paid"})
    assert Exchange.objects.get().status == ExchangeStatus.PAID
    assert Account.objects.get(membership=anna).balance == 90
    client.post(url("exchange_thank", circle, exchange.pk), {"body": "Dank je wel!"})
    assert ThankYou.objects.get().body == "Dank je wel!"
    page = client.get(url("exchanges", circle)).content.decode()
    assert "Anna" in page and "Paid" in page


def test_a_step_that_is_not_yours_or_not_possible_shows_why_and_changes_nothing(
    client, anna, bram, circle, place
):
    offer = place()
    client.force_login(bram.user)
    client.post(url("respond", circle, offer.pk), {"description": "Graag"})
    exchange = Exchange.objects.get()
    response = client.post(
        url("exchange_step", circle, exchange.pk), {"status": "accepted"}, follow=True
    )
    assert "the member it was proposed to can change" in response.content.decode()
    response = client.post(
        url("exchange_step", circle, exchange.pk), {"status": "paid"}, follow=True
    )
    assert "cannot go from" in response.content.decode()
    client.force_login(anna.user)
    client.post(url("exchange_step", circle, exchange.pk), {"status": "accepted"})
    response = client.post(
        url("exchange_step", circle, exchange.pk), {"status": "done", "amount": "abc"}, follow=True
    )
    assert "Enter a number" in response.content.decode()
    assert Exchange.objects.get().status == ExchangeStatus.ACCEPTED
    response = client.post(url("exchange_message", circle, exchange.pk), {"body": " "}, follow=True)
    assert not ExchangeMessage.objects.exists()


def test_nobody_else_sees_an_exchange(client, anna, bram, member_factory, circle, place):
    offer = place()
    client.force_login(bram.user)
    client.post(url("respond", circle, offer.pk), {"description": "Graag"})
    exchange = Exchange.objects.get()
    client.force_login(member_factory("Carla").user)
    assert client.get(url("exchange", circle, exchange.pk)).status_code == 404
    assert (
        client.post(url("exchange_step", circle, exchange.pk), {"status": "accepted"}).status_code
        == 404
    )
    client.force_login(MembershipFactory(community=CommunityFactory()).user)
    assert client.get(url("exchange", circle, exchange.pk)).status_code == 404
    assert Exchange.objects.get().status == ExchangeStatus.PROPOSED


def test_the_owner_cannot_respond_to_their_own_listing(client, anna, circle, place):
    offer = place()
    client.force_login(anna.user)
    assert "Ask for this help" not in client.get(url("detail", circle, offer.pk)).content.decode()
    response = client.post(url("respond", circle, offer.pk), {"description": "Ik?"}, follow=True)
    assert "your own listing" in response.content.decode()
    assert not Exchange.objects.exists()
