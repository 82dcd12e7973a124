"""Jobs waiting for the broker.

A ``PendingJob`` is a background job that could not be handed to the broker
(Redis) when it was queued, because the broker was away. It keeps the task's
name and arguments until ``jobs.services.pending_jobs_flush`` sends it, and is
deleted once sent. The arguments are what the job itself carries, for example a
rendered mail with its address, so rows live only until the broker is back.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PendingJob(models.Model):
    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list)
    kwargs = models.JSONField(_("keyword arguments"), default=dict)
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts to send"), default=1)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("pending job")
        verbose_name_plural = _("pending jobs")

    def __str__(self) -> str:
        return f"{self.task} ({self.created_at:%Y-%m-%d %H:%M})"
