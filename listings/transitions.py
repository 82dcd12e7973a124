"""A listing's life as data: which status changes exist, and who may make them.

``listing_status_change`` in ``listings.services`` is the only function that
changes a listing's status: it looks the step up here, checks the actor, and
records an event row.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from listings.models import ListingStatus


class ListingActor(models.TextChoices):
    OWNER = "owner", _("the member who placed it")
    COORDINATOR = "coordinator", _("a coordinator")
    SYSTEM = "system", _("the system")


S = ListingStatus
OWNER, COORD, SYS = ListingActor.OWNER, ListingActor.COORDINATOR, ListingActor.SYSTEM
LISTING_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    # Taking a break and coming back; a coordinator can do it for a member
    # who is not online.
    (S.ACTIVE, S.PAUSED): frozenset({OWNER, COORD}),
    (S.PAUSED, S.ACTIVE): frozenset({OWNER, COORD}),
    # The expiry job; renewing brings it back.
    (S.ACTIVE, S.EXPIRED): frozenset({SYS}),
    (S.PAUSED, S.EXPIRED): frozenset({SYS}),
    (S.EXPIRED, S.ACTIVE): frozenset({OWNER, COORD}),
    # Taking it down: the owner, or a coordinator with a reason.
    (S.ACTIVE, S.REMOVED): frozenset({OWNER, COORD}),
    (S.PAUSED, S.REMOVED): frozenset({OWNER, COORD}),
    (S.EXPIRED, S.REMOVED): frozenset({OWNER, COORD}),
    # A coordinator can undo a removal (with a reason); the owner cannot undo
    # a coordinator's removal, so that step is the coordinator's alone.
    (S.REMOVED, S.ACTIVE): frozenset({COORD}),
}


def listing_targets(*, from_status: str, actor: str) -> list[str]:
    """The statuses ``actor`` may move a listing to from ``from_status``."""
    return [
        to_status
        for (source, to_status), actors in LISTING_TRANSITIONS.items()
        if source == from_status and actor in actors
    ]
