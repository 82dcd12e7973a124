"""The accessibility statement (toegankelijkheidsverklaring), as a visitor reads it
and as the municipality hosting the site sets it up."""

import json
import re
from itertools import pairwise
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from accounts.accessibility import AXE_CORE_VERSION, accessibility_statement_get

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _statement_as_shipped(settings):
    """The defaults from base settings, whatever the environment running the tests sets."""
    settings.RUILKRING_ACCESSIBILITY_STATEMENT_URL = "/accessibility/"
    settings.RUILKRING_ACCESSIBILITY_ORGANISATION = ""
    settings.RUILKRING_ACCESSIBILITY_CONTACT = ""
    settings.RUILKRING_ACCESSIBILITY_STATEMENT_DATE = ""
    settings.RUILKRING_ACCESSIBILITY_COMPLIANCE = "partially"
    settings.RUILKRING_ACCESSIBILITY_LIMITATIONS = ""
    settings.RUILKRING_ACCESSIBILITY_STATEMENT_TEXT = {"nl": "", "en": ""}
    settings.RUILKRING_THEME_CSS_URL = ""


def _page(client) -> str:
    response = client.get(reverse("accessibility"))
    assert response.status_code == 200
    return response.content.decode()


def _shows(page: str, text: str) -> bool:
    return escape(text) in page


def test_a_visitor_reads_what_the_automated_checks_cover(client):
    page = _page(client)
    for text in [
        "Accessibility statement",
        "Partially compliant",
        "The organisation that hosts this site",
        "axe-core 4.14.1",
        "wcag2a, wcag2aa, wcag21a, wcag21aa",
        "Chromium, driven by Playwright",
        "a new member, a coordinator and a municipality observer",
        "in Dutch and in English",
        "1280 pixels",
        "375 pixels",
        "with the keyboard only",
        "JavaScript switched off",
        "checked to be translated",
        "fuzzing",
        "Automated checks find only part of the problems",
        "their photos",
        "Tell your coordinator",
    ]:
        assert _shows(page, text), text
    assert "<time" not in page, "no date is set, so none is shown"


def test_a_visitor_who_chose_dutch_reads_the_statement_in_dutch(client):
    client.post(reverse("set_language"), {"language": "nl", "next": "/"})
    page = _page(client)
    with translation.override("nl"):
        dutch = accessibility_statement_get(language="nl")
    assert '<html lang="nl"' in page
    assert "Toegankelijkheid" in page
    assert len(dutch.automated_checks) == 7
    for text in [dutch.status_explanation, *dutch.automated_checks, *dutch.not_covered]:
        assert _shows(page, text), text
    for fact in ["axe-core 4.14.1", "wcag21aa", "1280", "375", "Playwright"]:
        assert fact in page, fact


def test_the_municipality_names_itself_its_contact_status_and_date(client, settings):
    settings.RUILKRING_ACCESSIBILITY_ORGANISATION = "gemeente Utrecht"
    settings.RUILKRING_ACCESSIBILITY_CONTACT = "toegankelijkheid@utrecht.nl"
    settings.RUILKRING_ACCESSIBILITY_COMPLIANCE = "fully"
    settings.RUILKRING_ACCESSIBILITY_STATEMENT_DATE = "2025-03-14"
    page = _page(client)
    assert "<dd>Gemeente Utrecht</dd>" in page
    assert "Tell gemeente Utrecht at" in page
    assert 'href="mailto:toegankelijkheid@utrecht.nl">toegankelijkheid@utrecht.nl</a>' in page
    assert "Fully compliant" in page
    assert "The site meets all requirements of WCAG 2.1 level AA." in page
    assert "Partially compliant" not in page
    assert '<time datetime="2025-03-14">14 March 2025</time>' in page
    assert "The organisation that hosts this site" not in page


def test_a_contact_form_address_is_linked_as_it_is(client, settings):
    settings.RUILKRING_ACCESSIBILITY_CONTACT = "https://www.utrecht.nl/toegankelijkheid/"
    page = _page(client)
    assert 'href="https://www.utrecht.nl/toegankelijkheid/"' in page


def test_the_not_yet_status_says_so(client, settings):
    settings.RUILKRING_ACCESSIBILITY_COMPLIANCE = "not_yet"
    page = _page(client)
    assert "Not yet compliant" in page
    assert "The site does not meet WCAG 2.1 level AA yet." in page


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COMPLIANCE", "mostly"),
        ("STATEMENT_DATE", "14-03-2025"),
        ("CONTACT", "javascript:alert(1)"),
        ("CONTACT", "bel ons"),
    ],
)
def test_a_setting_the_page_cannot_show_is_refused_with_its_variable_named(settings, name, value):
    setattr(settings, f"RUILKRING_ACCESSIBILITY_{name}", value)
    with pytest.raises(ImproperlyConfigured, match=f"DJANGO_ACCESSIBILITY_{name}"):
        accessibility_statement_get(language="en")


def test_known_limitations_are_shown_as_paragraphs_and_escaped(client, settings):
    settings.RUILKRING_ACCESSIBILITY_LIMITATIONS = (
        "The map of areas cannot be used with a keyboard.\nA list of areas follows in May.\n\n"
        "Old PDF files <b>have no headings</b>."
    )
    page = _page(client)
    assert "Known limitations" in page
    assert (
        '<p class="utrecht-paragraph">The map of areas cannot be used with a keyboard.<br>'
        "A list of areas follows in May.</p>"
    ) in page
    assert "Old PDF files &lt;b&gt;have no headings&lt;/b&gt;." in page


def test_without_known_limitations_there_is_no_such_section(client):
    assert "Known limitations" not in _page(client)


def test_the_hosts_own_text_replaces_the_default_body_and_is_shown_as_text(client, settings):
    settings.RUILKRING_ACCESSIBILITY_ORGANISATION = "gemeente Utrecht"
    settings.RUILKRING_ACCESSIBILITY_CONTACT = "toegankelijkheid@utrecht.nl"
    settings.RUILKRING_ACCESSIBILITY_STATEMENT_TEXT = {
        "nl": "",
        "en": "We checked this site in March.\n\n<script>alert('hacked')</script>",
    }
    page = _page(client)
    assert '<p class="utrecht-paragraph">We checked this site in March.</p>' in page
    assert "&lt;script&gt;alert(&#x27;hacked&#x27;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "axe-core" not in page
    assert "What the automated checks cover" not in page
    assert "Gemeente Utrecht" in page, "the facts from the settings stay"
    assert 'href="mailto:toegankelijkheid@utrecht.nl"' in page, "and so does the contact"


def test_the_hosts_own_text_in_one_language_leaves_the_other_with_the_default(settings):
    settings.RUILKRING_ACCESSIBILITY_STATEMENT_TEXT = {"nl": "Onze eigen verklaring.", "en": ""}
    assert accessibility_statement_get(language="nl").custom_paragraphs == [
        "Onze eigen verklaring."
    ]
    assert accessibility_statement_get(language="en").custom_paragraphs == []


def test_a_statement_published_elsewhere_is_linked_from_this_page(client, settings):
    settings.RUILKRING_ACCESSIBILITY_ORGANISATION = "gemeente Utrecht"
    register = "https://www.toegankelijkheidsverklaring.nl/register/12345"
    settings.RUILKRING_ACCESSIBILITY_STATEMENT_URL = register
    page = _page(client)
    assert "The formal statement of gemeente Utrecht is published on its own page" in page
    assert page.count(f'href="{register}"') == 2, "here and in the footer"


def test_this_page_does_not_link_to_itself_as_the_formal_statement(client, settings):
    settings.RUILKRING_SITE_URL = "https://ruilkring.example.nl"
    settings.RUILKRING_ACCESSIBILITY_STATEMENT_URL = "https://ruilkring.example.nl/accessibility/"
    assert "read the formal accessibility statement" not in _page(client)


def test_a_theme_of_the_hosts_own_is_named_as_unchecked(client, settings):
    assert "its own colours and fonts" not in _page(client)
    settings.RUILKRING_THEME_CSS_URL = "https://cdn.example.nl/utrecht-theme.css"
    assert "its own colours and fonts" in _page(client)


@pytest.mark.parametrize("limitations", ["", "The map cannot be used with a keyboard."])
def test_headings_go_down_one_level_at_a_time(client, settings, limitations):
    settings.RUILKRING_ACCESSIBILITY_LIMITATIONS = limitations
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", _page(client))]
    assert levels[0] == 1
    assert levels.count(1) == 1
    assert all(later <= earlier + 1 for earlier, later in pairwise(levels))


def test_the_statement_names_the_axe_core_version_the_checks_install():
    package = json.loads((Path(django_settings.BASE_DIR) / "package.json").read_text())
    assert package["dependencies"]["axe-core"] == AXE_CORE_VERSION
