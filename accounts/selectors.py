"""Reads for people, communities and memberships.

Every selector that returns community data takes the community explicitly, or
resolves it from the acting user's own memberships, so one community's data
never leaks into another's pages.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import (
    MEMBER_STATUSES,
    ApiToken,
    Community,
    Membership,
    MembershipEvent,
    Notification,
    Role,
    Status,
    User,
)
from accounts.transitions import Actor, status_targets
from ruilkring.errors import NotAllowed, NotFound

# Aggregates for the municipality hide counts below this, so no one can be singled out.
SMALL_CELL_THRESHOLD = 5


def community_list() -> QuerySet[Community]:
    """All communities, with their number of active members, for people choosing one to join."""
    return Community.objects.annotate(
        active_member_count=Count("memberships", filter=Q(memberships__status=Status.ACTIVE))
    ).order_by("name")


def community_get_by_slug(*, slug: str) -> Community:
    try:
        return Community.objects.get(slug=slug)
    except Community.DoesNotExist as exc:
        raise NotFound(_("This community does not exist.")) from exc


def membership_for_user_get(*, user: User, community: Community) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("area").filter(user=user, community=community).first()


def community_for_member_get(*, user: User, slug: str) -> tuple[Community, Membership | None]:
    """The community ``slug`` as its member ``user`` may see it.

    Raises NotFound unless the user belongs to it (active, leaving or suspended),
    coordinates it, or administers the site: another community's pages do not
    exist for them.
    """
    community = community_get_by_slug(slug=slug)
    membership = membership_for_user_get(user=user, community=community)
    if membership is not None and membership.status in MEMBER_STATUSES:
        return community, membership
    if user.is_authenticated and user.is_superuser:
        return community, membership
    raise NotFound(_("This community does not exist."))


def community_for_coordinator_get(*, user: User, slug: str) -> Community:
    """The community ``slug`` if ``user`` coordinates it.

    Raises NotFound for people outside the community and NotAllowed for its
    members who are not coordinators.
    """
    community, membership = community_for_member_get(user=user, slug=slug)
    if user.is_superuser or (membership is not None and membership.is_coordinator):
        return community
    raise NotAllowed(_("Only a coordinator of this community can open this page."))


def user_is_coordinator(*, user: User, community: Community) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, community=community, role=Role.COORDINATOR, status=Status.ACTIVE
    ).exists()


def user_coordinates_somewhere(*, user: User) -> bool:
    """An active coordinator of any community (or a site administrator)."""
    return (
        user.is_superuser
        or Membership.objects.filter(
            user=user, role=Role.COORDINATOR, status=Status.ACTIVE
        ).exists()
    )


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    """A person's memberships in every community, newest status first."""
    return (
        Membership.objects.filter(user=user)
        .select_related("community", "area")
        .order_by("community__name")
    )


def membership_list(
    *, community: Community, status: str | None = None, search: str = ""
) -> QuerySet[Membership]:
    """The memberships of one community, optionally by status and a name or email search."""
    memberships = Membership.objects.filter(community=community).select_related("user", "area")
    if status:
        memberships = memberships.filter(status=status)
    if search.strip():
        term = search.strip()
        memberships = memberships.filter(
            Q(user__display_name__icontains=term) | Q(user__email__icontains=term)
        )
    return memberships.order_by("user__display_name", "pk")


def membership_get(*, community: Community, membership_id: int) -> Membership:
    """One membership of ``community``; NotFound for any other community's."""
    try:
        return Membership.objects.select_related("user", "area", "community").get(
            community=community, pk=membership_id
        )
    except (Membership.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("This member does not exist in this community.")) from exc


def membership_status_counts(*, community: Community) -> dict[str, int]:
    rows = (
        Membership.objects.filter(community=community)
        .values("status")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts = {status: 0 for status in Status.values}
    counts.update({row["status"]: row["count"] for row in rows})
    return counts


def membership_events(*, community: Community, membership: Membership) -> QuerySet[MembershipEvent]:
    return MembershipEvent.objects.filter(
        community=community, membership=membership
    ).select_related("actor")


def membership_status_choices_for_coordinator(*, membership: Membership) -> list[tuple[str, str]]:
    """The statuses a coordinator may choose for this membership, as (value, label)."""
    return [
        (status, Status(status).label)
        for status in status_targets(from_status=membership.status, actor=Actor.COORDINATOR)
    ]


def membership_status_choices_for_self(*, membership: Membership) -> list[tuple[str, str]]:
    return [
        (status, Status(status).label)
        for status in status_targets(from_status=membership.status, actor=Actor.SELF)
        if status != Status.APPLIED
    ]


def coordinators_of(*, community: Community) -> QuerySet[User]:
    return User.objects.filter(
        memberships__community=community,
        memberships__role=Role.COORDINATOR,
        memberships__status=Status.ACTIVE,
    ).order_by("display_name")


@dataclass(frozen=True)
class CommunityAggregate:
    """What a municipality observer may see of one community: counts, never people."""

    community: Community
    active_members: int | None
    applications: int | None
    areas: int
    members_per_area: list[tuple[str, int | None]]


def _suppress(count: int) -> int | None:
    """None (shown as "fewer than 5") for a count so small it could point at a person."""
    return count if count >= SMALL_CELL_THRESHOLD or count == 0 else None


def _suppress_cells(cells: list[tuple[str, int]]) -> list[tuple[str, int | None]]:
    """Hide small cells of a breakdown whose total is shown elsewhere.

    Hiding one cell alone is not enough: the total minus the visible cells
    would give it away. So when exactly one cell is hidden, the smallest
    visible one is hidden with it (complementary suppression).
    """
    shown: list[tuple[str, int | None]] = [(label, _suppress(count)) for label, count in cells]
    hidden = [index for index, (_, value) in enumerate(shown) if value is None]
    if len(hidden) == 1:
        visible = [
            (count, index)
            for index, (_, count) in enumerate(cells)
            if shown[index][1] not in (None, 0)
        ]
        if visible:
            _, index = min(visible)
            shown[index] = (shown[index][0], None)
    return shown


def observer_overview() -> list[CommunityAggregate]:
    """Per community: active members, open applications and members per area, small cells hidden."""
    communities = Community.objects.annotate(
        active_count=Count(
            "memberships", filter=Q(memberships__status=Status.ACTIVE), distinct=True
        ),
        applied_count=Count(
            "memberships", filter=Q(memberships__status=Status.APPLIED), distinct=True
        ),
        area_count=Count("areas", distinct=True),
    ).order_by("name")
    per_area: dict[int, list[tuple[str, int]]] = {}
    area_rows = (
        Membership.objects.filter(status=Status.ACTIVE)
        .values("community_id", "area__name")
        .annotate(count=Count("pk"))
        .order_by("community_id", "area__name")
    )
    for row in area_rows:
        label = row["area__name"] or str(_("No area given"))
        per_area.setdefault(row["community_id"], []).append((label, row["count"]))
    return [
        CommunityAggregate(
            community=community,
            active_members=_suppress(community.active_count),
            applications=_suppress(community.applied_count),
            areas=community.area_count,
            members_per_area=_suppress_cells(per_area.get(community.pk, [])),
        )
        for community in communities
    ]


def notifications_of(*, user: User) -> QuerySet[Notification]:
    """A person's inbox, newest first."""
    return Notification.objects.filter(user=user).select_related("community")


def notifications_unread_count(*, user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """A person's personal access tokens, active and revoked, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def api_token_for_secret_get(*, secret: str) -> ApiToken | None:
    """The active token whose secret this is, with its person; None for an
    unknown or revoked secret.

    The lookup goes by the secret's SHA-256 hash, so its time does not depend on
    how much of the secret matches, and the final comparison is constant-time.
    """
    key_hash = ApiToken.hash_of(secret)
    token = ApiToken.objects.select_related("user").filter(key_hash=key_hash).first()
    if token is None or not hmac.compare_digest(token.key_hash, key_hash):
        return None
    if token.revoked_at is not None or not token.user.is_active:
        return None
    return token
