"""Background jobs travel through a real broker to a real worker."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail

from accounts.tasks import email_deliver
from ruilkring.celery import app


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
def test_a_mail_job_is_carried_by_redis_and_sent_by_the_worker(redis_worker):
    email_deliver.delay(subject="Hallo", body="Welkom in de kring.", to=["anna@example.org"])
    deadline = time.monotonic() + 15
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(m.subject, m.to) for m in mail.outbox] == [("Hallo", ["anna@example.org"])]
