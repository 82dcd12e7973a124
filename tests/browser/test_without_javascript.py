"""A member's everyday errands with JavaScript switched off: every form is plain
HTML that the server answers, so paying, reading the statement, asking for
help and choosing the language all work without a script.

axe needs JavaScript to run, so this journey takes screenshots only; the other
journeys check the same pages with axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from ledger.models import Entry, Transfer, TransferKind
from listings.models import Listing, ListingKind, ListingStatus
from tests.browser.auditing import SCREENSHOTS
from tests.browser.driving import main, nl

pytestmark = pytest.mark.django_db(transaction=True)

JOURNEY = "no-javascript"


def screenshot(page: Page, name: str) -> None:
    """What the page looks like without its scripts, for a person to look at."""
    folder = SCREENSHOTS / JOURNEY
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_a_member_pays_asks_for_help_and_switches_language_without_javascript(visit, site):
    me = visit(JOURNEY, javascript=False)
    page, drive = me.page, me.driver
    anna = User.objects.get(email=site.logins["member"])
    mieke = User.objects.get(email=site.logins["coordinator"])

    me.sign_in(anna.email)
    drive.activate(page.get_by_role("navigation").get_by_role("link", name=nl("My circles")))
    drive.activate(main(page).get_by_role("link", name="Niksen", exact=True))
    screenshot(page, "01-circle")

    # Pay Mieke for cleaning the windows.
    drive.activate(main(page).get_by_role("link", name=nl("Pay someone")))
    expect(page).to_have_url(re.compile(r"/c/niksen/pay/$"))
    form = main(page).locator("form")
    drive.choose(form.get_by_label(nl("Who do you pay?")), mieke.display_name)
    drive.fill(form.get_by_label(nl("How much")), "2,5")
    drive.fill(form.get_by_label(nl("What for")), "Ramen gezeemd")
    screenshot(page, "02-pay-filled-in")
    drive.activate(form.get_by_role("button", name=nl("Pay"), exact=True))
    expect(page).to_have_url(re.compile(r"/c/niksen/account/$"))
    expect(main(page).get_by_role("status")).to_contain_text(
        nl("Paid. Thank you for keeping the circle going!")
    )
    line = main(page).get_by_role("row").filter(has_text="Ramen gezeemd")
    expect(line).to_have_count(1)
    expect(line).to_contain_text(mieke.display_name)
    expect(line).to_contain_text("−2,5 niksen")
    screenshot(page, "03-statement")
    payment = Transfer.objects.get(memo="Ramen gezeemd")
    assert payment.kind == TransferKind.PAYMENT and payment.community.slug == "niksen"
    amounts = dict(
        Entry.objects.filter(transfer=payment).values_list("account__membership__user", "amount")
    )
    assert amounts == {anna.pk: -250, mieke.pk: 250}

    # Ask the circle for help in the garden.
    drive.activate(main(page).get_by_role("link", name="Niksen", exact=True))
    drive.activate(main(page).get_by_role("link", name=nl("Offers and requests")))
    drive.activate(main(page).get_by_role("link", name=nl("Ask for help"), exact=True))
    form = main(page).locator("form")
    expect(form.get_by_label(nl("I ask for help"))).to_be_checked()
    drive.fill(form.get_by_label(nl("Title"), exact=True), "Heg snoeien")
    drive.fill(form.get_by_label(nl("Description"), exact=True), "De heg is te hoog voor mij.")
    drive.choose(form.get_by_label(nl("Category"), exact=True), "Tuin en planten")
    drive.tick(form.get_by_label(nl("Practical help")))
    screenshot(page, "04-request-filled-in")
    drive.activate(form.get_by_role("button", name=nl("Place it")))
    expect(page.locator("h1")).to_have_text("Heg snoeien")
    expect(main(page).get_by_role("status")).to_contain_text(
        nl("Your listing is up. Members of the circle can find it now.")
    )
    screenshot(page, "05-request-placed")
    listing = Listing.objects.get(title="Heg snoeien")
    assert listing.owner.user == anna and listing.community.slug == "niksen"
    assert listing.kind == ListingKind.REQUEST and listing.status == ListingStatus.ACTIVE

    # Read the site in English from here on.
    header = page.get_by_role("banner")
    drive.choose(header.get_by_label(nl("Language")), "English")
    drive.activate(header.get_by_role("button", name=nl("Change language")))
    expect(page).to_have_url(re.compile(rf"/c/niksen/listings/{listing.pk}/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    navigation = page.get_by_role("navigation", name="Main menu")
    expect(navigation.get_by_role("link", name="My circles")).to_be_visible()
    expect(header.get_by_role("button", name="Change language")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Heg snoeien")
    screenshot(page, "06-in-english")
    anna.refresh_from_db()
    assert anna.language == "en"

    # Amounts follow the language: "2,5" in Dutch is "2.5" in English.
    drive.activate(navigation.get_by_role("link", name="My circles"))
    drive.activate(main(page).get_by_role("link", name="Niksen", exact=True))
    drive.activate(main(page).get_by_role("link", name="My balance and statement"))
    line = main(page).get_by_role("row").filter(has_text="Ramen gezeemd")
    expect(line).to_contain_text("−2.5 niksen")
    screenshot(page, "07-statement-in-english")
