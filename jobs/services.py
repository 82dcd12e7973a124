"""Queueing background jobs so that a broker outage never breaks a request.

``enqueue`` hands a job to the broker (Redis) like ``task.delay`` does, with
short timeouts and one retry (settings.base: ``REDIS_BROKER_TRANSPORT_OPTIONS``
and ``CELERY_TASK_PUBLISH_RETRY_POLICY``). When the broker still does not take
it, the job is stored as a ``PendingJob`` and the caller goes on: the payment,
request or form that caused the job has been saved already, and the person sees
it done. ``pending_jobs_flush`` sends the stored jobs once the broker is back.
Celery beat runs it every minute, and every worker that starts asks for a run
(ruilkring.celery).

A job is sent at least once. Rarely it is sent twice: when the database goes
away between sending a stored job and deleting its row.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from jobs.models import PendingJob
from ruilkring.celery import app as celery_app

logger = logging.getLogger(__name__)

# What a broker that is away or hangs raises from a publish: kombu wraps most
# connection errors in OperationalError once its retries are spent.
PUBLISH_ERRORS = (OperationalError, OSError, RedisError)


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[: PendingJob._meta.get_field("last_error").max_length]


def enqueue(task: Task, /, *args: Any, **kwargs: Any) -> PendingJob | None:
    """Send ``task`` with ``args`` and ``kwargs`` (JSON values) to the broker.

    Never raises because the broker is away or slow: within a few seconds the
    job is then stored and returned as a ``PendingJob``, to be sent by
    ``pending_jobs_flush``. Returns None when the broker took the job. With
    ``CELERY_TASK_ALWAYS_EAGER`` the task runs here and now, as ``delay`` would
    run it, and its errors are raised. Call it from ``transaction.on_commit``,
    so a job never runs on data that was rolled back.
    """
    if task.app.conf.task_always_eager:
        task.apply_async(args, kwargs)
        return None
    try:
        task.apply_async(args, kwargs)
    except PUBLISH_ERRORS as error:
        job = PendingJob.objects.create(
            task=task.name, args=list(args), kwargs=kwargs, last_error=_error_text(error)
        )
        logger.warning(
            "The job queue (broker) cannot be reached; job %s (%s) waits in the database.",
            job.pk,
            task.name,
        )
        return job
    return None


def pending_jobs_flush() -> int:
    """Send the stored jobs to the broker, oldest first, deleting each one sent.

    Returns how many were sent. Stops at the first job the broker does not take,
    because it is still away: that job counts one more attempt and keeps its
    place. Two runs at the same time never send the same job twice (each takes
    its rows with SKIP LOCKED). Jobs stored while it runs wait for the next run.
    """
    sent = 0
    for pk in list(PendingJob.objects.values_list("pk", flat=True)):
        with transaction.atomic():
            job = PendingJob.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if job is None:
                continue  # sent, or being sent, by another run
            try:
                # By name: the task need not be imported here. No task sets a
                # queue or routing of its own, so this is what delay() sends.
                celery_app.send_task(job.task, args=job.args, kwargs=job.kwargs)
            except PUBLISH_ERRORS as error:
                job.attempts += 1
                job.last_error = _error_text(error)
                job.save(update_fields=["attempts", "last_error"])
                logger.warning(
                    "The job queue (broker) still cannot be reached; %d jobs wait in the database.",
                    PendingJob.objects.count(),
                )
                break
            job.delete()
        sent += 1
    if sent:
        logger.info("Sent %d jobs that waited for the job queue (broker).", sent)
    return sent
