"""The circle most reciprocity tests share: Sterrenstelsel, with Anna as a
member and Mieke and Joost as its coordinators. A test module that needs a
different circle defines its own ``circle``."""

import pytest

from tests.factories import CommunityFactory, CoordinatorFactory, MembershipFactory, UserFactory


@pytest.fixture
def circle():
    return CommunityFactory(name="Sterrenstelsel", slug="sterrenstelsel")


@pytest.fixture
def anna(circle):
    return MembershipFactory(community=circle, user=UserFactory(display_name="Anna"))


@pytest.fixture
def mieke(circle):
    return CoordinatorFactory(community=circle, user=UserFactory(display_name="Mieke")).user


@pytest.fixture
def coordinator(mieke):
    return mieke


@pytest.fixture
def joost(circle):
    return CoordinatorFactory(community=circle, user=UserFactory(display_name="Joost")).user
