"""Browser journeys: Playwright for Python driving the Debian ``chromium`` package
against a live server on the harness's PostgreSQL, with the demo circles loaded.

``make test`` installs chromium with apt when it is missing (as root) and axe-core
from npm (``package-lock.json``). Playwright never downloads a browser here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.core import mail
from django.db import connections
from django.urls import reverse
from django.utils.module_loading import import_string
from playwright.sync_api import Browser, Page, sync_playwright

from accounts.demo import DEMO_PASSWORD, demo_totp_code
from tests.browser.auditing import (
    AXE_SCRIPT,
    SCREENSHOTS,
    WIDTHS,
    Audit,
    csp_violations_collect,
    language_cookie,
)
from tests.browser.driving import Keyboard, Pointer, nl

CHROMIUM = os.environ.get("RUILKRING_CHROMIUM", "/usr/bin/chromium")


@contextmanager
def chromium() -> Iterator[Browser]:
    """The Debian chromium package, headless, without a sandbox (the tests run as
    root in CI) and without background traffic."""
    assert os.path.exists(CHROMIUM), (
        f"The browser tests need Chromium at {CHROMIUM}: `make test` installs the Debian "
        "package `chromium` when run as root; otherwise run `apt-get install chromium`."
    )
    assert AXE_SCRIPT.exists(), "axe-core is missing: `make test` installs it with `npm ci`."
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-extensions"],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser(site) -> Iterator[Browser]:
    """Chromium for one journey. It starts after the site and stops before the
    database is cleaned: Playwright's event loop lives in this thread, and
    Django refuses database calls beside a running loop."""
    with chromium() as browser:
        yield browser
        # While Playwright runs, the test's own queries get a connection of their
        # own (Django's connections follow the event loop's context): close it.
        connections.close_all()


@pytest.fixture
def bare_browser() -> Iterator[Browser]:
    """Chromium without a site or a database, for pages the test writes itself."""
    with chromium() as browser:
        yield browser


@pytest.fixture(autouse=True)
def _orm_beside_the_browser(monkeypatch):
    """Playwright's sync API keeps an event loop in this thread; the test's own
    database calls (setting up, checking what a journey changed) are still plain
    synchronous calls, between browser steps."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@dataclass
class Site:
    url: str
    logins: dict[str, str]

    def address(self, path: str) -> str:
        return self.url + path


@pytest.fixture
def site(live_server, transactional_db, settings) -> Site:
    """The demo circles on a live server, as `make run` shows them."""
    settings.LANGUAGE_CODE = "nl"
    settings.RUILKRING_TWO_FACTOR_REQUIRED = True
    logins: dict[str, str] = {}
    for seeder in settings.RUILKRING_DEMO_SEEDERS:
        logins.update(import_string(seeder)())
    mail.outbox.clear()
    return Site(url=live_server.url, logins=logins)


@dataclass
class Visit:
    """One person's browser: a page, the way they drive it, and the checks."""

    page: Page
    driver: Pointer | Keyboard
    audit: Audit
    site: Site

    def open(self, path: str) -> None:
        self.page.goto(self.site.address(path))

    def check(self, name: str) -> None:
        self.audit.check(self.page, name)

    def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> None:
        self.open("/account/login/")
        form = self.page.locator("main form")
        self.driver.fill(form.get_by_label("E-mailadres", exact=True), email)
        self.driver.fill(form.get_by_label("Wachtwoord", exact=True), password)
        self.driver.activate(form.get_by_role("button", name="Aanmelden"))
        self.page.wait_for_load_state("load")
        if self.page.url.endswith(reverse("mfa_authenticate")):
            # Coordinators, observers and administrators: the code from their app.
            self.check("two-step-sign-in")
            form = self.page.locator("main form").first
            self.driver.fill(form.get_by_label("Code", exact=True), demo_totp_code())
            self.driver.activate(form.get_by_role("button", name=nl("Sign in")))
            self.page.wait_for_load_state("load")


@pytest.fixture
def visit(browser, site) -> Iterator[callable]:
    """Open a browser for one journey: ``visit("member", keyboard=True)``."""
    opened: list[tuple] = []

    def open_visit(
        journey: str,
        *,
        keyboard: bool = False,
        language: str = "nl",
        width: str = "desktop",
        javascript: bool = True,
    ) -> Visit:
        context = browser.new_context(
            viewport=WIDTHS[width],
            locale=language,
            java_script_enabled=javascript,
            service_workers="block",
            accept_downloads=True,
        )
        context.add_cookies([language_cookie(site.url, language)])
        page = context.new_page()
        page.set_default_timeout(15_000)
        # Each journey's folder holds its last run's screenshots only.
        shutil.rmtree(SCREENSHOTS / journey, ignore_errors=True)
        audit = Audit(browser=browser, journey=journey, language=language, width=width)
        csp_violations_collect(page, audit.csp_violations)
        driver = Keyboard(page) if keyboard else Pointer(page)
        opened.append((context, audit))
        return Visit(page=page, driver=driver, audit=audit, site=site)

    yield open_visit
    findings = []
    csp_violations = []
    for context, audit in opened:
        audit.close()
        context.close()
        findings += audit.findings
        csp_violations += audit.csp_violations
    # First, because a refused stylesheet or script breaks much else too.
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(csp_violations)
    assert not findings, "WCAG 2.1 A/AA violations:\n" + "\n".join(str(f) for f in findings)
