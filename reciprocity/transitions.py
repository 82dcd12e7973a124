"""A flag's life as data: which status changes exist, and who may make them.

``flag_step`` in ``reciprocity.services`` is the only function that changes a
flag's status: it looks the step up here, checks the actor and what the step
needs (a note, a date, an outcome, a coordinator to assign), and records a
``FlagEvent``. Members never take a step: a flag is for coordinators only.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from reciprocity.models import FlagStatus


class FlagActor(models.TextChoices):
    COORDINATOR = "coordinator", _("a coordinator")
    SYSTEM = "system", _("the system")


F = FlagStatus
COORD, SYS = FlagActor.COORDINATOR, FlagActor.SYSTEM
FLAG_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    # Someone takes it on, or hands it to another coordinator of the circle.
    (F.OPEN, F.ASSIGNED): frozenset({COORD}),
    (F.ASSIGNED, F.ASSIGNED): frozenset({COORD}),
    # The conversation happened; a private note says how it went.
    (F.OPEN, F.CONTACTED): frozenset({COORD}),
    (F.ASSIGNED, F.CONTACTED): frozenset({COORD}),
    # Not now: until a date in the future.
    (F.OPEN, F.SNOOZED): frozenset({COORD}),
    (F.ASSIGNED, F.SNOOZED): frozenset({COORD}),
    (F.CONTACTED, F.SNOOZED): frozenset({COORD}),
    # Back on the list: by the analysis once the date has come, or earlier by hand.
    (F.SNOOZED, F.OPEN): frozenset({COORD, SYS}),
    # Done, with an outcome. Only a coordinator decides that; a flag whose
    # numbers look better is never resolved by the system.
    (F.OPEN, F.RESOLVED): frozenset({COORD}),
    (F.ASSIGNED, F.RESOLVED): frozenset({COORD}),
    (F.CONTACTED, F.RESOLVED): frozenset({COORD}),
    (F.SNOOZED, F.RESOLVED): frozenset({COORD}),
}


def flag_targets(*, from_status: str, actor: str) -> list[str]:
    """The statuses ``actor`` may move a flag to from ``from_status``."""
    return [
        to_status
        for (source, to_status), actors in FLAG_TRANSITIONS.items()
        if source == from_status and actor in actors
    ]
