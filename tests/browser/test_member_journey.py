"""A new member's first weeks, in a real browser: sign up, apply, get admitted,
offer help, answer a request, get helped and pay for it, say thank you, and
read the statement. With the keyboard only, which also checks the tab order,
the visible focus and that nothing traps the focus."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts import services as accounts_services
from accounts.models import Membership, Status, User
from ledger.models import Transfer
from listings import services as listings_services
from listings.models import (
    Exchange,
    ExchangeStatus,
    Listing,
    ListingKind,
    ListingStatus,
    ThankYou,
)
from tests.browser.driving import main, nl

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "een-lang-wachtwoord-42"


def newest_listing_of_others(membership: Membership, kind: str) -> Listing:
    """The newest active offer or request in the circle that is not the member's own."""
    return (
        Listing.objects.filter(
            community=membership.community, kind=kind, status=ListingStatus.ACTIVE
        )
        .exclude(owner=membership)
        .order_by("-created_at")
        .first()
    )


def test_a_new_member_signs_up_trades_and_reads_the_statement(visit, site):
    me = visit("member", keyboard=True)
    page, drive = me.page, me.driver
    email = "sanne.nieuw@example.org"

    # Sign up, and confirm the address from the mail.
    me.open("/")
    me.check("Home")
    drive.activate(page.get_by_role("contentinfo").get_by_role("link", name=nl("Accessibility")))
    expect(page.locator("h1")).to_have_text(nl("Accessibility statement"))
    me.check("Accessibility statement")
    drive.activate(page.get_by_role("link", name="Ruilkring", exact=True))
    drive.activate(page.locator("main").get_by_role("link", name="Account aanmaken"))
    form = page.locator("main form")
    drive.fill(form.get_by_label("E-mailadres"), email)
    drive.fill(form.get_by_label("Je naam"), "Sanne Nieuw")
    drive.fill(form.get_by_label("Wachtwoord", exact=True), PASSWORD)
    drive.fill(form.get_by_label("Wachtwoord (bevestigen)"), PASSWORD)
    me.check("Sign up, filled in")
    drive.activate(form.get_by_role("button", name="Registreren"))
    expect(page.locator("h1")).to_be_visible()
    me.check("Check your mail")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [email]
    link = re.search(r"https?://\S+/account/confirm-email/\S+/", mail.outbox[0].body).group(0)
    me.page.goto(link)
    me.check("Confirm the address")
    drive.activate(page.locator("main form").get_by_role("button"))
    expect(page).to_have_url(re.compile(r"/my-communities/$"))

    # Apply to Niksen.
    drive.activate(page.get_by_role("link", name="Zoek een kring om mee te doen"))
    me.check("Circles")
    drive.activate(page.get_by_role("link", name=re.compile("Niksen")).first)
    me.check("Apply")
    form = page.locator("main form")
    drive.choose(form.get_by_label("Je buurt"), "Binnenstad")
    drive.fill(form.get_by_label("Iets over jezelf"), "Ik fiets graag en help met de tuin.")
    drive.activate(form.get_by_role("button", name=nl("Send application")))
    me.check("Application sent")
    membership = Membership.objects.get(user__email=email, community__slug="niksen")
    assert membership.status == Status.APPLIED

    # A coordinator admits her (the coordinator's journey does that in the browser).
    coordinator = User.objects.get(email=site.logins["coordinator"])
    accounts_services.membership_status_change(
        actor=coordinator, membership=membership, to_status=Status.ACTIVE
    )

    # Offer help.
    drive.activate(page.get_by_role("navigation").get_by_role("link", name=nl("My circles")))
    drive.activate(main(page).get_by_role("link", name="Niksen", exact=True))
    me.check("Circle")
    drive.activate(main(page).get_by_role("link", name=nl("Offers and requests")))
    me.check("Offers and requests")
    drive.activate(main(page).get_by_role("link", name=nl("Offer help"), exact=True))
    form = page.locator("main form")
    drive.fill(form.get_by_label(nl("Title"), exact=True), "Fietsen repareren")
    drive.fill(form.get_by_label(nl("Description"), exact=True), "Band plakken, remmen afstellen.")
    drive.choose(form.get_by_label(nl("Category"), exact=True), "Fiets en vervoer")
    drive.tick(form.get_by_label("Praktische hulp"))
    me.check("New offer")
    drive.activate(form.get_by_role("button", name=nl("Place")))
    expect(page.locator("h1")).to_have_text("Fietsen repareren")
    me.check("My offer")
    assert Listing.objects.filter(
        owner=membership, kind=ListingKind.OFFER, title="Fietsen repareren"
    ).exists()

    # Answer someone's request.
    wanted = newest_listing_of_others(membership, ListingKind.REQUEST)
    drive.activate(main(page).get_by_role("link", name=nl("Offers and requests")))
    drive.choose(main(page).get_by_label(nl("Offer or request")), nl("Request"))
    drive.activate(main(page).get_by_role("button", name=nl("Search")))
    drive.activate(main(page).locator(f'a[href$="/listings/{wanted.pk}/"]'))
    me.check("A request")
    form = main(page).locator("form", has=page.get_by_role("button", name=nl("Offer to help")))
    drive.fill(form.get_by_label(nl("Your message")), "Ik kan zaterdag langskomen.")
    drive.activate(form.get_by_role("button", name=nl("Offer to help")))
    me.check("Help offered")
    assert Exchange.objects.filter(
        listing=wanted, provider=membership, status=ExchangeStatus.PROPOSED
    ).exists()

    # Ask for someone's help, and pay when it is done.
    offered = newest_listing_of_others(membership, ListingKind.OFFER)
    me.open(f"/c/niksen/listings/{offered.pk}/")
    form = main(page).locator("form", has=page.get_by_role("button", name=nl("Ask for this help")))
    drive.fill(form.get_by_label(nl("Your message")), "Zou je me volgende week kunnen helpen?")
    drive.activate(form.get_by_role("button", name=nl("Ask for this help")))
    exchange = Exchange.objects.get(listing=offered, receiver=membership)
    helper = offered.owner.user
    listings_services.exchange_step(
        actor=helper, exchange=exchange, to_status=ExchangeStatus.ACCEPTED
    )
    listings_services.exchange_step(
        actor=helper, exchange=exchange, to_status=ExchangeStatus.DONE, amount=150
    )
    drive.activate(page.get_by_role("navigation").get_by_role("link", name=nl("My circles")))
    drive.activate(main(page).get_by_role("link", name="Niksen", exact=True))
    drive.activate(main(page).get_by_role("link", name=nl("My exchanges")))
    me.check("My exchanges")
    drive.activate(main(page).locator(f'a[href$="/exchanges/{exchange.pk}/"]').first)
    me.check("Exchange to pay")
    drive.activate(main(page).get_by_role("button", name=re.compile("^" + nl("Pay"))))
    me.check("Paid")
    exchange.refresh_from_db()
    assert exchange.status == ExchangeStatus.PAID
    assert Transfer.objects.filter(pk=exchange.transfer_id).exists()

    # Say thank you.
    form = main(page).locator("form", has=page.get_by_role("button", name=nl("Send my thanks")))
    drive.fill(form.locator("textarea"), "Dank je wel, de fiets rijdt weer!")
    drive.activate(form.get_by_role("button", name=nl("Send my thanks")))
    me.check("Thanked")
    assert ThankYou.objects.filter(exchange=exchange).exists()

    # Read the statement.
    drive.activate(page.get_by_role("navigation").get_by_role("link", name=nl("My circles")))
    drive.activate(main(page).get_by_role("link", name="Niksen", exact=True))
    drive.activate(main(page).get_by_role("link", name=nl("My balance and statement")))
    expect(main(page)).to_contain_text("1,5")
    me.check("Statement")
