"""Sterrenstelsel, a circle that counts time in minutes, and a little history.

Anna offers help in the garden (with a photo). Bram asks her; she trims his
hedge for 90 minutes, he pays her and thanks her, and they exchange a message
each. Carla does Anna's shopping, and Anna pays her 30 minutes. Mieke coordinates.

Balances afterwards: Anna +60, Bram −90, Carla +30; the pot holds nothing.
"""

import io
import itertools
from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import Membership, Notification
from ledger import services as ledger
from ledger.models import Account, Transfer, TransferKind
from listings import services as listings
from listings.models import Exchange, ExchangeStatus, Listing
from tests.factories import CommunityFactory, CoordinatorFactory, MembershipFactory, UserFactory

PASSWORD = "a-good-long-password"
_keys = itertools.count(1)


def next_key() -> str:
    return f"privacy-key-{next(_keys)}"


def balance(membership: Membership) -> int:
    return Account.objects.get(membership=membership).balance


def photo_upload() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 20)).save(buffer, format="JPEG")
    return SimpleUploadedFile("heg.jpg", buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def circle():
    return CommunityFactory(
        name="Sterrenstelsel",
        slug="sterrenstelsel",
        default_floor=-20 * 60,
        default_ceiling=40 * 60,
    )


def make_member(circle, name, **extra):
    user = UserFactory(display_name=name, language="en", email=f"{name.lower()}@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return MembershipFactory(community=circle, user=user, **extra)


@pytest.fixture
def anna(circle):
    return make_member(circle, "Anna", application_note="I like gardening and live near the park.")


@pytest.fixture
def bram(circle):
    return make_member(circle, "Bram")


@pytest.fixture
def carla(circle):
    return make_member(circle, "Carla")


@pytest.fixture
def mieke(circle):
    """The circle's coordinator."""
    user = UserFactory(display_name="Mieke", language="en", email="mieke@example.org")
    return CoordinatorFactory(community=circle, user=user)


@dataclass
class Story:
    listing: Listing
    exchange: Exchange
    hedge: Transfer
    shopping: Transfer


@pytest.fixture
def story(circle, anna, bram, carla, mieke) -> Story:
    garden = next(
        c for c in listings.categories_ensure(community=circle) if c.name_en == "Garden and plants"
    )
    offer = listings.listing_create(
        actor=anna.user,
        owner=anna,
        kind="offer",
        title="Hulp in de tuin",
        description="Snoeien, wieden en de heg knippen.",
        category=garden,
        help_type="practical",
        photo=photo_upload(),
    )
    exchange = listings.exchange_propose(
        actor=bram.user, listing=offer, description="Zaterdag mijn heg knippen?"
    )
    step = listings.exchange_step
    step(actor=anna.user, exchange=exchange, to_status=ExchangeStatus.ACCEPTED)
    step(actor=anna.user, exchange=exchange, to_status=ExchangeStatus.DONE, amount=90)
    exchange = step(actor=bram.user, exchange=exchange, to_status=ExchangeStatus.PAID)
    listings.exchange_message_post(actor=anna.user, exchange=exchange, body="Tot zaterdag, Bram!")
    listings.exchange_message_post(actor=bram.user, exchange=exchange, body="Fijn, tot dan.")
    listings.exchange_thank(actor=bram.user, exchange=exchange, body="Dank je wel, Anna!")
    shopping = ledger.transfer_create(
        actor=anna.user,
        community=circle,
        kind=TransferKind.PAYMENT,
        payer=ledger.account_open(membership=anna),
        payee=ledger.account_open(membership=carla),
        amount=30,
        memo="Boodschappen voor Anna",
        idempotency_key=next_key(),
    )
    Notification.objects.create(user=anna.user, kind="test", subject="Welkom", body="Hallo Anna")
    exchange.refresh_from_db()
    return Story(
        listing=Listing.objects.get(pk=offer.pk),
        exchange=exchange,
        hedge=exchange.transfer,
        shopping=shopping,
    )
