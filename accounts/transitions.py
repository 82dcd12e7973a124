"""The membership workflow as data: which status changes exist, and who may make them.

One table lists every allowed step. ``membership_status_change`` in
``accounts.services`` is the only function that changes a status: it looks the
step up here, checks the actor, and records an event row.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Status


class Actor(models.TextChoices):
    SELF = "self", _("the member")
    COORDINATOR = "coordinator", _("a coordinator")
    SYSTEM = "system", _("the system")


S = Status
STATUS_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    # Admission: by a coordinator, or by the system when the circle admits everyone.
    (S.APPLIED, S.ACTIVE): frozenset({Actor.COORDINATOR, Actor.SYSTEM}),
    (S.APPLIED, S.DECLINED): frozenset({Actor.COORDINATOR}),
    # The applicant changed their mind (the system: they had their data erased).
    (S.APPLIED, S.LEFT): frozenset({Actor.SELF, Actor.SYSTEM}),
    # Leaving is a period: the member can still trade towards zero, then a
    # coordinator closes the membership once the balance is settled.
    (S.ACTIVE, S.LEAVING): frozenset({Actor.SELF, Actor.COORDINATOR}),
    (S.LEAVING, S.ACTIVE): frozenset({Actor.SELF, Actor.COORDINATOR}),
    (S.LEAVING, S.LEFT): frozenset({Actor.COORDINATOR, Actor.SYSTEM}),
    (S.ACTIVE, S.SUSPENDED): frozenset({Actor.COORDINATOR}),
    (S.SUSPENDED, S.ACTIVE): frozenset({Actor.COORDINATOR}),
    (S.SUSPENDED, S.LEFT): frozenset({Actor.COORDINATOR, Actor.SYSTEM}),
    # A member who has their data erased (privacy.services.member_erase): the
    # system closes the membership once the balance is settled to zero.
    (S.ACTIVE, S.LEFT): frozenset({Actor.SYSTEM}),
    # Coming back always goes through a new application, never straight to active.
    (S.LEFT, S.APPLIED): frozenset({Actor.SELF}),
    (S.DECLINED, S.APPLIED): frozenset({Actor.SELF}),
}

# A coordinator's step always needs a reason, except admitting someone.
REASON_NOT_REQUIRED: frozenset[tuple[str, str]] = frozenset({(S.APPLIED, S.ACTIVE)})


def status_targets(*, from_status: str, actor: str) -> list[str]:
    """The statuses ``actor`` may move a membership to from ``from_status``."""
    return [
        to_status
        for (source, to_status), actors in STATUS_TRANSITIONS.items()
        if source == from_status and actor in actors
    ]
