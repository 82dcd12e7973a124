import itertools

import pytest

from accounts.models import Status
from ledger import services
from tests.factories import CommunityFactory, CoordinatorFactory, MembershipFactory, UserFactory

_keys = itertools.count(1)


def next_key() -> str:
    return f"key-{next(_keys)}"


@pytest.fixture
def circle():
    # Sterrenstelsel counts time: amounts are minutes. Members may receive up
    # to 20 hours more than they give, and give up to 40 hours more.
    return CommunityFactory(
        name="Sterrenstelsel",
        slug="sterrenstelsel",
        default_floor=-20 * 60,
        default_ceiling=40 * 60,
    )


def _member(circle, name, status=Status.ACTIVE):
    membership = MembershipFactory(
        community=circle, status=status, user=UserFactory(display_name=name, language="en")
    )
    return services.account_open(membership=membership)


@pytest.fixture
def anna(circle):
    return _member(circle, "Anna")


@pytest.fixture
def bram(circle):
    return _member(circle, "Bram")


@pytest.fixture
def carla(circle):
    return _member(circle, "Carla")


@pytest.fixture
def coordinator(circle):
    return CoordinatorFactory(community=circle, user=UserFactory(display_name="Mieke")).user


@pytest.fixture
def member_factory(circle):
    return lambda name, status=Status.ACTIVE: _member(circle, name, status)
