"""Every URL the site has, tried by someone who is not signed in.

The list comes from the URL configuration itself, so a new page cannot be
forgotten: it is either on the short list of public pages below, or an
anonymous visitor is sent to sign in or refused. Nothing answers with a 500.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db

# Pages anyone may open: the welcome, signing up and in, getting a lost password
# back, confirming an email address, and the service pages.
PUBLIC = {
    "home",
    "healthz",
    "accessibility",
    "account_login",
    "account_signup",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "account_confirm_email",
    "account_email_verification_sent",
    "account_inactive",
    "account_logout",
    "account_login_code_confirm",
    "account_confirm_login_code",
    "account_reset_password_code_confirm",
    "account_confirm_password_reset_code",
    "account_signup_by_passkey",
    "account_request_login_code",
    # The admin's own sign-in and sign-out pages, and the language switch.
    "login",
    "logout",
    "set_language",
    # The privacy statement, and the page that confirms an erasure to someone
    # who has just been signed out by it.
    "statement",
    "erased",
    # The API's description and its documentation page (no data in them).
    "api_schema",
    "api_docs",
}
# The API answers 401 (with a Bearer challenge) to a request without credentials.
REFUSED = {302, 400, 401, 403, 404, 405}


def _patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _sample_path(route: str, slug: str, membership_id: int) -> str:
    """A concrete path for a route, with real identifiers so a refusal is not just a 404."""

    def fill(match: re.Match) -> str:
        converter, name = (match.group(1) or "str"), match.group(2)
        if converter == "int" or name.endswith("_id") or name in ("pk", "id"):
            return str(membership_id)
        if converter == "slug" or name == "slug":
            return slug
        return "x"

    path = re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)
    # Admin routes are regular expressions; give them plain sample values.
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    path = path.replace("^", "").replace("$", "").replace("\\", "")
    return "/" + path.lstrip("/")


ALL_ROUTES = sorted(_patterns(), key=lambda item: item[0])


def test_the_url_list_covers_the_pages_of_every_app():
    routes = [route for route, _ in ALL_ROUTES]
    assert any("members" in r for r in routes)
    assert any(r.startswith("account/") for r in routes)
    assert any(r.startswith("admin/") for r in routes)


@pytest.mark.parametrize(("route", "pattern"), ALL_ROUTES, ids=[r for r, _ in ALL_ROUTES])
def test_anonymous_visitors_are_sent_to_sign_in_or_refused(client, route, pattern):
    membership = MembershipFactory(community=CommunityFactory(slug="niksen"))
    path = _sample_path(route, "niksen", membership.pk)
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        assert response.status_code < 500, (method, path)
        if pattern.name in PUBLIC:
            continue
        assert response.status_code in REFUSED, (method, path, response.status_code)
        if response.status_code == 302:
            location = response["Location"]
            assert "/login/" in location or location.startswith("/admin/login/"), (path, location)
