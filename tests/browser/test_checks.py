"""The checks the journeys lean on can fail: axe finds a broken page, and the
keyboard driver notices a hidden focus, a trap and a control Tab cannot reach.
Each test writes its own small page, so no site and no database are needed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.auditing import axe_rule_count, axe_violations, csp_violations_collect
from tests.browser.driving import Keyboard

# A dot, so that an image really loads without a server.
DOT = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNk+A8AAQUB"
    "AScY42YAAAAASUVORK5CYII="
)


def html(body: str, *, head: str = "") -> str:
    """A page that is sound apart from what ``body`` puts in it."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>A test page</title>{head}</head>"
        f"<body><main><h1>A test page</h1>{body}</main></body></html>"
    )


CLEAN_FORM = html(
    """
    <nav aria-label="Menu"><a href="#one">One</a> <a href="#two">Two</a></nav>
    <form action="#">
      <label for="name">Your name</label> <input id="name" name="name">
      <label for="place">Your place</label> <input id="place" name="place">
      <button type="button">Send</button>
      <label for="note">A note</label> <input id="note" name="note">
    </form>
    """
)


@pytest.fixture
def page(bare_browser: Browser) -> Page:
    context = bare_browser.new_context()
    page = context.new_page()
    page.set_default_timeout(5_000)
    yield page
    context.close()


def test_axe_reports_an_image_without_alternative_text(page):
    page.set_content(html(f'<p>Our garden:</p><img src="{DOT}">'))

    rules = [violation["rule"] for violation in axe_violations(page)]

    assert rules == ["image-alt"]


def test_axe_finds_nothing_on_a_clean_page(page):
    page.set_content(html(f'<p>Our garden:</p><img src="{DOT}" alt="A green dot">'))

    assert axe_violations(page) == []


def test_axe_runs_more_than_fifty_wcag_rules(page):
    page.set_content(html("<p>Nothing to see.</p>"))

    count = axe_rule_count(page)

    print(f"axe checks {count} rules tagged WCAG 2.0/2.1 A and AA")
    assert count > 50


def test_keyboard_fails_on_a_control_whose_focus_cannot_be_seen(page):
    page.set_content(
        html(
            '<a href="#x">A link without a focus ring</a> <input aria-label="Name">',
            head="<style>a:focus { outline: none; box-shadow: none; }</style>",
        )
    )

    with pytest.raises(AssertionError, match="No visible focus on a"):
        Keyboard(page).fill(page.get_by_label("Name"), "Anna")

    assert page.get_by_label("Name").input_value() == ""


def test_keyboard_fails_when_a_script_traps_the_focus(page):
    page.set_content(
        html(
            """
            <label for="trap">Your postcode</label> <input id="trap">
            <a href="#after">After the trap</a>
            <script>
              const trap = document.getElementById('trap');
              trap.addEventListener('blur', () => trap.focus());
            </script>
            """
        )
    )

    with pytest.raises(AssertionError, match="Focus is trapped"):
        Keyboard(page).focus(page.get_by_role("link", name="After the trap"))


def test_keyboard_reports_a_control_taken_out_of_the_tab_order(page):
    page.set_content(
        html(
            """
            <a href="#one">One</a>
            <button type="button" tabindex="-1">Only for a mouse</button>
            <a href="#two">Two</a>
            """
        )
    )

    with pytest.raises(AssertionError, match="Tab never reaches"):
        Keyboard(page).focus(page.get_by_role("button", name="Only for a mouse"))


def test_keyboard_reaches_and_fills_the_last_field_of_a_clean_page(page):
    page.set_content(CLEAN_FORM)
    keyboard = Keyboard(page)

    keyboard.fill(page.get_by_label("A note"), "Ring twice, please.")

    assert page.get_by_label("A note").input_value() == "Ring twice, please."
    # Every control on the way was a stop with a visible focus: two links,
    # two fields and the button, then the note itself.
    assert keyboard.stops_checked == 6
    assert page.get_by_label("Your name").input_value() == ""


def test_a_script_the_policy_refuses_is_collected_and_axe_still_runs(page):
    """The journeys fail on what the site's Content-Security-Policy refuses; axe
    itself is put into the page from outside, so the policy does not stop it."""
    address = "http://checks.invalid/"
    page.route(
        address,
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            headers={"Content-Security-Policy": "default-src 'self'; script-src 'self'"},
            body=html("<p>A page</p><script>document.title = 'changed';</script>"),
        ),
    )
    violations: list[str] = []
    csp_violations_collect(page, violations)

    page.goto(address)

    assert page.title() == "A test page"
    assert len(violations) == 1 and "Content Security Policy" in violations[0]
    assert axe_violations(page) == []
