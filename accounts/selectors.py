"""Reads for people, communities and memberships.

Every selector that returns community data takes the community explicitly, or
resolves it from the acting user's own memberships, so one community's data
never leaks into another's pages.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import (
    MEMBER_STATUSES,
    ApiToken,
    AuditAction,
    AuditEntry,
    Community,
    Membership,
    MembershipEvent,
    Notification,
    Role,
    Status,
    User,
)
from accounts.transitions import Actor, status_targets
from accounts.units import amount_format
from ruilkring.errors import NotAllowed, NotFound, TwoFactorRequired

# Aggregates for the municipality hide counts below this, so no one can be singled out.
SMALL_CELL_THRESHOLD = 5


def community_list() -> QuerySet[Community]:
    """All communities, with their number of active members, for people choosing one to join."""
    return Community.objects.annotate(
        active_member_count=Count("memberships", filter=Q(memberships__status=Status.ACTIVE))
    ).order_by("name")


def user_has_two_factor(*, user: User) -> bool:
    """Whether ``user`` signs in with an authenticator app (TOTP), as coordinators,
    municipality observers and site administrators must before they use their role.

    Someone with an authenticator cannot sign in without its code (django-allauth
    asks for it after the password), so having one is what the roles check. The
    test settings switch the requirement off; ``RUILKRING_TWO_FACTOR_REQUIRED`` is
    on everywhere else.
    """
    if not settings.RUILKRING_TWO_FACTOR_REQUIRED:
        return True
    if not user.is_authenticated:
        return False
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def two_factor_check(*, user: User) -> None:
    """Raise TwoFactorRequired unless ``user`` has set up two-factor authentication."""
    if not user_has_two_factor(user=user):
        raise TwoFactorRequired(
            _(
                "Your role needs two-step sign-in. Set up an authenticator app first; "
                "it takes two minutes."
            )
        )


def user_is_observer(*, user: User) -> bool:
    """A municipality observer (or site administrator), whatever their two-factor state."""
    return user.is_authenticated and (user.is_municipality_observer or user.is_superuser)


def observer_check(*, user: User, message: str) -> None:
    """Raise NotAllowed (with ``message``) for anyone but an observer or administrator,
    and TwoFactorRequired for one without an authenticator app."""
    if not user_is_observer(user=user):
        raise NotAllowed(message)
    two_factor_check(user=user)


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
        two_factor_check(user=user)
        return community, membership
    raise NotFound(_("This community does not exist."))


def community_for_coordinator_get(*, user: User, slug: str) -> Community:
    """The community ``slug`` if ``user`` coordinates it.

    Raises NotFound for people outside the community, NotAllowed for its
    members who are not coordinators, and TwoFactorRequired for a coordinator
    who has not set up two-factor authentication yet.
    """
    community, membership = community_for_member_get(user=user, slug=slug)
    if user.is_superuser or (membership is not None and membership.is_coordinator):
        two_factor_check(user=user)
        return community
    raise NotAllowed(_("Only a coordinator of this community can open this page."))


def user_is_coordinator(*, user: User, community: Community) -> bool:
    """Whether ``user`` may use a coordinator's powers in ``community`` now: an active
    coordinator (or site administrator) who has set up two-factor authentication."""
    if not user.is_authenticated:
        return False
    if not user.is_superuser and not user_holds_coordinator_role(user=user, community=community):
        return False
    return user_has_two_factor(user=user)


def user_holds_coordinator_role(*, user: User, community: Community) -> bool:
    """An active coordinator of ``community``, whether or not two-factor is set up yet."""
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


def coordinators_acting(*, community: Community) -> QuerySet[User]:
    """The coordinators who can use their role now: those with two-factor
    authentication, where it is required. Coordinator notifications and
    signals go to them only."""
    people = coordinators_of(community=community)
    if settings.RUILKRING_TWO_FACTOR_REQUIRED:
        people = people.filter(
            Exists(Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP))
        )
    return people


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


def notifications_of(
    *, user: User, hide_kinds: set[str] | frozenset[str] = frozenset()
) -> QuerySet[Notification]:
    """A person's inbox, newest first, without the kinds in ``hide_kinds``."""
    inbox = Notification.objects.filter(user=user).select_related("community")
    return inbox.exclude(kind__in=hide_kinds) if hide_kinds else inbox


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


# -- The audit log --------------------------------------------------------------

AUDIT_PAGE_SIZE = 50


def audit_entries(
    *, community: Community, action: str | None = None, actor: User | int | None = None
) -> QuerySet[AuditEntry]:
    """The audit log of ``community``, newest first, optionally of one action or
    one actor. Site-wide entries (no community) are never among them."""
    entries = AuditEntry.objects.filter(community=community).select_related(
        "actor", "membership__user"
    )
    if action:
        entries = entries.filter(action=action)
    if actor is not None:
        entries = entries.filter(actor=actor)
    return entries.order_by("-created_at", "-id")


def audit_actors(*, community: Community) -> QuerySet[User]:
    """Everyone who appears as the actor in ``community``'s audit log, by name."""
    actor_ids = AuditEntry.objects.filter(community=community).values("actor_id")
    return User.objects.filter(pk__in=actor_ids).order_by("display_name", "pk")


@dataclass(frozen=True)
class AuditLine:
    """One entry of the audit log as a coordinator reads it."""

    entry: AuditEntry
    actor_name: str
    sentence: str


def audit_lines(*, community: Community, entries: Iterable[AuditEntry]) -> list[AuditLine]:
    """The entries as sentences in the reader's language, naming every person by
    their name as it is now (a pseudonym after erasure). Reads the people and
    areas the entries mention in three queries, however many entries there are."""
    entries = list(entries)
    words = _AuditWords.for_entries(community=community, entries=entries)
    return [
        AuditLine(entry=entry, actor_name=entry.actor.display_name, sentence=words.sentence(entry))
        for entry in entries
    ]


# Keys of ``AuditEntry.details`` that hold a membership id (or a system account's kind).
_AUDIT_MEMBER_KEYS = ("payer", "payee", "provider", "receiver", "account")
_EXCHANGE_SENTENCES = {
    ("proposed", "accepted"): _("Agreed to the exchange of %(provider)s and %(receiver)s"),
    ("proposed", "declined"): _("Declined the exchange of %(provider)s and %(receiver)s"),
    ("proposed", "cancelled"): _("Cancelled the exchange of %(provider)s and %(receiver)s"),
    ("accepted", "cancelled"): _("Cancelled the exchange of %(provider)s and %(receiver)s"),
    ("accepted", "done"): _(
        "Reported the help of %(provider)s to %(receiver)s done, worth %(amount)s"
    ),
    ("review", "done"): _("Approved the payment of %(amount)s from %(receiver)s to %(provider)s"),
    ("review", "cancelled"): _(
        "Turned down the payment for the help of %(provider)s to %(receiver)s"
    ),
    ("done", "paid"): _("Paid %(amount)s to %(provider)s for %(receiver)s"),
    ("disputed", "paid"): _("Settled the dispute: %(receiver)s pays %(amount)s to %(provider)s"),
    ("disputed", "cancelled"): _(
        "Cancelled the disputed exchange of %(provider)s and %(receiver)s"
    ),
}
_REQUEST_SENTENCES = {
    "accepted": _("Accepted the request for %(payer)s to pay %(amount)s to %(payee)s"),
    "rejected": _("Declined the request for %(payer)s to pay %(amount)s to %(payee)s"),
    "cancelled": _("Withdrew the request for %(payer)s to pay %(amount)s to %(payee)s"),
}
_LISTING_SENTENCES = {
    "removed": _("Removed a listing of %(name)s"),
    "paused": _("Paused a listing of %(name)s"),
}
_FLAG_SENTENCES = {
    "contacted": _("Noted a conversation about the signal for %(name)s"),
    "open": _("Reopened the signal about %(name)s"),
    "resolved": _("Resolved the signal about %(name)s"),
}


@dataclass
class _AuditWords:
    """What the sentences of a page of the log need: the people and areas its
    entries mention, loaded at once."""

    community: Community
    members: dict[int, str]
    users: dict[int, str]
    areas: dict[int, str]

    @classmethod
    def for_entries(cls, *, community: Community, entries: list[AuditEntry]) -> _AuditWords:
        member_ids, user_ids, area_ids = set(), set(), set()
        for entry in entries:
            details = entry.details or {}
            member_ids.update(
                details[key] for key in _AUDIT_MEMBER_KEYS if isinstance(details.get(key), int)
            )
            if isinstance(details.get("assignee"), int):
                user_ids.add(details["assignee"])
            if entry.subject_type == "accounts.user" and entry.subject_id is not None:
                user_ids.add(entry.subject_id)
            if entry.action == AuditAction.MEMBERSHIP_AREA:
                area_ids.update(v for v in (details.get("from"), details.get("to")) if v)
            if entry.action == AuditAction.AREA_CREATE and entry.subject_id is not None:
                area_ids.add(entry.subject_id)
            if entry.subject_type == "accounts.membership" and entry.subject_id is not None:
                member_ids.add(entry.subject_id)
        members = {
            m.pk: m.user.display_name
            for m in Membership.objects.filter(community=community, pk__in=member_ids)
            .select_related("user")
            .only("pk", "user__display_name")
        }
        users = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "display_name"))
        areas = dict(community.areas.filter(pk__in=area_ids).values_list("pk", "name"))
        return cls(community=community, members=members, users=users, areas=areas)

    def member(self, entry: AuditEntry) -> str:
        if entry.membership is not None:
            return entry.membership.user.display_name
        return str(_("a member"))

    def party(self, value: object) -> str:
        """A membership id, or a system account's kind, as a name."""
        if value == "pot":
            return str(_("the community pot"))
        if value == "community":
            return str(_("the community account"))
        if isinstance(value, int) and value in self.members:
            return self.members[value]
        return str(_("a member"))

    def amount(self, value: object) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            return amount_format(community=self.community, amount=value)
        return "-"

    def limit(self, value: object, *, floor: bool) -> str:
        if value is None:
            return str(_("the circle's default"))
        return self.amount(-value if floor else value)

    def area(self, value: object) -> str:
        if not value:
            return str(_("no area"))
        return self.areas.get(value, str(_("an area that is gone")))

    def sentence(self, entry: AuditEntry) -> str:
        describe = getattr(self, "_" + entry.action.replace(".", "_"), None)
        if describe is None:
            return _choice_label(AuditAction, entry.action)
        return describe(entry, entry.details or {})

    # One method per action, named after its code ("membership.status" -> _membership_status).

    def _membership_status(self, entry: AuditEntry, details: dict) -> str:
        name, step = self.member(entry), (details.get("from"), details.get("to"))
        if step == (Status.APPLIED, Status.ACTIVE):
            return _("Admitted %(name)s") % {"name": name}
        if step == (Status.APPLIED, Status.DECLINED):
            return _("Declined the application of %(name)s") % {"name": name}
        if step[1] == Status.SUSPENDED:
            return _("Suspended %(name)s") % {"name": name}
        return _("Changed the status of %(name)s from “%(from)s” to “%(to)s”") % {
            "name": name,
            "from": _choice_label(Status, step[0]),
            "to": _choice_label(Status, step[1]),
        }

    def _membership_role(self, entry: AuditEntry, details: dict) -> str:
        if details.get("to") == Role.COORDINATOR:
            return _("Made %(name)s a coordinator") % {"name": self.member(entry)}
        return _("Made %(name)s a member instead of a coordinator") % {"name": self.member(entry)}

    def _membership_area(self, entry: AuditEntry, details: dict) -> str:
        return _("Moved %(name)s from %(from)s to %(to)s") % {
            "name": self.member(entry),
            "from": self.area(details.get("from")),
            "to": self.area(details.get("to")),
        }

    def _community_create(self, entry: AuditEntry, details: dict) -> str:
        return _("Started the circle %(community)s") % {"community": self.community.name}

    def _settings_change(self, entry: AuditEntry, details: dict) -> str:
        names = []
        for field in details.get("changes", {}):
            try:
                names.append(str(Community._meta.get_field(field).verbose_name))
            except FieldDoesNotExist:
                names.append(field)
        return _("Changed the circle's settings: %(fields)s") % {"fields": ", ".join(names)}

    def _area_create(self, entry: AuditEntry, details: dict) -> str:
        return _("Added the area “%(area)s”") % {"area": self.area(entry.subject_id)}

    def _limits_set(self, entry: AuditEntry, details: dict) -> str:
        changes = []
        floor, ceiling = (
            details.get("floor") or [None, None],
            details.get("ceiling") or [None, None],
        )
        if floor[0] != floor[1]:
            changes.append(
                _("may receive more than give up to %(to)s (was %(from)s)")
                % {
                    "to": self.limit(floor[1], floor=True),
                    "from": self.limit(floor[0], floor=True),
                }
            )
        if ceiling[0] != ceiling[1]:
            changes.append(
                _("may give more than receive up to %(to)s (was %(from)s)")
                % {
                    "to": self.limit(ceiling[1], floor=False),
                    "from": self.limit(ceiling[0], floor=False),
                }
            )
        return _("Changed the limits of %(name)s: %(changes)s") % {
            "name": self.party(details.get("account")),
            "changes": "; ".join(str(change) for change in changes),
        }

    def _transfer_on_behalf(self, entry: AuditEntry, details: dict) -> str:
        return _("Recorded %(amount)s from %(payer)s to %(payee)s") % self._money(details)

    def _transfer_reverse(self, entry: AuditEntry, details: dict) -> str:
        return _("Reversed the transfer of %(amount)s from %(payer)s to %(payee)s") % self._money(
            details
        )

    def _batch_enter(self, entry: AuditEntry, details: dict) -> str:
        count = details.get("cheques", 0)
        return ngettext(
            "Entered %(count)s paper cheque, %(total)s in all",
            "Entered %(count)s paper cheques, %(total)s in all",
            count,
        ) % {"count": count, "total": self.amount(details.get("total"))}

    def _request_on_behalf(self, entry: AuditEntry, details: dict) -> str:
        return _("Asked %(payer)s to pay %(amount)s to %(payee)s") % self._money(details)

    def _request_decide(self, entry: AuditEntry, details: dict) -> str:
        template = _REQUEST_SENTENCES.get(details.get("to"))
        if template is None:
            return str(AuditAction.REQUEST_DECIDE.label)
        return template % self._money(details)

    def _request_settings_set(self, entry: AuditEntry, details: dict) -> str:
        mode = (details.get("auto_accept") or [None, None])[1]
        days = (details.get("days") or [None, None])[1]
        if mode == "always":
            rule = _("at once")
        elif mode == "after_days" and isinstance(days, int):
            rule = ngettext("after %(days)s day", "after %(days)s days", days) % {"days": days}
        else:
            rule = _("never")
        return _("Changed when payment requests are paid without an answer: %(rule)s") % {
            "rule": rule
        }

    def _listing_create(self, entry: AuditEntry, details: dict) -> str:
        if details.get("kind") == "request":
            return _("Placed a request for help for %(name)s") % {"name": self.member(entry)}
        return _("Placed an offer of help for %(name)s") % {"name": self.member(entry)}

    def _listing_update(self, entry: AuditEntry, details: dict) -> str:
        return _("Changed a listing of %(name)s") % {"name": self.member(entry)}

    def _listing_moderate(self, entry: AuditEntry, details: dict) -> str:
        name, step = self.member(entry), (details.get("from"), details.get("to"))
        if step == ("removed", "active"):
            return _("Restored a listing of %(name)s") % {"name": name}
        if step == ("paused", "active"):
            return _("Put a listing of %(name)s back up") % {"name": name}
        if step[1] in _LISTING_SENTENCES:
            return _LISTING_SENTENCES[step[1]] % {"name": name}
        return _("Renewed a listing of %(name)s") % {"name": name}

    def _report_handle(self, entry: AuditEntry, details: dict) -> str:
        return _("Handled a report about a listing of %(name)s") % {"name": self.member(entry)}

    def _exchange_match(self, entry: AuditEntry, details: dict) -> str:
        return _("Matched %(provider)s to help %(receiver)s") % self._exchange(details)

    def _exchange_step(self, entry: AuditEntry, details: dict) -> str:
        template = _EXCHANGE_SENTENCES.get((details.get("from"), details.get("to")))
        if template is None:
            template = _("Took a step in the exchange of %(provider)s and %(receiver)s")
        return template % self._exchange(details)

    def _exchange_settings_set(self, entry: AuditEntry, details: dict) -> str:
        above = (details.get("approval_above") or [None, None])[1]
        first = (details.get("approval_first") or [0, 0])[1]
        rules = []
        if above is not None:
            rules.append(_("payments above %(amount)s") % {"amount": self.amount(above)})
        if first:
            rules.append(
                ngettext("a member's first exchange", "a member's first %(count)s exchanges", first)
                % {"count": first}
            )
        return _("Changed which payments a coordinator approves first: %(rules)s") % {
            "rules": ", ".join(str(rule) for rule in rules) if rules else _("none")
        }

    def _flag_step(self, entry: AuditEntry, details: dict) -> str:
        name, to_status = self.member(entry), details.get("to")
        if to_status == "assigned":
            return _("Gave the signal about %(name)s to %(coordinator)s") % {
                "name": name,
                "coordinator": self.users.get(details.get("assignee"), str(_("a coordinator"))),
            }
        if to_status == "snoozed" and details.get("snoozed_until"):
            until = date_format(date.fromisoformat(details["snoozed_until"]), "j F Y")
            return _("Snoozed the signal about %(name)s until %(date)s") % {
                "name": name,
                "date": until,
            }
        template = _FLAG_SENTENCES.get(to_status)
        if template is None:
            return _("Took a step with the signal about %(name)s") % {"name": name}
        return template % {"name": name}

    def _signal_settings_set(self, entry: AuditEntry, details: dict) -> str:
        return str(_("Changed the settings for signals"))

    def _analysis_request(self, entry: AuditEntry, details: dict) -> str:
        return str(_("Started an analysis of the circle"))

    def _admin_add(self, entry: AuditEntry, details: dict) -> str:
        return _("Added %(object)s in the admin") % {"object": self._admin_object(entry)}

    def _admin_change(self, entry: AuditEntry, details: dict) -> str:
        fields = details.get("fields") or []
        if not fields:
            return _("Changed %(object)s in the admin") % {"object": self._admin_object(entry)}
        return _("Changed %(object)s in the admin: %(fields)s") % {
            "object": self._admin_object(entry),
            "fields": ", ".join(str(field) for field in fields),
        }

    def _admin_delete(self, entry: AuditEntry, details: dict) -> str:
        return _("Deleted %(object)s in the admin") % {"object": self._admin_object(entry)}

    # Helpers of the sentences above.

    def _money(self, details: dict) -> dict[str, str]:
        return {
            "amount": self.amount(details.get("amount")),
            "payer": self.party(details.get("payer")),
            "payee": self.party(details.get("payee")),
        }

    def _exchange(self, details: dict) -> dict[str, str]:
        return {
            "amount": self.amount(details.get("amount")),
            "provider": self.party(details.get("provider")),
            "receiver": self.party(details.get("receiver")),
        }

    def _admin_object(self, entry: AuditEntry) -> str:
        if entry.subject_type == "accounts.user" and entry.subject_id in self.users:
            return self.users[entry.subject_id]
        if entry.subject_type == "accounts.membership" and entry.subject_id in self.members:
            return self.members[entry.subject_id]
        try:
            model_name = apps.get_model(entry.subject_type)._meta.verbose_name
        except (LookupError, ValueError):
            model_name = entry.subject_type
        return f"{model_name} #{entry.subject_id}"


def _choice_label(choices: type[models.TextChoices], value: object) -> str:
    return str(choices(value).label) if value in choices.values else str(value or "-")
