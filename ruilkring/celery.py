"""The Celery application: background jobs for analytics, mail, exports, imports.

Configuration comes from Django's settings (the ``CELERY_`` names). Tasks are
thin: they load an object, call a service, and are queued with
``transaction.on_commit`` so a job never runs on data that was rolled back.
Request paths queue them through ``jobs.services.enqueue``, which keeps a job in
the database while the broker is away instead of failing the request.
"""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruilkring.settings.base")

app = Celery("ruilkring")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def pending_jobs_flush_on_start(sender, **kwargs) -> None:
    """A worker that starts, often after the broker came back, asks at once for
    the jobs that waited in the database, instead of at beat's next minute."""
    sender.app.send_task("jobs.tasks.pending_jobs_flush")
