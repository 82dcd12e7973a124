"""Background jobs of the jobs app. Thin: each calls one service."""

from celery import shared_task

from jobs import services


@shared_task
def pending_jobs_flush() -> int:
    """Send the jobs that waited in the database while the broker was away
    (scheduled by celery beat, and asked for by every worker that starts)."""
    return services.pending_jobs_flush()
