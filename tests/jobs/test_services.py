"""Queueing jobs: at once in eager mode, kept in the database while the broker is away."""

import socket
from types import SimpleNamespace

import pytest
from django.core import mail

from accounts.models import Community
from accounts.tasks import email_deliver
from jobs.models import PendingJob
from jobs.services import enqueue, pending_jobs_flush
from reciprocity.tasks import reciprocity_analyse_community
from ruilkring.celery import app as celery_app
from ruilkring.celery import pending_jobs_flush_on_start
from tests.reliability.private_redis import PrivateRedis, celery_publishing_to

pytestmark = pytest.mark.django_db


def _closed_broker() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/1"


def test_in_eager_mode_a_job_runs_at_once_and_nothing_is_stored():
    assert enqueue(email_deliver, subject="Hallo", body="Welkom.", to=["anna@example.org"]) is None
    assert [(m.subject, m.to) for m in mail.outbox] == [("Hallo", ["anna@example.org"])]
    assert not PendingJob.objects.exists()


def test_in_eager_mode_a_failing_job_raises_and_is_not_stored_as_waiting():
    with pytest.raises(Community.DoesNotExist):
        enqueue(reciprocity_analyse_community, 0)
    assert not PendingJob.objects.exists()


def test_a_job_the_broker_cannot_take_is_stored_and_the_caller_goes_on():
    with celery_publishing_to(_closed_broker()):
        job = enqueue(email_deliver, subject="Hallo", body="Welkom.", to=["anna@example.org"])
    assert job is not None
    stored = PendingJob.objects.get()
    assert (stored.pk, stored.task, stored.args) == (job.pk, "accounts.tasks.email_deliver", [])
    assert stored.kwargs == {"subject": "Hallo", "body": "Welkom.", "to": ["anna@example.org"]}
    assert stored.attempts == 1
    assert "OperationalError" in stored.last_error
    assert mail.outbox == []


def test_a_flush_while_the_broker_is_away_stops_at_the_oldest_job_and_keeps_them_all():
    with celery_publishing_to(_closed_broker()):
        enqueue(reciprocity_analyse_community, 1, 2)
        enqueue(reciprocity_analyse_community, 3, 4)
        assert pending_jobs_flush() == 0
    assert [(job.args, job.attempts) for job in PendingJob.objects.order_by("pk")] == [
        ([1, 2], 2),
        ([3, 4], 1),
    ]


def test_a_worker_that_starts_asks_for_the_waiting_jobs(tmp_path):
    server = PrivateRedis(tmp_path)
    try:
        server.start()
        with celery_publishing_to(server.url(1)):
            pending_jobs_flush_on_start(sender=SimpleNamespace(app=celery_app))
        assert [task for task, _args, _kwargs in server.queued_jobs(1)] == [
            "jobs.tasks.pending_jobs_flush"
        ]
    finally:
        server.stop()
