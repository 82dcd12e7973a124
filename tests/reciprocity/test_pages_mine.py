"""A member's own picture: how many people they helped and were helped by, in
friendly words. Nobody else's figures, no flags, no ranking, no talk of debt."""

import re
from datetime import date

import pytest

from reciprocity.models import Scope
from tests.factories import CommunityFactory, CoordinatorFactory, MembershipFactory, UserFactory
from tests.reciprocity.page_factories import FlagFactory, MemberSnapshotFactory

pytestmark = pytest.mark.django_db

JUNE = date(2025, 6, 1)


@pytest.fixture
def as_anna(client, anna):
    client.force_login(anna.user)
    return client


def _url(circle):
    return f"/c/{circle.slug}/reciprocity/mine/"


def _counts(html: str) -> list[str]:
    return re.findall(r'<dd class="rk-helped" data-count="[\w-]+">(\d+)</dd>', html)


def test_a_member_sees_how_many_people_they_helped_and_were_helped_by(as_anna, anna, circle):
    MemberSnapshotFactory(membership=anna, period=JUNE, helped=7, helped_by=4)
    MemberSnapshotFactory(
        membership=anna, period=JUNE, scope=Scope.ALL_TIME, helped=15, helped_by=9
    )
    # An older month is not the latest picture.
    MemberSnapshotFactory(membership=anna, period=date(2025, 5, 1), helped=2, helped_by=2)
    html = as_anna.get(_url(circle)).content.decode()
    assert _counts(html) == ["7", "4", "15", "9"]
    assert "You helped 7 people." in html
    assert "And 4 people helped you." in html
    assert "Thank you!" in html
    assert "The last 12 months" in html


def test_the_page_shows_nobody_elses_figures_and_no_flags(as_anna, anna, circle):
    MemberSnapshotFactory(membership=anna, period=JUNE, helped=1, helped_by=0)
    bram = MembershipFactory(community=circle, user=UserFactory(display_name="Bram Hoekstra"))
    # Numbers no id or date on the page could contain by chance.
    MemberSnapshotFactory(membership=bram, period=JUNE, helped=987654, helped_by=876543)
    FlagFactory(membership=anna, sentence_en="Anna receives a lot.")
    html = as_anna.get(_url(circle)).content.decode()
    assert _counts(html) == ["1", "0"]
    for shown in ("987654", "987,654", "987.654", "987\u00a0654", "876543", "876,543"):
        assert shown not in html
    assert "Bram Hoekstra" not in html
    assert "Anna receives a lot." not in html
    assert "You helped 1 person. Thank you!" in html
    for word in ("debt", "owe", "rank"):
        assert word not in html.lower()


def test_without_a_picture_yet_the_page_says_when_it_comes(as_anna, circle):
    html = as_anna.get(_url(circle)).content.decode()
    assert "Your picture appears here after the next analysis" in html
    assert _counts(html) == []


def test_a_member_who_only_received_is_thanked_for_asking(as_anna, anna, circle):
    MemberSnapshotFactory(membership=anna, period=JUNE, helped=0, helped_by=3)
    html = as_anna.get(_url(circle)).content.decode()
    assert "3 people helped you." in html
    assert "Good that you asked." in html


def test_people_outside_the_circle_find_nothing(client, circle):
    other_coordinator = CoordinatorFactory(community=CommunityFactory()).user
    observer = UserFactory(is_municipality_observer=True)
    for person in (other_coordinator, observer):
        client.force_login(person)
        assert client.get(_url(circle)).status_code == 404


def test_someone_not_signed_in_is_sent_to_sign_in(client, circle):
    assert client.get(_url(circle)).status_code == 302


def test_a_coordinator_sees_their_own_figures_only(client, circle, anna):
    coordinator = CoordinatorFactory(community=circle)
    MemberSnapshotFactory(membership=coordinator, period=JUNE, helped=2, helped_by=5)
    MemberSnapshotFactory(membership=anna, period=JUNE, helped=8, helped_by=9)
    client.force_login(coordinator.user)
    assert _counts(client.get(_url(circle)).content.decode()) == ["2", "5"]


def test_the_community_page_links_members_to_their_picture(as_anna, circle):
    html = as_anna.get(f"/c/{circle.slug}/").content.decode()
    assert f'href="{_url(circle)}"' in html
