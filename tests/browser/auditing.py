"""axe-core on every page a journey visits, in both languages, at two widths.

The journey's own page is checked as it stands (a form with its errors, say).
The same address is then opened, with the journey's cookies, in the other
language and at the other width, and checked too. Every check saves a
screenshot under ``var/screenshots/<journey>/``. Violations are collected and
reported together at the end of the journey, so one run shows all of them.
So are the Content-Security-Policy violations Chromium reports on any of these
pages: an inline script or style, or a file from another site, that it refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, Page

AXE_SCRIPT = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

# The rules of WCAG 2.0 and 2.1 at levels A and AA, the level Dutch public
# bodies must meet (Besluit digitale toegankelijkheid overheid).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 375, "height": 812}}
LANGUAGES = ("nl", "en")

# Chromium reports what the policy blocks as a console error that names it:
# "Refused to load the stylesheet ... because it violates the following Content
# Security Policy directive ..." or "Executing inline script violates the
# following Content Security Policy directive ...".
CSP_CONSOLE_MARK = "Content Security Policy"

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  return result.violations.map((v) => ({
    rule: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  }));
}"""


@dataclass
class Finding:
    page: str
    view: str
    rule: str
    impact: str
    help: str
    targets: list[str]

    def __str__(self) -> str:
        where = ", ".join(self.targets)
        return f"{self.page} [{self.view}] {self.rule} ({self.impact}): {self.help} at {where}"


def axe_load(page: Page) -> None:
    """Put axe into ``page``. Evaluated from outside, as the browser's developer
    tools would, because the site's policy refuses a script tag with inline code."""
    page.evaluate(AXE_SCRIPT.read_text())


def axe_violations(page: Page) -> list[dict]:
    """What axe finds against the WCAG levels above on ``page`` as it stands:
    one dict per rule broken, with the first few elements that break it."""
    axe_load(page)
    return page.evaluate(AXE_RUN, WCAG_TAGS)


def axe_rule_count(page: Page) -> int:
    """How many axe rules the checks run: those tagged with the WCAG levels above."""
    axe_load(page)
    return page.evaluate("(tags) => axe.getRules(tags).length", WCAG_TAGS)


def csp_violations_collect(page: Page, into: list[str]) -> None:
    """From now on, add to ``into`` each Content-Security-Policy violation that
    Chromium reports on ``page``, with the address it happened on."""

    def on_console(message) -> None:
        if CSP_CONSOLE_MARK in message.text:
            into.append(f"{page.url}: {message.text}")

    page.on("console", on_console)


def view_name(language: str, width: str) -> str:
    return f"{language}-{width}"


@dataclass
class Audit:
    """The accessibility checks and screenshots of one journey."""

    browser: Browser
    journey: str
    language: str
    width: str
    findings: list[Finding] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    _others: dict[str, BrowserContext] = field(default_factory=dict)

    def check(self, page: Page, name: str) -> None:
        """Check ``page`` as it stands, then its address in the other three views."""
        number = len(self.pages) + 1
        self.pages.append(name)
        slug = f"{number:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"
        self._check_one(page, name, slug, view_name(self.language, self.width))
        cookies = page.context.cookies()
        for language in LANGUAGES:
            for width in WIDTHS:
                view = view_name(language, width)
                if (language, width) == (self.language, self.width):
                    continue
                context = self._context(view, width, language)
                context.clear_cookies()
                context.add_cookies(
                    [c for c in cookies if c["name"] != settings.LANGUAGE_COOKIE_NAME]
                    + [language_cookie(page.url, language)]
                )
                other = context.new_page()
                csp_violations_collect(other, self.csp_violations)
                other.goto(page.url)
                self._check_one(other, name, slug, view)
                other.close()

    def _context(self, view: str, width: str, language: str) -> BrowserContext:
        if view not in self._others:
            self._others[view] = self.browser.new_context(
                viewport=WIDTHS[width], locale=language, service_workers="block"
            )
        return self._others[view]

    def _check_one(self, page: Page, name: str, slug: str, view: str) -> None:
        page.wait_for_load_state("load")
        folder = SCREENSHOTS / self.journey
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{slug}.{view}.png"), full_page=True)
        for violation in axe_violations(page):
            self.findings.append(Finding(page=name, view=view, **violation))

    def close(self) -> None:
        for context in self._others.values():
            context.close()
        self._others.clear()
        report = SCREENSHOTS / self.journey / "axe.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(
            json.dumps(
                {
                    "pages": self.pages,
                    "views": [view_name(lang, w) for lang in LANGUAGES for w in WIDTHS],
                    "violations": [vars(f) for f in self.findings],
                },
                indent=2,
            )
        )


def language_cookie(url: str, language: str) -> dict:
    """The language choice for the whole site (the cookie's path is ``/``)."""
    return {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": urljoin(url, "/")}
