"""A member who has just become a coordinator, in a real browser and with the
keyboard only: the site tells her that her new role needs two-step sign-in,
she sets up her authenticator app, and from then on the coordinator pages
open, and signing in asks for the app's code."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import expect

from accounts import services
from accounts.demo import DEMO_PASSWORD
from accounts.models import Community, Membership, Role, Status, User
from tests.browser.driving import main, nl

pytestmark = pytest.mark.django_db(transaction=True)


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


def test_a_new_coordinator_sets_up_two_step_sign_in_before_using_the_role(visit, site):
    niksen = Community.objects.get(name="Niksen")
    membership = (
        Membership.objects.filter(community=niksen, status=Status.ACTIVE, role=Role.MEMBER)
        .filter(user__language="nl")
        .exclude(user__email=site.logins["member"])
        .select_related("user")
        .first()
    )
    services.membership_role_change(
        actor=User.objects.get(email=site.logins["coordinator"]),
        membership=membership,
        to_role=Role.COORDINATOR,
        reason="Helpt mee met de aanmeldingen",
    )
    me = visit("two-step-setup", keyboard=True)
    page, drive = me.page, me.driver

    me.sign_in(membership.user.email)
    me.open(f"/c/{niksen.slug}/applications/")
    expect(page.locator("h1")).to_have_text(nl("Set up two-step sign-in"))
    me.check("Role waits for two-step sign-in")

    drive.activate(main(page).get_by_role("link", name=nl("Set up the authenticator app")))
    # Changing how you sign in first asks for the password again.
    expect(page).to_have_url(re.compile(r"/account/reauthenticate/"))
    me.check("Confirm with the password")
    form = main(page).locator("form")
    drive.fill(form.get_by_label(nl("Password"), exact=True), DEMO_PASSWORD)
    drive.activate(form.get_by_role("button", name=nl("Confirm")))
    expect(page).to_have_url(re.compile(r"/account/2fa/totp/activate/$"))
    me.check("Set up the authenticator app")
    # The page makes a new key each time it loads (the checks above loaded it in
    # other windows of the same session): scan the one on the screen now.
    page.reload()
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret)
    form = main(page).locator("form")
    drive.fill(form.get_by_label(re.compile(nl("Authenticator code"))), _code(secret))
    drive.activate(form.get_by_role("button", name=nl("Switch on")))
    assert Authenticator.objects.filter(user=membership.user, type=Authenticator.Type.TOTP).exists()
    me.check("Recovery codes")

    me.open(f"/c/{niksen.slug}/applications/")
    expect(page.locator("h1")).to_have_text(nl("Applications"))
    expect(page.locator(".rk-two-factor-notice")).to_have_count(0)
