"""The municipality's observer, in a real browser and with the keyboard only:
reads the circles in figures and the giving and receiving per area, downloads
those figures as CSV, and finds that a circle's own pages do not exist for her.
She sees counts only: no name or address of anyone in the circles."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from accounts.models import Community, User
from tests.browser.driving import main, nl

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_observer_reads_the_figures_and_downloads_them_without_names(visit, site):
    me = visit("observer", keyboard=True)
    page, drive = me.page, me.driver

    me.sign_in(site.logins["municipality observer"])
    drive.activate(
        page.get_by_role("navigation").get_by_role("link", name=nl("Municipality overview"))
    )
    expect(page).to_have_url(re.compile(r"/municipality/$"))
    expect(page.locator("h1")).to_have_text(nl("Circles in figures"))
    for community in Community.objects.all():
        expect(main(page).get_by_role("heading", name=community.name)).to_be_visible()
    me.check("Municipality overview")

    drive.activate(main(page).get_by_role("link", name=nl("Giving and receiving in the circles")))
    expect(page).to_have_url(re.compile(r"/reciprocity/municipality/$"))
    expect(page.locator("h1")).to_have_text(nl("Giving and receiving in the circles"))
    expect(main(page).get_by_role("table")).to_have_count(Community.objects.count())
    me.check("Giving and receiving")

    csv_link = main(page).get_by_role("link", name=nl("Download these figures (CSV)"))
    download = drive.download(csv_link)
    assert download.suggested_filename == "reciprocity-municipality.csv"
    with open(download.path(), encoding="utf-8", newline="") as saved:
        text = saved.read()
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header == [
        nl("Circle"),
        nl("Area"),
        nl("Month"),
        nl("Unit"),
        nl("Members who gave or received"),
        nl("Payments"),
        nl("Units exchanged (in the unit of the circle)"),
        nl("Kinds of help"),
        nl("Share returned round a circle"),
        nl("Share of members who gave and received"),
    ]
    circles = set(Community.objects.values_list("name", flat=True))
    assert {row[0] for row in rows} == circles
    assert all(len(row) == len(header) for row in rows)
    # One total per circle, beside its areas.
    totals = [row[0] for row in rows if row[1] == nl("The whole circle")]
    assert sorted(totals) == sorted(circles)
    # Aggregates only: nobody's name or e-mail address, the observer's own included.
    assert "@" not in text
    people = [name for name in User.objects.values_list("display_name", flat=True) if name]
    assert "Anna de Vries" in people and len(people) > 2 * len(circles)
    assert [name for name in people if name in text] == []
    # The page is where it was: a download loads no page.
    expect(page).to_have_url(re.compile(r"/reciprocity/municipality/$"))

    # A circle's members and its signals are not for her: those pages do not exist.
    response = page.goto(site.address("/c/niksen/members/"))
    assert response.status == 404
    expect(page.locator("h1")).to_have_text(nl("Page not found"))
    me.check("No member list")
    response = page.goto(site.address("/c/niksen/reciprocity/flags/"))
    assert response.status == 404
    expect(page.locator("h1")).to_have_text(nl("Page not found"))
    expect(main(page)).not_to_contain_text("Anna de Vries")
