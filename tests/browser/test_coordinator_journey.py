"""A coordinator's morning, in a real browser and with the keyboard only: admit
a new member, give a member more room with a reason, type in a stack of paper
cheques, settle an exchange that needs a coordinator, work a reciprocity flag
from open to resolved, and read how the circle is doing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Community, Membership, Status, User
from ledger.models import Account, LimitChange, Transfer
from listings.models import Exchange, ExchangeStatus
from reciprocity.models import Flag, FlagEvent, FlagStatus
from tests.browser.driving import main, nl

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_coordinator_admits_sets_a_limit_enters_cheques_settles_and_works_a_flag(visit, site):
    me = visit("coordinator", keyboard=True)
    page, drive = me.page, me.driver
    niksen = Community.objects.get(slug="niksen")
    me.sign_in(site.logins["coordinator"])
    me.check("My circles")

    def to_circle() -> None:
        drive.activate(page.get_by_role("navigation").get_by_role("link", name=nl("My circles")))
        drive.activate(main(page).get_by_role("link", name="Niksen", exact=True))

    # Admit a member who applied.
    applicant = (
        Membership.objects.filter(community=niksen, status=Status.APPLIED)
        .select_related("user")
        .order_by("-pk")
        .first()
    )
    drive.activate(main(page).get_by_role("link", name="Niksen", exact=True))
    me.check("Circle, for a coordinator")
    drive.activate(main(page).get_by_role("link", name=nl("Applications")))
    me.check("Applications")
    drive.activate(
        main(page).get_by_role("button", name=re.compile(re.escape(applicant.user.display_name)))
    )
    me.check("Admitted")
    applicant.refresh_from_db()
    assert applicant.status == Status.ACTIVE

    # Give a member more room to receive, with a reason the member can read.
    account = (
        Account.objects.filter(membership__community=niksen, membership__status=Status.ACTIVE)
        .order_by("membership__user__display_name")
        .first()
    )
    to_circle()
    drive.activate(main(page).get_by_role("link", name=nl("All accounts")))
    me.check("All accounts")
    drive.activate(main(page).locator(f'a[href$="/accounts/{account.pk}/"]'))
    form = main(page).locator("form", has=page.get_by_role("button", name=nl("Save the limits")))
    drive.tick(form.get_by_role("checkbox"), on=False)
    drive.fill(
        form.get_by_label(
            re.compile("^" + re.escape(nl("How much more may this member receive than give?")))
        ),
        "300",
    )
    drive.fill(form.get_by_label(nl("Reason"), exact=True), "Net begonnen; even wat meer ruimte.")
    me.check("Account, limits filled in")
    drive.activate(form.get_by_role("button", name=nl("Save the limits")))
    me.check("Limits saved")
    change = LimitChange.objects.filter(account=account).order_by("-pk").first()
    assert change.new_floor == -300 * 100 and "meer ruimte" in change.reason

    # Type in two paper cheques, with the stack's total as a check.
    givers = list(
        Membership.objects.filter(community=niksen, status=Status.ACTIVE)
        .exclude(pk=applicant.pk)
        .select_related("user")
        .order_by("user__display_name")[:3]
    )
    before = Transfer.objects.filter(community=niksen).count()
    drive.activate(main(page).get_by_role("link", name=nl("All accounts")))
    drive.activate(main(page).get_by_role("link", name=nl("Enter a stack of cheques")))
    first = main(page).get_by_role("group", name="Cheque 1", exact=True)
    drive.choose(first.get_by_label(nl("Paid by")), givers[0].user.display_name)
    drive.choose(first.get_by_label(nl("Paid to")), givers[1].user.display_name)
    drive.fill(first.get_by_label(nl("Amount")), "2")
    drive.fill(first.get_by_label(nl("What for")), "Tuin gewied")
    second = main(page).get_by_role("group", name="Cheque 2", exact=True)
    drive.choose(second.get_by_label(nl("Paid by")), givers[1].user.display_name)
    drive.choose(second.get_by_label(nl("Paid to")), givers[2].user.display_name)
    drive.fill(second.get_by_label(nl("Amount")), "1,5")
    drive.fill(second.get_by_label(nl("What for")), "Soep gekookt")
    drive.fill(main(page).get_by_label(nl("Total of the stack")), "3,5")
    me.check("Cheques filled in")
    drive.activate(main(page).get_by_role("button", name=nl("Record all cheques")))
    me.check("Cheques booked")
    assert Transfer.objects.filter(community=niksen).count() == before + 2
    assert Transfer.objects.filter(community=niksen, memo="Soep gekookt").exists()

    # Settle an exchange where a member asked a coordinator to step in.
    disputed = Exchange.objects.filter(
        listing__community=niksen, status=ExchangeStatus.DISPUTED
    ).first()
    to_circle()
    drive.activate(main(page).get_by_role("link", name=nl("Reports and disputes")))
    me.check("Reports and disagreements")
    drive.activate(main(page).locator(f'a[href$="/exchanges/{disputed.pk}/"]'))
    me.check("An exchange that needs a coordinator")
    form = main(page).locator(
        "form", has=page.get_by_role("button", name=nl("Settle the exchange"))
    )
    drive.fill(form.get_by_label(nl("How much was the help worth?")), "1")
    drive.fill(form.locator("textarea"), "Samen besproken: de helft, want het werk is niet af.")
    drive.activate(form.get_by_role("button", name=nl("Settle the exchange")))
    me.check("Settled")
    disputed.refresh_from_db()
    assert disputed.status == ExchangeStatus.PAID

    # Work a flag: take it on, note the conversation, and close it with what came of it.
    flag = Flag.objects.filter(community=niksen, status=FlagStatus.OPEN).order_by("pk").first()
    to_circle()
    drive.activate(main(page).get_by_role("link", name=nl("Signals"), exact=True))
    me.check("Flags")
    drive.activate(main(page).locator(f'a[href$="/reciprocity/flags/{flag.pk}/"]'))
    me.check("A flag")
    drive.activate(main(page).get_by_role("button", name=nl("Assign to a coordinator")))
    form = main(page).locator("form", has=page.get_by_role("button", name=nl("I talked with them")))
    drive.fill(form.locator("textarea"), "Gebeld; het gaat goed, ze wil graag ook iets terugdoen.")
    drive.activate(form.get_by_role("button", name=nl("I talked with them")))
    me.check("A flag, contacted")
    form = main(page).locator("form", has=page.get_by_role("button", name=nl("Resolve")))
    drive.fill(form.locator("textarea"), "Ze biedt nu hulp aan met de computer.")
    drive.activate(form.get_by_role("button", name=nl("Resolve")))
    me.check("A flag, resolved")
    flag.refresh_from_db()
    assert flag.status == FlagStatus.RESOLVED
    coordinator = User.objects.get(email=site.logins["coordinator"])
    steps = list(
        FlagEvent.objects.filter(flag=flag).order_by("pk").values_list("to_status", "actor")
    )
    assert steps == [
        (FlagStatus.OPEN, None),
        (FlagStatus.ASSIGNED, coordinator.pk),
        (FlagStatus.CONTACTED, coordinator.pk),
        (FlagStatus.RESOLVED, coordinator.pk),
    ]

    # How the circle is doing.
    to_circle()
    drive.activate(main(page).get_by_role("link", name=nl("How the circle is doing")))
    expect(main(page).locator("svg").first).to_be_visible()
    me.check("Health of the circle")
