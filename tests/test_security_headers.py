"""The security headers every page carries, and the HTTPS settings of production.

The Content-Security-Policy allows no inline script or style: a page that needs
one fails here (for what the server sends) and in the browser journeys (for what
Chromium refuses, tests/browser/conftest.py).
"""

import base64
import hashlib
from html.parser import HTMLParser

import pytest
from django.test import override_settings

from tests.settings_values import production_settings, settings_module

pytestmark = pytest.mark.django_db

# Pages anyone can open: none may need an inline script or style. (The admin has
# no sign-in page of its own: it sends people to /account/login/.)
PUBLIC_PAGES = ["/", "/account/login/", "/account/signup/", "/accessibility/"]
# Script types a browser does not run, which a policy therefore does not block.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


class InlineCode(HTMLParser):
    """The inline scripts, <style> blocks and style attributes of a page."""

    def __init__(self, html: str):
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.style_attributes: list[str] = []
        self._open: tuple[str, list[str]] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "style" in attributes:
            self.style_attributes.append(f"<{tag} style={attributes['style']!r}>")
        if tag == "script" and "src" not in attributes:
            if attributes.get("type", "").lower() not in DATA_SCRIPT_TYPES:
                self._open = ("script", [])
        elif tag == "style":
            self._open = ("style", [])

    def handle_data(self, data):
        if self._open:
            self._open[1].append(data)

    def handle_endtag(self, tag):
        if self._open and tag == self._open[0]:
            text = "".join(self._open[1])
            (self.scripts if tag == "script" else self.styles).append(text)
            self._open = None


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header, as its directives and their sources."""
    directives = {}
    for directive in response["Content-Security-Policy"].split(";"):
        name, *sources = directive.split()
        directives[name] = sources
    return directives


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_a_page_allows_only_this_sites_own_scripts_and_styles(client):
    response = client.get("/")

    assert response.status_code == 200
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def test_a_page_cannot_be_framed_nor_sniffed_and_keeps_its_address_to_itself(client):
    response = client.get("/")

    assert policy(response)["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_a_public_page_needs_no_inline_script_or_style(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    found = InlineCode(response.content.decode())
    assert found.scripts == []
    assert found.styles == []
    assert found.style_attributes == []


def test_a_theme_on_another_site_may_style_the_pages_and_bring_its_fonts(client, monkeypatch):
    monkeypatch.setenv("DJANGO_THEME_CSS_URL", "https://thema.example.nl:8443/utrecht/index.css")
    base = settings_module("base")

    with override_settings(
        CONTENT_SECURITY_POLICY=base["CONTENT_SECURITY_POLICY"],
        RUILKRING_THEME_CSS_URL=base["RUILKRING_THEME_CSS_URL"],
    ):
        response = client.get("/")

    assert b'href="https://thema.example.nl:8443/utrecht/index.css"' in response.content
    directives = policy(response)
    assert directives["style-src"] == ["'self'", "https://thema.example.nl:8443"]
    assert directives["font-src"] == ["'self'", "https://thema.example.nl:8443"]
    assert directives["script-src"] == ["'self'"]


def test_a_theme_on_this_site_adds_no_source(monkeypatch):
    monkeypatch.setenv("DJANGO_THEME_CSS_URL", "/static/css/gemeente.css")

    base = settings_module("base")

    assert base["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["style-src"] == ["'self'"]


def test_the_api_docs_run_no_inline_script(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    found = InlineCode(response.content.decode())
    assert found.scripts == []
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    start_up = client.get("/api/docs/?script=")
    assert start_up.status_code == 200
    assert start_up["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in start_up.content


def test_the_api_docs_allow_exactly_their_own_inline_style_by_hash(client):
    """drf-spectacular's page has one small <style>; an upgrade that changes it
    must update ruilkring.urls.SWAGGER_UI_STYLE_HASH, or the page loses it."""
    response = client.get("/api/docs/")

    found = InlineCode(response.content.decode())
    assert found.style_attributes == []
    assert len(found.styles) == 1
    assert policy(response)["style-src"] == ["'self'", csp_hash(found.styles[0])]
    assert policy(client.get("/"))["style-src"] == ["'self'"]


def test_production_insists_on_https_and_secure_cookies(monkeypatch):
    production = production_settings(monkeypatch)

    assert production["DEBUG"] is False
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 365 * 24 * 60 * 60
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SECURE_HSTS_PRELOAD"] is True
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert production["SECURE_REFERRER_POLICY"] == "same-origin"
    assert production["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["script-src"] == ["'self'"]


def test_production_https_settings_follow_the_environment(monkeypatch):
    production = production_settings(
        monkeypatch,
        DJANGO_SECURE_HSTS_SECONDS="600",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        DJANGO_SECURE_HSTS_PRELOAD="false",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_PROXY_SSL_HEADER="",
    )

    assert production["SECURE_HSTS_SECONDS"] == 600
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert production["SECURE_HSTS_PRELOAD"] is False
    assert production["SECURE_SSL_REDIRECT"] is False
    assert production["SECURE_PROXY_SSL_HEADER"] is None
    assert production["SESSION_COOKIE_SECURE"] is True


def test_production_rate_limits_count_the_visitor_behind_the_proxy_not_the_proxy(monkeypatch):
    assert production_settings(monkeypatch)["ALLAUTH_TRUSTED_PROXY_COUNT"] == 1
    assert (
        production_settings(monkeypatch, DJANGO_TRUSTED_PROXY_COUNT="0")[
            "ALLAUTH_TRUSTED_PROXY_COUNT"
        ]
        == 0
    )


def test_production_requires_two_step_sign_in_for_the_roles(monkeypatch):
    production = production_settings(monkeypatch, RUILKRING_TWO_FACTOR_REQUIRED="false")
    # Not a setting a deployment can switch off.
    assert production["RUILKRING_TWO_FACTOR_REQUIRED"] is True
    assert "allauth.mfa" in production["INSTALLED_APPS"]
    assert production["MFA_SUPPORTED_TYPES"] == ["totp", "recovery_codes"]
