import pytest
from django.urls import reverse

from tests.factories import CommunityFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_my_memberships_lists_only_my_own(client):
    mine = MembershipFactory(community=CommunityFactory(slug="niksen", unit_plural_en="niksen"))
    MembershipFactory()  # someone else's, elsewhere
    client.force_login(mine.user)
    response = client.get(reverse("accounts_api:my_memberships"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert (row["community"], row["status"], row["unit_plural"], row["unit_scale"]) == (
        "niksen",
        "active",
        "niksen",
        60,
    )


def test_my_memberships_is_refused_without_signing_in(client):
    response = client.get(reverse("accounts_api:my_memberships"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "not_authenticated"


def test_a_person_without_circles_gets_an_empty_list(client):
    client.force_login(UserFactory())
    assert client.get(reverse("accounts_api:my_memberships")).json() == {"results": []}
