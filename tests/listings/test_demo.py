import pytest
from django.core.management import call_command

from listings.models import Exchange, ExchangeStatus, Listing, ListingKind, ListingReport, ThankYou

pytestmark = pytest.mark.django_db


def test_the_demo_circles_get_offers_and_requests_once():
    call_command("seed_demo")
    count = Listing.objects.count()
    assert count == 150
    assert Listing.objects.filter(kind=ListingKind.REQUEST).count() >= 30
    assert Listing.objects.values("category").distinct().count() >= 10
    exchanges = Exchange.objects.count()
    call_command("seed_demo")
    assert Listing.objects.count() == count
    assert Exchange.objects.count() == exchanges


def test_the_demo_has_exchanges_in_every_state_for_the_pages_to_show():
    call_command("seed_demo")
    states = set(Exchange.objects.values_list("status", flat=True))
    assert states >= {
        ExchangeStatus.PROPOSED,
        ExchangeStatus.ACCEPTED,
        ExchangeStatus.DECLINED,
        ExchangeStatus.DONE,
        ExchangeStatus.PAID,
        ExchangeStatus.CANCELLED,
        ExchangeStatus.DISPUTED,
        ExchangeStatus.REVIEW,
    }
    paid = Exchange.objects.filter(status=ExchangeStatus.PAID)
    assert all(exchange.transfer_id for exchange in paid)
    assert ThankYou.objects.exists()
    assert Exchange.objects.filter(proposer__isnull=True).exists(), "a coordinator's match"
    assert ListingReport.objects.filter(handled_at__isnull=True).count() == 2
