"""The municipality's figures: per circle and per area, aggregates only, with
every figure based on fewer than 5 members hidden, and one more where a
total would give the hidden one away. The CSV holds the same figures."""

import csv
import io
import re
from datetime import date

import pytest

from reciprocity.models import Scope
from tests.factories import (
    AreaFactory,
    CommunityFactory,
    CoordinatorFactory,
    MembershipFactory,
    UserFactory,
)
from tests.reciprocity.page_factories import AreaSnapshotFactory, CommunitySnapshotFactory

pytestmark = pytest.mark.django_db

JUNE = date(2025, 6, 1)
PAGE = "/reciprocity/municipality/"
CSV = "/reciprocity/municipality.csv"


@pytest.fixture
def observer():
    return UserFactory(is_municipality_observer=True)


@pytest.fixture
def as_observer(client, observer):
    client.force_login(observer)
    return client


@pytest.fixture
def circle():
    """Three areas: Noord with 12 active members, Zuid with 8, and Oost with only 4."""
    circle = CommunityFactory(name="Sterrenstelsel", slug="sterrenstelsel")
    CommunitySnapshotFactory(
        community=circle,
        period=JUNE,
        W=6000,
        C=1500,
        transfers=70,
        active_members=24,
        two_sided_members=12,
        help_types={"practical": 50, "social": 20},
    )
    for name, active, two_sided, payments, volume, share in [
        ("Noord", 12, 6, 40, 3600, 0.5),
        ("Zuid", 8, 4, 22, 1800, 0.25),
        ("Oost", 4, 2, 8, 600, 0.1),
    ]:
        AreaSnapshotFactory(
            community=circle,
            area=AreaFactory(community=circle, name=name),
            period=JUNE,
            active_members=active,
            members=active,
            two_sided_members=two_sided,
            exchanges=payments,
            volume=volume,
            circulation_share=share,
            help_types={"practical": payments},
        )
    # An older month and the all-time scope are not shown.
    CommunitySnapshotFactory(community=circle, period=date(2025, 5, 1), active_members=999)
    CommunitySnapshotFactory(
        community=circle, period=JUNE, scope=Scope.ALL_TIME, active_members=888
    )
    return circle


def _rows(html: str) -> dict[str, list[str]]:
    rows = {}
    for header, cells in re.findall(
        r'<th class="utrecht-table__header-cell" scope="row">(.*?)</th>(.*?)</tr>', html, re.S
    ):
        rows[header] = re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)
    return rows


def test_an_observer_and_an_administrator_open_the_page(client, observer, circle):
    for person in (observer, UserFactory(is_superuser=True)):
        client.force_login(person)
        assert client.get(PAGE).status_code == 200
        assert client.get(CSV).status_code == 200


def test_coordinators_and_members_are_refused(client, circle):
    for person in (
        CoordinatorFactory(community=circle).user,
        MembershipFactory(community=circle).user,
    ):
        client.force_login(person)
        assert client.get(PAGE).status_code == 403
        assert client.get(CSV).status_code == 403


def test_someone_not_signed_in_is_sent_to_sign_in(client, circle):
    assert client.get(PAGE).status_code == 302
    assert client.get(CSV).status_code == 302


def test_the_figures_of_the_latest_month_are_shown(as_observer, circle):
    rows = _rows(as_observer.get(PAGE).content.decode())
    assert rows["Noord"] == [
        "12",
        "40",
        "60\xa0hours",
        "Practical help: 40",
        "50%",
        "50%",
    ]
    assert rows["The whole circle"] == [
        "24",
        "70",
        "100\xa0hours",
        "Practical help: 50; Company or a listening ear: 20",
        "25%",
        "50%",
    ]


def test_an_area_of_four_members_is_hidden_and_so_is_the_smallest_other(as_observer, circle):
    html = as_observer.get(PAGE).content.decode()
    rows = _rows(html)
    assert rows["Oost"] == ["fewer than 5"] * 6
    # Without hiding Zuid too, the circle's total minus Noord and Zuid would give Oost away.
    assert rows["Zuid"] == ["fewer than 5"] * 6
    assert rows["Noord"][0] == "12"
    assert ">4<" not in html
    assert "10\xa0hours" not in html


def test_two_small_areas_hide_each_other_and_nothing_more(as_observer, circle):
    AreaSnapshotFactory(
        community=circle, area=None, period=JUNE, active_members=3, exchanges=5, volume=300
    )
    rows = _rows(as_observer.get(PAGE).content.decode())
    assert rows["No area given"] == ["fewer than 5"] * 6
    assert rows["Oost"] == ["fewer than 5"] * 6
    assert rows["Zuid"][0] == "8"


def test_a_circle_of_fewer_than_five_traders_shows_no_figures(as_observer):
    tiny = CommunityFactory(name="Klein")
    CommunitySnapshotFactory(community=tiny, period=JUNE, active_members=3, W=500, transfers=9)
    rows = _rows(as_observer.get(PAGE).content.decode())
    assert rows["The whole circle"] == ["fewer than 5"] * 6


def test_without_any_analysis_the_page_says_so(as_observer):
    html = as_observer.get(PAGE).content.decode()
    assert "There are no figures yet" in html


def test_the_csv_holds_the_figures_of_the_page_and_no_names(as_observer, circle):
    MembershipFactory(community=circle, user=UserFactory(display_name="Anna Zonneveld"))
    page = _rows(as_observer.get(PAGE).content.decode())
    response = as_observer.get(CSV)
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="reciprocity-municipality.csv"' in response["Content-Disposition"]
    body = response.content.decode()
    assert "Anna Zonneveld" not in body
    lines = list(csv.reader(io.StringIO(body)))
    assert lines[0][:4] == ["Circle", "Area", "Month", "Unit"]
    assert len(lines) == 1 + 4  # three areas and the whole circle
    by_area = {line[1]: line for line in lines[1:]}
    assert by_area["Noord"][2:4] == ["2025-06", "hours"]
    for area in ("Noord", "Zuid", "Oost", "The whole circle"):
        csv_cells = by_area[area][4:]
        page_cells = [cell.replace("\xa0hours", "") for cell in page[area]]
        assert csv_cells == page_cells


def test_the_municipality_overview_links_to_this_page(as_observer):
    html = as_observer.get("/municipality/").content.decode()
    assert f'href="{PAGE}"' in html
