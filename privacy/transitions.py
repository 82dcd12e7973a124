"""A data export's life as data: which status changes exist, and who may make them.

``privacy.services`` changes an export's status only through ``_export_step``:
it looks the step up here, checks the actor, and records a ``DataExportEvent``.
The member asks for an export (its first event, from nothing to requested);
everything after that is the background job's, except that asking for a new
export retires a ready one.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from privacy.models import ExportStatus


class ExportActor(models.TextChoices):
    MEMBER = "member", _("the member")
    SYSTEM = "system", _("the system")


S = ExportStatus
MEMBER, SYSTEM = ExportActor.MEMBER, ExportActor.SYSTEM
EXPORT_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    # The job picks it up, and finishes it or fails.
    (S.REQUESTED, S.BUILDING): frozenset({SYSTEM}),
    (S.BUILDING, S.READY): frozenset({SYSTEM}),
    (S.BUILDING, S.FAILED): frozenset({SYSTEM}),
    # A job that never started or never finished (a worker that stopped), or an
    # export of a person who erased their data meanwhile.
    (S.REQUESTED, S.FAILED): frozenset({SYSTEM}),
    # The download link ends: after the retention period (the daily job), or
    # when the member asks for a new export, which replaces it.
    (S.READY, S.EXPIRED): frozenset({SYSTEM, MEMBER}),
}
