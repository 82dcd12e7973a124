"""The people who try every address, and where each one stands towards a circle.

An actor is described by what they are (their role in circle A or B, an
observer, the site's administrator, with or without an authenticator app), not
by a name, so adding one is one line in ``ACTORS``: the circles give them a
person with those roles, and ``standing`` tells the rules what they may do.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from accounts.models import Role


class Standing(enum.Enum):
    """Where an actor stands towards one circle; the rules are written per standing."""

    ANONYMOUS = "anonymous"
    # Signed in, with no role in this circle: a member or coordinator of another circle.
    OUTSIDER = "outsider"
    OBSERVER = "observer"
    MEMBER = "member"
    COORDINATOR = "coordinator"
    SUPERUSER = "superuser"
    # The person an object (such as an API token) belongs to, for the addresses
    # that act on their own objects only.
    OWNER = "owner"


@dataclass(frozen=True)
class Actor:
    key: str
    circle: str | None = None  # "a" or "b": the circle they belong to
    role: str = Role.MEMBER
    observer: bool = False
    superuser: bool = False
    two_factor: bool = False  # an authenticator app (TOTP) is set up
    signed_in: bool = True


ACTORS: tuple[Actor, ...] = (
    Actor("anonymous", signed_in=False),
    Actor("member_a", circle="a"),
    Actor("member_b", circle="b"),
    Actor("coordinator_a", circle="a", role=Role.COORDINATOR, two_factor=True),
    Actor("coordinator_b", circle="b", role=Role.COORDINATOR, two_factor=True),
    # Made coordinator, but has not set up the authenticator app yet: a member until then.
    Actor("coordinator_a_without_two_factor", circle="a", role=Role.COORDINATOR),
    Actor("observer", observer=True, two_factor=True),
    Actor("superuser", superuser=True, two_factor=True),
)
# The actor whose own objects (an API token) fill the addresses that act on one.
OWNER_KEY = "member_a"


def standing(actor: Actor, *, circle: str) -> Standing:
    """Where ``actor`` stands towards ``circle``.

    A coordinator or an observer without an authenticator app uses the site as
    a member (or a person without a role) only: their role waits for two-factor
    authentication, so they stand where they would without it.
    """
    if not actor.signed_in:
        return Standing.ANONYMOUS
    if actor.superuser:
        if not actor.two_factor:
            raise ValueError(
                f"Actor {actor.key!r}: a superuser without two-factor authentication has no "
                "standing in tests/authorization/actors.py yet; add one and its rules."
            )
        return Standing.SUPERUSER
    if actor.circle == circle:
        if actor.role == Role.COORDINATOR and actor.two_factor:
            return Standing.COORDINATOR
        return Standing.MEMBER
    if actor.observer and actor.two_factor:
        return Standing.OBSERVER
    return Standing.OUTSIDER
