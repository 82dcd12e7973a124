import pytest
from django.core.management import call_command

from listings.models import Listing, ListingKind

pytestmark = pytest.mark.django_db


def test_the_demo_circles_get_offers_and_requests_once():
    call_command("seed_demo")
    count = Listing.objects.count()
    assert count == 150
    assert Listing.objects.filter(kind=ListingKind.REQUEST).count() >= 30
    assert Listing.objects.values("category").distinct().count() >= 10
    call_command("seed_demo")
    assert Listing.objects.count() == count
