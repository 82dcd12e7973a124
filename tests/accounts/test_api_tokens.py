"""Personal access tokens: Anna makes one for her spreadsheet, the spreadsheet
calls the API as her, and when she revokes it the spreadsheet is shut out."""

import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken
from ledger import services as ledger_services
from ledger.models import Transfer
from ruilkring.errors import InvalidInput, NotFound
from tests.factories import CommunityFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

MEMBERSHIPS = "/api/v1/me/memberships/"


@pytest.fixture
def anna():
    return UserFactory(display_name="Anna")


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_a_new_token_gives_its_secret_once_and_stores_only_its_hash(anna):
    token, secret = services.api_token_create(user=anna, name="  My spreadsheet  ")
    token.refresh_from_db()
    assert secret.startswith("rk_") and len(secret) > 40
    assert token.name == "My spreadsheet"
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:8]
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert all(secret not in str(value) for value in stored.values())


def test_two_tokens_have_different_secrets(anna):
    _first, one = services.api_token_create(user=anna, name="one")
    _second, two = services.api_token_create(user=anna, name="two")
    assert one != two


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_a_token_needs_a_short_name_and_a_bad_one_creates_nothing(anna, name):
    with pytest.raises(InvalidInput) as error:
        services.api_token_create(user=anna, name=name)
    assert error.value.field == "name"
    assert not ApiToken.objects.exists()


def test_a_person_has_at_most_twenty_active_tokens(anna):
    tokens = [services.api_token_create(user=anna, name=f"t{n}")[0] for n in range(20)]
    with pytest.raises(InvalidInput) as error:
        services.api_token_create(user=anna, name="one too many")
    assert error.value.code == "api_token_limit"
    assert ApiToken.objects.filter(user=anna).count() == 20
    services.api_token_revoke(user=anna, token_id=tokens[0].pk)
    services.api_token_create(user=anna, name="room again")
    assert ApiToken.objects.filter(user=anna, revoked_at__isnull=True).count() == 20


def test_a_valid_token_signs_in_to_the_api_as_its_person(anna):
    MembershipFactory(user=anna, community=CommunityFactory(slug="niksen"))
    _token, secret = services.api_token_create(user=anna, name="sheet")
    response = Client().get(MEMBERSHIPS, **bearer(secret))
    assert response.status_code == 200
    assert [row["community"] for row in response.json()["results"]] == ["niksen"]


def test_a_revoked_token_is_refused_with_a_401_problem(anna):
    token, secret = services.api_token_create(user=anna, name="sheet")
    services.api_token_revoke(user=anna, token_id=token.pk)
    response = Client().get(MEMBERSHIPS, **bearer(secret))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize(
    "header", ["Bearer rk_not-a-token", "Bearer", "Bearer two words", "bearer rk_x"]
)
def test_an_unknown_or_malformed_token_is_refused_with_a_401_problem(anna, header):
    services.api_token_create(user=anna, name="sheet")
    response = Client().get(MEMBERSHIPS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_a_bad_token_does_not_fall_back_to_the_session(client, anna):
    client.force_login(anna)
    response = client.get(MEMBERSHIPS, **bearer("rk_not-a-token"))
    assert response.status_code == 401


def test_the_token_of_a_deactivated_person_stops_working(anna):
    _token, secret = services.api_token_create(user=anna, name="sheet")
    anna.is_active = False
    anna.save(update_fields=["is_active"])
    assert Client().get(MEMBERSHIPS, **bearer(secret)).status_code == 401


def test_revoking_someone_elses_token_is_not_found_and_changes_nothing(anna):
    bram = UserFactory(display_name="Bram")
    token, secret = services.api_token_create(user=bram, name="bram's")
    with pytest.raises(NotFound):
        services.api_token_revoke(user=anna, token_id=token.pk)
    with pytest.raises(NotFound):
        services.api_token_revoke(user=anna, token_id=token.pk + 1000)
    token.refresh_from_db()
    assert token.revoked_at is None
    assert Client().get(MEMBERSHIPS, **bearer(secret)).status_code == 200


def test_last_used_is_noted_at_most_once_a_minute(anna):
    token, secret = services.api_token_create(user=anna, name="sheet")
    assert token.last_used_at is None
    Client().get(MEMBERSHIPS, **bearer(secret))
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    Client().get(MEMBERSHIPS, **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at == first_use
    an_hour_ago = timezone.now() - timedelta(hours=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=an_hour_ago)
    Client().get(MEMBERSHIPS, **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at > first_use


# The page.


def test_the_token_page_needs_signing_in(client):
    response = client.get(reverse("accounts:api_tokens"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_account_pages_lead_to_the_token_page(client, anna):
    client.force_login(anna)
    response = client.get(reverse("account_email"))
    assert reverse("accounts:api_tokens") in response.content.decode()


def test_making_a_token_on_the_page_shows_the_secret_once(client, anna):
    client.force_login(anna)
    response = client.post(reverse("accounts:api_tokens"), {"name": "My spreadsheet"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=anna)
    page = response.content.decode()
    secret = response.context["secret"]
    assert secret in page and "you will not see it again" in page
    assert ApiToken.hash_of(secret) == token.key_hash
    again = client.get(reverse("accounts:api_tokens")).content.decode()
    assert secret not in again
    assert "My spreadsheet" in again and token.prefix in again


def test_a_token_without_a_name_is_refused_on_the_page_and_nothing_is_made(client, anna):
    client.force_login(anna)
    response = client.post(reverse("accounts:api_tokens"), {"name": "   "})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert response.context["secret"] is None
    assert not ApiToken.objects.exists()


def test_the_token_limit_is_shown_on_the_page_and_nothing_is_made(client, anna):
    for n in range(20):
        services.api_token_create(user=anna, name=f"t{n}")
    client.force_login(anna)
    response = client.post(reverse("accounts:api_tokens"), {"name": "one too many"})
    assert "Revoke one you no longer use first" in response.content.decode()
    assert ApiToken.objects.filter(user=anna).count() == 20


def test_revoking_on_the_page_stops_the_token(client, anna):
    token, secret = services.api_token_create(user=anna, name="sheet")
    client.force_login(anna)
    response = client.post(reverse("accounts:api_token_revoke", args=[token.pk]), follow=True)
    assert "is revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client().get(MEMBERSHIPS, **bearer(secret)).status_code == 401


def test_revoking_someone_elses_token_on_the_page_changes_nothing(client, anna):
    token, _secret = services.api_token_create(user=UserFactory(), name="theirs")
    client.force_login(anna)
    response = client.post(reverse("accounts:api_token_revoke", args=[token.pk]), follow=True)
    assert "This token does not exist." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_token_page_refuses_a_form_without_its_csrf_token(anna):
    client = Client(enforce_csrf_checks=True)
    client.force_login(anna)
    response = client.post(reverse("accounts:api_tokens"), {"name": "sheet"})
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


# CSRF: the session needs it on the API, a token does not.


@pytest.fixture
def payment():
    circle = CommunityFactory(slug="niksen")
    payer = MembershipFactory(community=circle)
    payee = MembershipFactory(community=circle)
    ledger_services.account_open(membership=payer)
    ledger_services.account_open(membership=payee)
    url = reverse("ledger_api:payments", args=[circle.slug])
    return payer.user, url, {"payee": payee.pk, "amount": 30, "memo": "Tuin"}


def test_a_session_post_to_the_api_without_csrf_is_refused(payment):
    user, url, body = payment
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 403
    assert not Transfer.objects.exists()


def test_a_token_post_to_the_api_needs_no_csrf(payment):
    user, url, body = payment
    _token, secret = services.api_token_create(user=user, name="sheet")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1", **bearer(secret)
    )
    assert response.status_code == 201, response.content
    assert Transfer.objects.count() == 1
