"""A member's privacy, in a real browser and with the keyboard only: Anna reads
the privacy statement, downloads a copy of her data, and has her data erased.
Then her coordinator reads the audit log, where Anna now appears under her
pseudonym, and the circle's rule for the balance of members who leave."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import Membership, Status, User
from ledger.models import Account, Transfer
from tests.browser.driving import main, nl

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_member_downloads_her_data_and_has_it_erased(visit, site):
    anna = User.objects.get(email=site.logins["member"])
    me = visit("privacy", keyboard=True)
    page, drive = me.page, me.driver

    me.sign_in(anna.email)
    drive.activate(page.get_by_role("contentinfo").get_by_role("link", name=nl("Privacy")))
    expect(page.locator("h1")).to_have_text(nl("Privacy statement"))
    me.check("Privacy statement")

    drive.activate(page.get_by_role("navigation").get_by_role("link", name=nl("My account")))
    drive.activate(main(page).get_by_role("link", name=nl("My data"), exact=True))
    expect(page.locator("h1")).to_have_text(nl("My data"))
    me.check("My data")

    # Jobs run at once in the tests, so the copy is ready when the page returns.
    drive.activate(main(page).get_by_role("button", name=nl("Make a copy of my data")))
    download_link = main(page).get_by_role("link", name=re.compile("zip"))
    me.check("My data, copy ready")
    download = drive.download(download_link)
    with open(download.path(), "rb") as saved:
        archive = zipfile.ZipFile(io.BytesIO(saved.read()))
    names = set(archive.namelist())
    assert {"README.txt", "profile.json", "exchanges.json", "messages.json"} <= names
    assert any(name.startswith("statements/") and name.endswith(".csv") for name in names)
    profile = json.loads(archive.read("profile.json"))
    assert anna.email in json.dumps(profile)

    drive.activate(main(page).get_by_role("link", name=nl("Erase my data and close my account")))
    me.check("Erase my data")
    form = main(page).locator("form")
    drive.activate(form.get_by_role("button", name=nl("Erase my data")))
    # Without the tick nothing happens, and the form says why.
    refusal = nl("Tick the box to confirm that you want this.")
    expect(main(page).get_by_text(refusal)).to_be_visible()
    assert User.objects.get(pk=anna.pk).is_active
    understood = nl("I understand that this erases my data and closes my account for good.")
    drive.tick(form.get_by_label(understood))
    drive.activate(form.get_by_role("button", name=nl("Erase my data")))
    expect(page.locator("h1")).to_have_text(nl("Your data has been erased"))
    me.check("Data erased")

    anna.refresh_from_db()
    assert not anna.is_active
    assert re.fullmatch(r"Verwijderd lid #\d+", anna.display_name)
    memberships = Membership.objects.filter(user=anna)
    assert set(memberships.values_list("status", flat=True)) == {Status.LEFT}
    # Anna had given more in one circle and received more in the other: both settled.
    assert (
        Transfer.objects.filter(
            idempotency_key__in=[f"erasure:{pk}" for pk in memberships.values_list("pk", flat=True)]
        ).count()
        == 2
    )
    balances = Account.objects.filter(membership__user=anna).values_list("balance", flat=True)
    assert set(balances) == {0}
    out = io.StringIO()
    call_command("ledger_verify", stdout=out)
    assert "consistent" in out.getvalue()

    mieke = visit("privacy-coordinator", keyboard=True)
    page, drive = mieke.page, mieke.driver
    mieke.sign_in(site.logins["coordinator"])
    mieke.open("/c/niksen/")
    drive.activate(main(page).get_by_role("link", name=nl("Audit log")))
    expect(page.locator("h1")).to_have_text(nl("Audit log"))
    table = main(page).get_by_role("table")
    expect(table).to_contain_text(anna.display_name)
    expect(table).not_to_contain_text("Anna de Vries")
    mieke.check("Audit log")

    mieke.open("/c/niksen/")
    drive.activate(main(page).get_by_role("link", name=nl("Balances of members who leave")))
    mieke.check("Balances of members who leave")
