"""Two-factor authentication: coordinators, observers and administrators need an
authenticator app (TOTP) before they can use their role; members never do."""

import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core.management import call_command
from django.urls import reverse

from accounts import selectors
from accounts.demo import DEMO_TOTP_SECRET, demo_seed, demo_totp_code
from accounts.models import User
from ledger import services as ledger_services
from ledger.services import account_open
from ruilkring.errors import NotAllowed
from tests.factories import CommunityFactory, CoordinatorFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(autouse=True)
def _two_factor_required(settings):
    settings.RUILKRING_TWO_FACTOR_REQUIRED = True


def _enrol(user: User) -> None:
    TOTP.activate(user, SECRET)


def _code(offset: int = 0) -> str:
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD + offset
    return format_hotp_value(hotp_value(SECRET, counter))


@pytest.fixture
def circle():
    return CommunityFactory(name="Niksen", slug="niksen")


@pytest.fixture
def coordinator(circle):
    return CoordinatorFactory(community=circle).user


def test_a_coordinator_without_an_authenticator_is_shown_how_to_set_one_up(
    client, circle, coordinator
):
    client.force_login(coordinator)
    response = client.get(reverse("accounts:applications", args=[circle.slug]))
    assert response.status_code == 403
    assert b"Set up two-step sign-in" in response.content
    assert reverse("mfa_activate_totp").encode() in response.content


def test_with_an_authenticator_the_coordinator_pages_open(client, circle, coordinator):
    _enrol(coordinator)
    client.force_login(coordinator)
    response = client.get(reverse("accounts:applications", args=[circle.slug]))
    assert response.status_code == 200


def test_the_coordinator_still_uses_the_circle_as_a_member_meanwhile(client, circle, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("accounts:community_detail", args=[circle.slug]))
    assert response.status_code == 200
    # Every page reminds them what is missing, with the way to fix it.
    assert b"rk-two-factor-notice" in response.content


def test_a_plain_member_never_sees_the_reminder(client, circle):
    member = MembershipFactory(community=circle).user
    client.force_login(member)
    response = client.get(reverse("accounts:community_detail", args=[circle.slug]))
    assert response.status_code == 200
    assert b"rk-two-factor-notice" not in response.content


def test_the_services_refuse_coordinator_powers_without_an_authenticator(circle, coordinator):
    member = MembershipFactory(community=circle)
    account = account_open(membership=member)
    with pytest.raises(NotAllowed):
        ledger_services.account_limits_set(
            actor=coordinator, account=account, floor=-100, ceiling=100, reason="More room"
        )
    assert not selectors.user_is_coordinator(user=coordinator, community=circle)
    assert selectors.user_holds_coordinator_role(user=coordinator, community=circle)
    _enrol(coordinator)
    assert selectors.user_is_coordinator(user=coordinator, community=circle)


def test_the_api_answers_a_coordinator_without_an_authenticator_with_a_stable_code(
    client, circle, coordinator
):
    client.force_login(coordinator)
    url = reverse("ledger_api:accounts", args=[circle.slug])
    response = client.get(url)
    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_required"
    _enrol(coordinator)
    assert client.get(url).status_code == 200


def test_the_observer_needs_an_authenticator_too(client):
    observer = UserFactory(is_municipality_observer=True)
    client.force_login(observer)
    for name in ("accounts:observer_overview", "reciprocity:observer"):
        response = client.get(reverse(name))
        assert response.status_code == 403, name
        assert b"Set up two-step sign-in" in response.content
    _enrol(observer)
    for name in ("accounts:observer_overview", "reciprocity:observer"):
        assert client.get(reverse(name)).status_code == 200, name


def test_someone_else_still_gets_the_plain_refusal_on_the_observer_pages(client, circle):
    client.force_login(MembershipFactory(community=circle).user)
    response = client.get(reverse("accounts:observer_overview"))
    assert response.status_code == 403
    assert b"Set up two-step sign-in" not in response.content


class TestTheAdmin:
    def test_sends_a_visitor_to_the_sites_own_sign_in(self, client):
        response = client.get("/admin/")
        assert response.status_code == 302
        login = client.get(response["Location"])
        assert login.status_code == 302
        assert login["Location"].startswith(reverse("account_login"))
        assert "next=%2Fadmin%2F" in login["Location"]

    def test_staff_status_alone_opens_nothing(self, client):
        staff = UserFactory(is_staff=True)
        _enrol(staff)
        client.force_login(staff)
        response = client.get("/admin/", follow=True)
        assert response.status_code == 403

    def test_a_superuser_needs_an_authenticator(self, client):
        admin = User.objects.create_superuser(email="root@example.org", password="x-long-pass-1")
        client.force_login(admin)
        response = client.get("/admin/", follow=True)
        assert response.status_code == 403
        assert b"Set up two-step sign-in" in response.content
        _enrol(admin)
        assert client.get("/admin/").status_code == 200

    def test_a_superuser_needs_it_for_the_circles_too(self, client, circle):
        admin = User.objects.create_superuser(email="root@example.org", password="x-long-pass-1")
        client.force_login(admin)
        url = reverse("accounts:member_list", args=[circle.slug])
        assert client.get(url).status_code == 403
        _enrol(admin)
        assert client.get(url).status_code == 200


class TestSigningIn:
    @pytest.fixture
    def person(self, coordinator):
        coordinator.set_password("a-good-long-password")
        coordinator.save()
        EmailAddress.objects.create(
            user=coordinator, email=coordinator.email, verified=True, primary=True
        )
        _enrol(coordinator)
        return coordinator

    def _password_step(self, client, person):
        return client.post(
            reverse("account_login"),
            {"login": person.email, "password": "a-good-long-password"},
        )

    def test_asks_for_the_code_after_the_password(self, client, person):
        response = self._password_step(client, person)
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_authenticate")
        # Not signed in yet: the password alone opens nothing.
        assert client.get(reverse("accounts:my_communities")).status_code == 302

    def test_a_wrong_code_is_refused_in_words(self, client, person):
        self._password_step(client, person)
        accepted = {_code(offset) for offset in (-1, 0, 1)}
        wrong = next(
            code for code in ("000000", "111111", "222222", "333333") if code not in accepted
        )
        response = client.post(reverse("mfa_authenticate"), {"code": wrong})
        assert response.status_code == 200
        assert b"Incorrect code" in response.content
        assert client.get(reverse("accounts:my_communities")).status_code == 302

    def test_the_right_code_signs_in(self, client, person, circle):
        self._password_step(client, person)
        response = client.post(reverse("mfa_authenticate"), {"code": _code()})
        assert response.status_code == 302
        page = client.get(reverse("accounts:applications", args=[circle.slug]))
        assert page.status_code == 200


def test_the_demo_roles_sign_in_with_the_printed_key(capsys):
    demo_seed()
    for email in ("coordinator@ruilkring.demo", "gemeente@ruilkring.demo", "admin@ruilkring.demo"):
        user = User.objects.get(email=email)
        authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
        assert TOTP(authenticator).validate_code(demo_totp_code())
    assert not Authenticator.objects.filter(user__email="anna@ruilkring.demo").exists()
    call_command("demo_code")
    out = capsys.readouterr().out
    assert DEMO_TOTP_SECRET in out
