import pytest

from accounts.models import Status
from listings import services
from tests.factories import CommunityFactory, CoordinatorFactory, MembershipFactory, UserFactory


@pytest.fixture
def circle():
    return CommunityFactory(name="Sterrenstelsel", slug="sterrenstelsel")


def _member(circle, name, status=Status.ACTIVE):
    return MembershipFactory(
        community=circle, status=status, user=UserFactory(display_name=name, language="en")
    )


@pytest.fixture
def anna(circle):
    return _member(circle, "Anna")


@pytest.fixture
def bram(circle):
    return _member(circle, "Bram")


@pytest.fixture
def coordinator(circle):
    return CoordinatorFactory(community=circle, user=UserFactory(display_name="Mieke")).user


@pytest.fixture
def member_factory(circle):
    return lambda name, status=Status.ACTIVE: _member(circle, name, status)


@pytest.fixture
def garden(circle):
    return next(
        c for c in services.categories_ensure(community=circle) if c.name_en == "Garden and plants"
    )


@pytest.fixture
def place(anna, garden):
    """Anna offers help in the garden, unless a test says otherwise."""

    def place(owner=None, actor=None, **changes):
        owner = owner or anna
        values = {
            "kind": "offer",
            "title": "Hulp in de tuin",
            "description": "Snoeien, wieden en de heg knippen.",
            "category": garden,
            "help_type": "practical",
        }
        values.update(changes)
        return services.listing_create(actor=actor or owner.user, owner=owner, **values)

    return place
