"""The analysis as background jobs: one per community, with its run's status."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from reciprocity import services, tasks
from reciprocity.models import AnalysisRun, CommunitySnapshot, RunStatus
from ruilkring.celery import app
from tests.factories import CommunityFactory
from tests.reciprocity.analysis_circle import Circle, last_month


def test_the_nightly_analysis_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["reciprocity-nightly"]
    assert entry["task"] == "reciprocity.tasks.reciprocity_nightly"
    assert entry["task"] in app.tasks
    assert entry["schedule"].hour == {3}


@pytest.mark.django_db
def test_the_nightly_job_queues_one_job_per_community_with_members():
    first, second = Circle(), Circle()
    CommunityFactory()  # nobody in it yet
    with mock.patch.object(tasks.reciprocity_analyse_community, "delay") as delay:
        assert tasks.reciprocity_nightly.delay().get() == 2

    runs = AnalysisRun.objects.order_by("pk")
    assert [run.community for run in runs] == [first.community, second.community]
    assert sorted(call.args for call in delay.call_args_list) == [
        (run.community_id, run.pk) for run in runs
    ]
    assert {run.status for run in runs} == {RunStatus.QUEUED}


@pytest.mark.django_db
def test_a_community_job_analyses_the_months_and_marks_its_run_done():
    circle = Circle()
    anna, bram = circle.member("Anna"), circle.member("Bram")
    circle.cheques((bram, anna, 60, last_month() + timedelta(days=1)))
    run = AnalysisRun.objects.create(community=circle.community)

    tasks.reciprocity_analyse_community.delay(circle.community.pk, run.pk)

    run.refresh_from_db()
    assert (run.status, run.progress) == (RunStatus.DONE, 100)
    assert run.started_at <= run.finished_at
    assert (
        CommunitySnapshot.objects.filter(community=circle.community, period=last_month())
        .get(scope="window")
        .W
        == 60
    )
    assert CommunitySnapshot.objects.filter(community=circle.community).count() == 2 * 13


@pytest.mark.django_db
def test_a_failing_job_marks_its_run_failed_and_raises_for_the_log():
    circle = Circle()
    run = AnalysisRun.objects.create(community=circle.community)

    with (
        mock.patch.object(services, "community_backfill", side_effect=RuntimeError("solver")),
        pytest.raises(RuntimeError),
    ):
        tasks.reciprocity_analyse_community.delay(circle.community.pk, run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.finished_at is not None
    assert "RuntimeError" in run.message


@pytest.fixture
def redis_worker():
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs the harness's Redis: run `make test`")
    app.conf.update(task_always_eager=False, broker_url=settings.CELERY_BROKER_URL)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.update(task_always_eager=True)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_coordinators_analysis_travels_through_redis_to_a_real_worker(redis_worker):
    circle = Circle()
    anna, bram = circle.member("Anna"), circle.member("Bram")
    circle.cheques((bram, anna, 90, last_month() + timedelta(days=1)))

    run = services.analysis_request(actor=circle.coordinator, community=circle.community)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (RunStatus.DONE, RunStatus.FAILED):
            break
        time.sleep(0.2)
    assert (run.status, run.progress) == (RunStatus.DONE, 100), run.message
    snapshot = CommunitySnapshot.objects.get(
        community=circle.community, period=last_month(), scope="window"
    )
    assert (snapshot.W, snapshot.A) == (90, 90)
