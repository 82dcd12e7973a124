"""The coordinator's "analyse now" page."""

import pytest
from django.urls import reverse

from reciprocity.models import AnalysisRun, RunStatus
from tests.factories import UserFactory
from tests.reciprocity.analysis_circle import Circle

pytestmark = pytest.mark.django_db

REFRESH = '<meta http-equiv="refresh" content="3">'


@pytest.fixture
def circle():
    return Circle()


def _url(circle):
    return reverse("reciprocity:analysis", args=[circle.community.slug])


def test_a_coordinator_sees_the_button_and_no_refresh_when_nothing_runs(client, circle):
    AnalysisRun.objects.create(
        community=circle.community, status=RunStatus.DONE, progress=100, message="13 maanden"
    )
    client.force_login(circle.coordinator)

    response = client.get(_url(circle))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Analyse now" in page
    assert "13 maanden" in page
    assert REFRESH not in page


def test_starting_an_analysis_runs_it_and_comes_back_to_the_page(
    client, circle, django_capture_on_commit_callbacks
):
    client.force_login(circle.coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(circle))

    assert response.status_code == 302
    assert response.url == _url(circle)
    run = AnalysisRun.objects.get()
    assert (run.requested_by, run.status) == (circle.coordinator, RunStatus.DONE)


def test_while_an_analysis_runs_the_page_shows_its_progress_and_refreshes(client, circle):
    AnalysisRun.objects.create(community=circle.community, status=RunStatus.RUNNING, progress=40)
    client.force_login(circle.coordinator)

    page = client.get(_url(circle)).content.decode()

    assert REFRESH in page
    assert "40%" in page
    assert "Analyse now" not in page


def test_a_member_may_not_open_the_page_or_start_an_analysis(client, circle):
    anna = circle.member("Anna")
    client.force_login(anna.membership.user)

    assert client.get(_url(circle)).status_code == 403
    assert client.post(_url(circle)).status_code == 403
    assert not AnalysisRun.objects.exists()


def test_someone_outside_the_circle_finds_no_page(client, circle):
    client.force_login(UserFactory())

    assert client.get(_url(circle)).status_code == 404
    assert client.post(_url(circle)).status_code == 404
    assert not AnalysisRun.objects.exists()


def test_the_community_page_links_coordinators_to_the_analysis(client, circle):
    client.force_login(circle.coordinator)

    page = client.get(reverse("accounts:community_detail", args=[circle.community.slug]))

    assert _url(circle) in page.content.decode()
