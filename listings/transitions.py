"""A listing's life as data: which status changes exist, and who may make them.

``listing_status_change`` in ``listings.services`` is the only function that
changes a listing's status: it looks the step up here, checks the actor, and
records an event row.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from listings.models import ExchangeStatus, ListingStatus


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


class ExchangeParty(models.TextChoices):
    """Who someone is to an exchange. One person can be more than one of these:
    the member who proposed it is also its provider or its receiver."""

    PROPOSER = "proposer", _("the member who proposed it")
    COUNTERPART = "counterpart", _("the member it was proposed to")
    PROVIDER = "provider", _("the member who helps")
    RECEIVER = "receiver", _("the member who is helped")
    COORDINATOR = "coordinator", _("a coordinator")
    SYSTEM = "system", _("the system")


E = ExchangeStatus
P = ExchangeParty
EXCHANGE_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    # Agreeing: the member it was proposed to answers. A coordinator can
    # answer for a member who is not online.
    (E.PROPOSED, E.ACCEPTED): frozenset({P.COUNTERPART, P.COORDINATOR}),
    (E.PROPOSED, E.DECLINED): frozenset({P.COUNTERPART, P.COORDINATOR}),
    (E.PROPOSED, E.CANCELLED): frozenset({P.PROPOSER, P.COORDINATOR}),
    # The helper says it is done, with the amount: that asks the receiver to pay.
    (E.ACCEPTED, E.DONE): frozenset({P.PROVIDER, P.COORDINATOR}),
    # ... unless the community wants a coordinator to look at the payment first
    # (``listings.selectors.exchange_approval_needed``): then the helper's "done"
    # is taken as this step, and nothing is asked of the receiver yet. A
    # coordinator who reports it done goes straight to done.
    (E.ACCEPTED, E.REVIEW): frozenset({P.PROVIDER}),
    # A coordinator approves (which asks the receiver to pay, as "done" does) or
    # turns it down with a reason; either member can ask a coordinator to step in.
    (E.REVIEW, E.DONE): frozenset({P.COORDINATOR}),
    (E.REVIEW, E.CANCELLED): frozenset({P.COORDINATOR}),
    (E.REVIEW, E.DISPUTED): frozenset({P.PROVIDER, P.RECEIVER}),
    (E.ACCEPTED, E.CANCELLED): frozenset({P.PROVIDER, P.RECEIVER, P.COORDINATOR}),
    # Paying: the receiver, a coordinator for them, or the system when the
    # payment request was paid (also automatically, as the receiver chose).
    (E.DONE, E.PAID): frozenset({P.RECEIVER, P.COORDINATOR, P.SYSTEM}),
    # Something is not right: a coordinator steps in. The system does this
    # when the receiver declines the payment request on the ledger's pages.
    (E.ACCEPTED, E.DISPUTED): frozenset({P.PROVIDER, P.RECEIVER}),
    (E.DONE, E.DISPUTED): frozenset({P.PROVIDER, P.RECEIVER, P.SYSTEM}),
    (E.PAID, E.DISPUTED): frozenset({P.PROVIDER, P.RECEIVER}),
    # The coordinator resolves it: cancel (reversing a payment that was
    # made), or settle it with a payment in full or in part.
    (E.DISPUTED, E.CANCELLED): frozenset({P.COORDINATOR}),
    (E.DISPUTED, E.PAID): frozenset({P.COORDINATOR}),
}

# A coordinator's decision on a payment that waits for approval is never their
# own: on an exchange they help or are helped in, they act as the member
# ("nobody admits themselves", as with memberships).
NOT_ON_OWN_EXCHANGE: frozenset[tuple[str, str]] = frozenset(
    {(E.REVIEW, E.DONE), (E.REVIEW, E.CANCELLED)}
)


def exchange_step_roles(*, parties: set[str], from_status: str, to_status: str) -> set[str]:
    """The roles in which someone who is ``parties`` to an exchange may take
    this step: empty when the table does not let them (or has no such step)."""
    allowed = EXCHANGE_TRANSITIONS.get((from_status, to_status), frozenset())
    roles = set(parties & allowed)
    if (from_status, to_status) in NOT_ON_OWN_EXCHANGE and parties & {P.PROVIDER, P.RECEIVER}:
        roles.discard(P.COORDINATOR)
    return roles
