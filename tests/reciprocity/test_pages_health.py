"""The health page: a circle's figures for its coordinators, read from stored
snapshots, with trends in words, four charts with tables, alerts and open flags."""

import re
from datetime import date

import pytest

from accounts.models import Role
from reciprocity.models import FlagStatus, Scope
from tests.factories import (
    CommunityFactory,
    CoordinatorFactory,
    MembershipFactory,
    UserFactory,
)
from tests.reciprocity.page_factories import (
    CommunityAlertFactory,
    CommunitySnapshotFactory,
    FlagFactory,
    MemberSnapshotFactory,
)

pytestmark = pytest.mark.django_db

JUNE = date(2025, 6, 1)


@pytest.fixture
def as_coordinator(client, coordinator):
    client.force_login(coordinator)
    return client


def _member(circle, name):
    return MembershipFactory(community=circle, user=UserFactory(display_name=name))


def _june(circle, **values):
    defaults = {
        "W": 1000,
        "D": 430,
        "C": 270,
        "A": 300,
        "nid": 150,
        "members": 40,
        "active_members": 30,
        "two_sided_members": 18,
        "near_limit_members": 2,
        "giant_scc_share": 0.55,
        "gini_balance": 0.31,
        "velocity": 3.2,
        "balance_histogram": [[-600, 3], [0, 12], [600, 15]],
    }
    defaults.update(values)
    return CommunitySnapshotFactory(community=circle, period=JUNE, **defaults)


def _url(circle):
    return f"/c/{circle.slug}/reciprocity/"


def test_a_coordinator_opens_the_page(as_coordinator, circle):
    _june(circle)
    response = as_coordinator.get(_url(circle))
    assert response.status_code == 200
    assert "reciprocity/health.html" in [t.name for t in response.templates]


def test_a_member_is_refused_with_a_message(client, circle):
    client.force_login(_member(circle, "Anna").user)
    response = client.get(_url(circle))
    assert response.status_code == 403
    assert "Only a coordinator of this community can open this page." in response.content.decode()


def test_another_circles_coordinator_and_an_observer_find_nothing(client, circle):
    other = CoordinatorFactory(community=CommunityFactory()).user
    observer = UserFactory(is_municipality_observer=True)
    for person in (other, observer):
        client.force_login(person)
        assert client.get(_url(circle)).status_code == 404


def test_someone_not_signed_in_is_sent_to_sign_in(client, circle):
    response = client.get(_url(circle))
    assert response.status_code == 302
    assert "/account/login/" in response["Location"]


def test_without_an_analysis_the_page_says_so_and_links_to_the_analysis(as_coordinator, circle):
    html = as_coordinator.get(_url(circle)).content.decode()
    assert "No analysis yet" in html
    assert f'href="/c/{circle.slug}/reciprocity/analysis/"' in html
    assert 'role="img"' not in html


def test_the_measures_are_shown_with_a_plain_sentence(as_coordinator, circle):
    _june(circle)
    html = as_coordinator.get(_url(circle)).content.decode()
    assert "Of everything that was given, 43% came straight back to the giver" in html
    assert "27% came back to the giver round a circle" in html
    assert "30% of everything that was given went one way" in html
    assert "30 of the 40 members gave or received something." in html
    assert "18 members both gave and received something." in html
    assert "55% of the members can reach each other" in html
    assert "Now 0.31." in html
    assert "Everything given is 3.20 times the balances still open" in html
    assert "5% of the members are close to their credit limit" in html
    assert "The balances still open add up to 15% of everything that was given." in html


def test_trends_are_in_words_against_a_month_and_three_months_before(as_coordinator, circle):
    _june(circle)
    CommunitySnapshotFactory(community=circle, period=date(2025, 5, 1), W=1000, D=300)
    CommunitySnapshotFactory(community=circle, period=date(2025, 3, 1), W=1000, D=430)
    html = as_coordinator.get(_url(circle)).content.decode()
    cells = re.search(r'id="measure-direct">(.*?)</tr>', html, re.S).group(1)
    assert "up from 30%" in cells
    assert "the same (43%)" in cells
    one_way = re.search(r'id="measure-one_way">(.*?)</tr>', html, re.S).group(1)
    assert "up from 0%" in one_way  # May had no one-way flow at all


def test_a_missing_earlier_month_reads_not_known(as_coordinator, circle):
    _june(circle)
    html = as_coordinator.get(_url(circle)).content.decode()
    row = re.search(r'id="measure-direct">(.*?)</tr>', html, re.S).group(1)
    assert row.count("not known") == 2


def test_the_four_charts_each_have_a_table_and_no_member_names(as_coordinator, circle):
    _june(circle)
    CommunitySnapshotFactory(community=circle, period=date(2025, 5, 1), W=800, D=400)
    for name, given, received in [("Anna Zonneveld", 120, 30), ("Bram Hoekstra", 0, 90)]:
        MemberSnapshotFactory(
            membership=_member(circle, name), period=JUNE, given=given, received=received
        )
    html = as_coordinator.get(_url(circle)).content.decode()
    assert html.count('role="img"') == 4
    for chart_id in ("chart-flow-split", "chart-members", "chart-balances", "chart-given-received"):
        assert f'id="{chart_id}-caption"' in html
    assert "Anna Zonneveld" not in html
    assert "Bram Hoekstra" not in html


def test_the_scatter_has_one_point_per_member_of_the_latest_month(as_coordinator, circle):
    _june(circle)
    members = [_member(circle, f"Lid {index}") for index in range(5)]
    for index, membership in enumerate(members):
        MemberSnapshotFactory(membership=membership, period=JUNE, given=index * 60, received=60)
        # An older month and the all-time scope are not drawn.
        MemberSnapshotFactory(membership=membership, period=date(2025, 5, 1), given=1)
        MemberSnapshotFactory(membership=membership, period=JUNE, scope=Scope.ALL_TIME)
    MemberSnapshotFactory(membership=_member(CommunityFactory(), "Elders"), period=JUNE)
    html = as_coordinator.get(_url(circle)).content.decode()
    assert html.count('class="rk-chart__point"') == 5
    scatter = html[html.index('id="chart-given-received-heading"') :]
    assert "<a " not in scatter[: scatter.index("</svg>")]


def test_open_flags_are_listed_with_their_sentence_and_link(as_coordinator, circle):
    _june(circle)
    anna = _member(circle, "Anna")
    open_flag = FlagFactory(membership=anna, sentence_en="Anna gave 30 hours and received 1.")
    FlagFactory(
        membership=_member(circle, "Bram"),
        status=FlagStatus.RESOLVED,
        sentence_en="Bram's old flag.",
    )
    FlagFactory(
        membership=_member(CommunityFactory(), "Elders"), sentence_en="Another circle's flag."
    )
    html = as_coordinator.get(_url(circle)).content.decode()
    assert "Anna gave 30 hours and received 1." in html
    assert f'href="/c/{circle.slug}/reciprocity/flags/{open_flag.pk}/"' in html
    assert "Bram&#x27;s old flag." not in html
    assert "Another circle&#x27;s flag." not in html


def test_flags_and_alerts_speak_the_readers_language(client, circle):
    _june(circle)
    coordinator = CoordinatorFactory(
        community=circle, role=Role.COORDINATOR, user=UserFactory(language="nl")
    ).user
    FlagFactory(membership=_member(circle, "Anna"))
    CommunityAlertFactory(community=circle)
    client.force_login(coordinator)
    html = client.get(_url(circle), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Geeft veel en krijgt weinig terug." in html
    assert "Er komt minder rond in de kring." in html
    assert "Gives a lot and receives little." not in html


def test_only_recent_alerts_are_shown(as_coordinator, circle):
    CommunityAlertFactory(community=circle, sentence_en="Recent change.")
    CommunityAlertFactory(
        community=circle,
        kind="giant",
        period=date(2020, 1, 1),
        sentence_en="A change long ago.",
    )
    html = as_coordinator.get(_url(circle)).content.decode()
    assert "Recent change." in html
    assert "A change long ago." not in html


def test_the_community_page_links_coordinators_to_the_health_page(as_coordinator, circle):
    html = as_coordinator.get(f"/c/{circle.slug}/").content.decode()
    assert f'href="{_url(circle)}"' in html
