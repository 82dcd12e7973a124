"""The accessibility statement (toegankelijkheidsverklaring).

Every site a Dutch government body hosts must meet WCAG 2.1 level AA and say how
far it does (Besluit digitale toegankelijkheid overheid). A municipality hosting
Ruilkring states who it is, the compliance status, the date, where to report a
problem and any known limitations in its settings (the accessibility block in
``ruilkring.settings.base``). What the automated checks cover is the same for every
instance, so it is written here, once, in translatable sentences; an instance may
replace that text with its own, per language.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ruilkring.contacts import ContactLink, contact_link

# What the browser journeys check with. The statement names them, so change them
# together with the checks (package.json pins axe-core; a test keeps the two equal).
AXE_CORE_VERSION = "4.14.1"
AXE_RULE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
DESKTOP_WIDTH_PX = 1280
MOBILE_WIDTH_PX = 375


class ComplianceStatus(models.TextChoices):
    FULLY = "fully", _("Fully compliant")
    PARTIALLY = "partially", _("Partially compliant")
    NOT_YET = "not_yet", _("Not yet compliant")


COMPLIANCE_EXPLANATIONS = {
    ComplianceStatus.FULLY: _("The site meets all requirements of WCAG 2.1 level AA."),
    ComplianceStatus.PARTIALLY: _(
        "The site meets WCAG 2.1 level AA in part: some requirements are not met yet."
    ),
    ComplianceStatus.NOT_YET: _("The site does not meet WCAG 2.1 level AA yet."),
}


@dataclass(frozen=True)
class AccessibilityStatement:
    organisation: str
    status: ComplianceStatus
    status_explanation: str
    statement_date: datetime.date | None
    contact: ContactLink | None
    # The host's own statement elsewhere (the footer's link); empty when that is this page.
    official_statement_url: str
    # The host's own text for the visitor's language; when there is one, the page
    # shows it instead of the explanation, limitations and lists of checks below.
    custom_paragraphs: list[str]
    limitation_paragraphs: list[str]
    automated_checks: list[str]
    not_covered: list[str]


def accessibility_statement_get(*, language: str) -> AccessibilityStatement:
    """What the accessibility page shows, in the active language, with the custom
    text for ``language`` if the instance set one.

    Raises ImproperlyConfigured, naming the variable, when the compliance status,
    date or contact setting is not one the page can show."""
    organisation = settings.RUILKRING_ACCESSIBILITY_ORGANISATION or gettext(
        "the organisation that hosts this site"
    )
    status = _compliance_status(settings.RUILKRING_ACCESSIBILITY_COMPLIANCE)
    return AccessibilityStatement(
        organisation=organisation,
        status=status,
        status_explanation=str(COMPLIANCE_EXPLANATIONS[status]),
        statement_date=_statement_date(settings.RUILKRING_ACCESSIBILITY_STATEMENT_DATE),
        contact=contact_link(
            settings.RUILKRING_ACCESSIBILITY_CONTACT, variable="DJANGO_ACCESSIBILITY_CONTACT"
        ),
        official_statement_url=_official_statement_url(),
        custom_paragraphs=_paragraphs(
            settings.RUILKRING_ACCESSIBILITY_STATEMENT_TEXT.get(language, "")
        ),
        limitation_paragraphs=_paragraphs(settings.RUILKRING_ACCESSIBILITY_LIMITATIONS),
        automated_checks=_automated_checks(),
        not_covered=_not_covered(),
    )


def _automated_checks() -> list[str]:
    return [
        gettext(
            "Every page the tests visit is checked with axe-core %(version)s against the "
            "rules of WCAG 2.1 levels A and AA (the rule tags %(tags)s)."
        )
        % {"version": AXE_CORE_VERSION, "tags": ", ".join(AXE_RULE_TAGS)},
        gettext(
            "The tests visit the pages in a real browser (Chromium, driven by Playwright), "
            "along the journeys of a new member, a coordinator and a municipality observer."
        ),
        gettext(
            "Each journey runs in Dutch and in English, at a desktop width (%(desktop)s "
            "pixels) and a mobile width (%(mobile)s pixels)."
        )
        % {"desktop": DESKTOP_WIDTH_PX, "mobile": MOBILE_WIDTH_PX},
        gettext(
            "Each journey is also done once with the keyboard only: the tab order is "
            "checked, the focus must stay visible and the keyboard must never get stuck."
        ),
        gettext(
            "One journey is done with JavaScript switched off, to check that the site "
            "works without it."
        ),
        gettext(
            "Every text in the page templates is checked to be translated, so you never "
            "meet a sentence in a language you did not choose."
        ),
        gettext(
            "The API, for apps that connect to the site, is documented and tested with "
            "large amounts of generated input (fuzzing)."
        ),
    ]


def _not_covered() -> list[str]:
    not_covered = [
        gettext(
            "Automated checks find only part of the problems that WCAG describes. Many "
            "requirements need a person to judge them, such as whether a text is clear "
            "or whether a heading describes what follows."
        ),
        gettext(
            "What members write and upload themselves is not checked: the titles and "
            "descriptions of offers and requests, and their photos. A photo is described "
            "to screen reader users by the title of its offer or request, which may not "
            "say what the photo shows."
        ),
        gettext("Pages that the journeys do not visit are not checked."),
        gettext(
            "The tests use one browser. Other browsers and assistive technology, such "
            "as a particular screen reader, may behave differently."
        ),
    ]
    if settings.RUILKRING_THEME_CSS_URL:
        not_covered.append(
            gettext(
                "This site has its own colours and fonts (a theme). The automated tests "
                "do not see them: they run with the standard look."
            )
        )
    return not_covered


def _compliance_status(value: str) -> ComplianceStatus:
    try:
        return ComplianceStatus(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"DJANGO_ACCESSIBILITY_COMPLIANCE must be one of {', '.join(ComplianceStatus.values)}, "
            f"not {value!r}."
        ) from None


def _statement_date(value: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"DJANGO_ACCESSIBILITY_STATEMENT_DATE must be a date as YYYY-MM-DD, not {value!r}."
        ) from None


def _official_statement_url() -> str:
    url = settings.RUILKRING_ACCESSIBILITY_STATEMENT_URL
    this_page = reverse("accessibility")
    return "" if url in {this_page, settings.RUILKRING_SITE_URL + this_page} else url


def _paragraphs(text: str) -> list[str]:
    """Plain text split into paragraphs at blank lines; the template escapes them."""
    return [
        paragraph.strip()
        for paragraph in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
        if paragraph.strip()
    ]
