"""Privacy: a person's own data, handed over or erased, and how long things are kept.

- A **DataExport** is one copy of everything the site keeps about a person, as a
  zip file they download from "My data". A background job makes it and reports
  its progress; the download link works for ``RUILKRING_RETENTION_EXPORT_DAYS``
  days, then the file is deleted. Its status moves through one table
  (``privacy.transitions.EXPORT_TRANSITIONS``) and every step is a
  ``DataExportEvent``.
- An **Erasure** records that a person's profile was replaced by a placeholder
  ("Erased member #N", with N this row's number), at their own request or by
  the retention job. The ledger keeps their account and every transfer, so the
  circle's books still add up; only the personal data goes.
- **PrivacySettings** holds a community's rule for the balance of a member who
  erases their data: settled into the community pot (the default) or into the
  community account.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Community


class SettleInto(models.TextChoices):
    POT = "pot", _("The community pot")
    COMMUNITY = "community", _("The community account")


class PrivacySettings(models.Model):
    """Where the balance of a member who erases their data goes. Without a row: the pot."""

    community = models.OneToOneField(
        Community,
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="privacy_settings",
    )
    settle_into = models.CharField(
        _("balances of members who leave go to"),
        max_length=10,
        choices=SettleInto.choices,
        default=SettleInto.POT,
    )
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("privacy settings")
        verbose_name_plural = _("privacy settings")

    def __str__(self) -> str:
        return str(self.community_id)


class ExportStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting to start")
    BUILDING = "building", _("Being made")
    READY = "ready", _("Ready to download")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


# An export in one of these is under way: a person has at most one.
EXPORT_IN_PROGRESS = (ExportStatus.REQUESTED, ExportStatus.BUILDING)


class DataExport(models.Model):
    """One zip file with everything the site keeps about ``user``."""

    # A copy of a person's data goes with its person.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ExportStatus.choices,
        default=ExportStatus.REQUESTED,
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    # In the default storage, under a random name; served only by the download
    # view, to its owner, never from a public media address.
    file = models.FileField(_("file"), upload_to="privacy/exports/", blank=True, max_length=200)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("download possible until"), null=True, blank=True)

    class Meta:
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One export at a time per person: the backstop behind the service's lock.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=["requested", "building"]),
                name="privacy_one_export_in_progress",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="privacy_export_progress_at_most_100"
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="privacy_export_expiry")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def in_progress(self) -> bool:
        return self.status in EXPORT_IN_PROGRESS


class DataExportEvent(models.Model):
    """One step of an export: from, to, who (empty: the system), when, and a note."""

    export = models.ForeignKey(
        DataExport, verbose_name=_("data export"), on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    from_status = models.CharField(
        _("from"), max_length=10, blank=True, choices=ExportStatus.choices
    )
    to_status = models.CharField(_("to"), max_length=10, choices=ExportStatus.choices)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("data export event")
        verbose_name_plural = _("data export events")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.export_id}: {self.from_status or '-'} -> {self.to_status}"


class ErasureReason(models.TextChoices):
    REQUEST = "request", _("At the person's own request")
    RETENTION = "retention", _("Left every circle long ago (retention)")


class Erasure(models.Model):
    """A person whose profile was pseudonymised. The row's number is the N in
    their placeholder name, "Erased member #N"; it is never reused."""

    # PROTECT: people are never deleted, and this row says why a profile is empty.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="erasure",
    )
    reason = models.CharField(_("why"), max_length=10, choices=ErasureReason.choices)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def number(self) -> int:
        return self.pk
