"""Reads about the jobs that wait for the broker."""

from jobs.models import PendingJob


def pending_jobs_count() -> int:
    """How many jobs wait in the database because the broker was away."""
    return PendingJob.objects.count()
