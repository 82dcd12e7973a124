"""Writes for people, communities and memberships.

Every function takes keyword-only arguments, checks who is acting, and either
does the whole thing or raises a ``ruilkring.errors.DomainError`` having
changed nothing.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accounts import notifications, selectors
from accounts.models import (
    MEMBER_STATUSES,
    ApiToken,
    Area,
    AuditAction,
    AuditEntry,
    AuditRole,
    Community,
    Membership,
    MembershipEvent,
    MembershipEventKind,
    Role,
    Status,
    UnitKind,
    User,
)
from accounts.transitions import REASON_NOT_REQUIRED, STATUS_TRANSITIONS, Actor
from ruilkring.errors import InvalidInput, NotAllowed, NotFound, TransitionNotAllowed

COMMUNITY_EDITABLE_FIELDS = (
    "name",
    "place",
    "description",
    "unit_singular_nl",
    "unit_plural_nl",
    "unit_singular_en",
    "unit_plural_en",
    "default_floor",
    "default_ceiling",
    "requires_approval",
)
UNIT_NAME_FIELDS = ("unit_singular_nl", "unit_plural_nl", "unit_singular_en", "unit_plural_en")
# Marks our tokens (for people, and for secret scanners); not a secret itself.
API_TOKEN_SECRET_PREFIX = "rk_"  # noqa: S105
API_TOKENS_ACTIVE_MAX = 20
API_TOKEN_NAME_MAX = ApiToken._meta.get_field("name").max_length
API_TOKEN_SHOWN_PREFIX = ApiToken._meta.get_field("prefix").max_length
API_TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def user_create(
    *,
    email: str,
    password: str | None,
    display_name: str,
    language: str = "nl",
    is_municipality_observer: bool = False,
) -> User:
    """Create a person who signs in with ``email``. Raises InvalidInput if it is taken."""
    email = User.objects.normalize_email(email).strip().lower()
    if not email:
        raise InvalidInput(_("Enter an email address."), field="email")
    if User.objects.filter(email__iexact=email).exists():
        raise InvalidInput(_("An account with this email address already exists."), field="email")
    return User.objects.create_user(
        email=email,
        password=password,
        display_name=display_name.strip() or email.split("@")[0],
        language=language,
        is_municipality_observer=is_municipality_observer,
    )


def user_language_set(*, user: User, language: str) -> None:
    """Remember the person's language for pages and mail."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(_("Unknown language."), field="language")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def _community_validate(values: dict) -> None:
    for field in UNIT_NAME_FIELDS:
        if not str(values.get(field, "")).strip():
            raise InvalidInput(_("Every unit name needs a value."), field=field)
    if not str(values.get("name", "")).strip():
        raise InvalidInput(_("Give the community a name."), field="name")
    if values.get("default_floor", 0) > 0:
        raise InvalidInput(_("The credit limit is zero or below."), field="default_floor")
    if values.get("default_ceiling", 0) < 0:
        raise InvalidInput(_("The maximum is zero or above."), field="default_ceiling")


def community_create(
    *,
    actor: User,
    name: str,
    slug: str,
    unit_singular_nl: str,
    unit_plural_nl: str,
    unit_singular_en: str,
    unit_plural_en: str,
    unit_kind: str = UnitKind.TIME,
    place: str = "",
    description: str = "",
    default_floor: int = 0,
    default_ceiling: int = 0,
    requires_approval: bool = True,
    first_coordinator: User | None = None,
) -> Community:
    """Create a community; only an instance administrator may.

    With ``first_coordinator``, that person becomes its active coordinator
    straight away, recorded as an event. Raises InvalidInput for an empty name
    or unit name, a taken slug, or limits on the wrong side of zero.
    """
    if not actor.is_superuser:
        raise NotAllowed(_("Only an administrator of this site can start a new community."))
    values = {
        "name": name.strip(),
        "slug": slugify(slug),
        "place": place.strip(),
        "description": description.strip(),
        "unit_singular_nl": unit_singular_nl.strip(),
        "unit_plural_nl": unit_plural_nl.strip(),
        "unit_singular_en": unit_singular_en.strip(),
        "unit_plural_en": unit_plural_en.strip(),
        "unit_kind": unit_kind,
        "default_floor": default_floor,
        "default_ceiling": default_ceiling,
        "requires_approval": requires_approval,
    }
    _community_validate(values)
    if unit_kind not in UnitKind.values:
        raise InvalidInput(_("Choose a kind of unit."), field="unit_kind")
    if not values["slug"]:
        raise InvalidInput(_("Choose a web address name."), field="slug")
    if Community.objects.filter(slug=values["slug"]).exists():
        raise InvalidInput(_("Another community already uses this web address name."), field="slug")
    try:
        with transaction.atomic():
            community = Community.objects.create(**values)
            membership = None
            if first_coordinator is not None:
                now = timezone.now()
                membership = Membership.objects.create(
                    user=first_coordinator,
                    community=community,
                    role=Role.COORDINATOR,
                    status=Status.ACTIVE,
                    applied_at=now,
                    joined_at=now,
                    status_changed_at=now,
                )
                MembershipEvent.objects.create(
                    membership=membership,
                    community=community,
                    actor=actor,
                    kind=MembershipEventKind.STATUS,
                    from_value="",
                    to_value=Status.ACTIVE,
                    reason=str(_("First coordinator of the new community.")),
                )
            audit_record(
                actor=actor,
                community=community,
                action=AuditAction.COMMUNITY_CREATE,
                subject=community,
                member=membership,
            )
    except IntegrityError as exc:
        # Two administrators chose the same slug at the same moment.
        raise InvalidInput(
            _("Another community already uses this web address name."), field="slug"
        ) from exc
    return community


def community_update(*, actor: User, community: Community, **changes) -> Community:
    """Change a community's settings; its coordinators may. The unit's kind never changes,
    because every stored amount is counted in it."""
    _require_coordinator(actor=actor, community=community)
    unknown = set(changes) - set(COMMUNITY_EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(_("These settings cannot be changed here."))
    values = {field: getattr(community, field) for field in COMMUNITY_EDITABLE_FIELDS}
    for field, value in changes.items():
        values[field] = value.strip() if isinstance(value, str) else value
    _community_validate(values)
    with transaction.atomic():
        locked = Community.objects.select_for_update().get(pk=community.pk)
        changed = {
            field: [getattr(locked, field), value]
            for field, value in values.items()
            if getattr(locked, field) != value
        }
        for field, value in values.items():
            setattr(locked, field, value)
        locked.save(update_fields=list(values))
        if changed:
            audit_record(
                actor=actor,
                community=locked,
                action=AuditAction.SETTINGS_CHANGE,
                subject=locked,
                details={"changes": changed},
            )
    return locked


def area_create(*, actor: User, community: Community, name: str) -> Area:
    """Add a neighbourhood to a community. Raises InvalidInput if it is empty or exists."""
    _require_coordinator(actor=actor, community=community)
    name = name.strip()
    if not name:
        raise InvalidInput(_("Give the area a name."), field="name")
    if community.areas.filter(name__iexact=name).exists():
        raise InvalidInput(_("This community already has an area with that name."), field="name")
    try:
        with transaction.atomic():
            area = Area.objects.create(community=community, name=name)
            audit_record(
                actor=actor,
                community=community,
                action=AuditAction.AREA_CREATE,
                subject=area,
                details={"area": area.pk},
            )
            return area
    except IntegrityError as exc:
        raise InvalidInput(
            _("This community already has an area with that name."), field="name"
        ) from exc


def _require_coordinator(*, actor: User, community: Community) -> None:
    if not selectors.user_is_coordinator(user=actor, community=community):
        raise NotAllowed(_("Only a coordinator of this community can do this."))


def _actor_kind(*, actor: User | None, membership: Membership) -> str:
    """How ``actor`` stands towards ``membership``. Acting on your own membership
    counts as the member, even for a coordinator: nobody admits themselves."""
    if actor is None:
        return Actor.SYSTEM
    if actor.pk == membership.user_id:
        return Actor.SELF
    if selectors.user_is_coordinator(user=actor, community=membership.community):
        return Actor.COORDINATOR
    if Membership.objects.filter(
        user=actor, community_id=membership.community_id, status__in=MEMBER_STATUSES
    ).exists():
        raise NotAllowed(_("Only a coordinator of this community can do this."))
    # Someone outside the community must not learn that this membership exists.
    raise NotFound(_("This membership does not exist."))


def _community_lock(*, community_id: int) -> None:
    """Serialise role and status changes within one community.

    Two coordinators who demote each other at the same moment must not both
    succeed and leave the community without one. Each change first locks the
    community row, so they run one after the other and the second one sees the
    first. FOR NO KEY UPDATE, not FOR UPDATE: new rows that merely reference
    the community (events, memberships) take a KEY SHARE lock for their foreign
    key, and must not wait for this one.
    """
    Community.objects.select_for_update(no_key=True).filter(pk=community_id).values("pk").get()


def _ensure_another_coordinator_remains(*, membership: Membership) -> None:
    """A community always keeps an active coordinator to admit members and correct mistakes.
    Callers hold the community lock, so the count cannot change underneath."""
    if not membership.is_coordinator:
        return
    others = Membership.objects.filter(
        community_id=membership.community_id, role=Role.COORDINATOR, status=Status.ACTIVE
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise TransitionNotAllowed(
            _(
                "%(name)s is the only coordinator of %(community)s. "
                "Make someone else coordinator first."
            )
            % {"name": membership.user.display_name, "community": membership.community.name}
        )


def _record_event(
    *,
    membership: Membership,
    actor: User | None,
    kind: str,
    from_value: str,
    to_value: str,
    reason: str,
) -> MembershipEvent:
    return MembershipEvent.objects.create(
        membership=membership,
        community_id=membership.community_id,
        actor=actor,
        kind=kind,
        from_value=from_value,
        to_value=to_value,
        reason=reason,
    )


def membership_status_change(
    *, actor: User | None, membership: Membership, to_status: str, reason: str = ""
) -> Membership:
    """Move a membership to ``to_status`` and record the step as an event.

    The step must be in ``accounts.transitions.STATUS_TRANSITIONS`` for the
    actor's standing (the member themself, a coordinator, or the system with
    ``actor=None``). A coordinator's step needs a reason, except admission.
    The last active coordinator cannot leave or be suspended.

    Raises NotFound if the actor is outside the community, InvalidInput for an
    unknown status or a missing reason, NotAllowed if the actor may not take
    this step, and TransitionNotAllowed if the current status does not allow it.
    Nothing changes when it raises. The member is notified of another's step.
    """
    if to_status not in Status.values:
        raise InvalidInput(_("Unknown status."), field="status")
    actor_kind = _actor_kind(actor=actor, membership=membership)
    reason = reason.strip()
    with transaction.atomic():
        _community_lock(community_id=membership.community_id)
        locked = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("user", "community")
            .get(pk=membership.pk)
        )
        step = (locked.status, to_status)
        allowed_actors = STATUS_TRANSITIONS.get(step)
        if allowed_actors is None:
            raise TransitionNotAllowed(
                _("A membership cannot go from “%(from)s” to “%(to)s”.")
                % {"from": Status(locked.status).label, "to": Status(to_status).label},
                field="status",
            )
        if actor_kind not in allowed_actors:
            raise NotAllowed(
                _("Only %(actors)s can change “%(from)s” to “%(to)s”.")
                % {
                    "actors": _(" or ").join(str(Actor(a).label) for a in sorted(allowed_actors)),
                    "from": Status(locked.status).label,
                    "to": Status(to_status).label,
                },
                field="status",
            )
        if actor_kind == Actor.COORDINATOR and step not in REASON_NOT_REQUIRED and not reason:
            raise InvalidInput(_("Give a reason; the member can read it."), field="reason")
        if locked.status == Status.ACTIVE:
            _ensure_another_coordinator_remains(membership=locked)

        now = timezone.now()
        from_status = locked.status
        locked.status = to_status
        locked.status_changed_at = now
        if to_status == Status.APPLIED:
            locked.applied_at = now
            locked.joined_at = None
            locked.left_at = None
            locked.role = Role.MEMBER
        elif to_status == Status.ACTIVE and from_status == Status.APPLIED:
            locked.joined_at = now
        elif to_status == Status.LEFT:
            locked.left_at = now
        locked.save(
            update_fields=[
                "status",
                "status_changed_at",
                "applied_at",
                "joined_at",
                "left_at",
                "role",
            ]
        )
        event = _record_event(
            membership=locked,
            actor=actor,
            kind=MembershipEventKind.STATUS,
            from_value=from_status,
            to_value=to_status,
            reason=reason,
        )
        if actor_kind == Actor.COORDINATOR:
            audit_record(
                actor=actor,
                community=locked.community,
                action=AuditAction.MEMBERSHIP_STATUS,
                subject=locked,
                member=locked,
                details={"from": from_status, "to": to_status},
                reason=reason,
            )
        if actor_kind != Actor.SELF:
            notifications.membership_event_notify(event=event)
    return locked


def membership_role_change(
    *, actor: User, membership: Membership, to_role: str, reason: str
) -> Membership:
    """Make an active member a coordinator, or a coordinator a member again.

    Only a coordinator may, with a reason. The last active coordinator cannot
    step down. Raises InvalidInput, NotAllowed, NotFound or TransitionNotAllowed
    and then changes nothing.
    """
    if to_role not in Role.values:
        raise InvalidInput(_("Unknown role."), field="role")
    _actor_kind(actor=actor, membership=membership)
    if not selectors.user_is_coordinator(user=actor, community=membership.community):
        raise NotAllowed(_("Only a coordinator of this community can do this."), field="role")
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Give a reason; the member can read it."), field="reason")
    with transaction.atomic():
        _community_lock(community_id=membership.community_id)
        locked = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("user", "community")
            .get(pk=membership.pk)
        )
        if locked.role == to_role:
            raise TransitionNotAllowed(
                _("%(name)s already has the role “%(role)s”.")
                % {"name": locked.user.display_name, "role": Role(to_role).label},
                field="role",
            )
        if locked.status != Status.ACTIVE:
            raise TransitionNotAllowed(
                _("Only an active member's role can change; this membership is “%(status)s”.")
                % {"status": Status(locked.status).label},
                field="role",
            )
        if to_role == Role.MEMBER:
            _ensure_another_coordinator_remains(membership=locked)
        from_role = locked.role
        locked.role = to_role
        locked.save(update_fields=["role"])
        event = _record_event(
            membership=locked,
            actor=actor,
            kind=MembershipEventKind.ROLE,
            from_value=from_role,
            to_value=to_role,
            reason=reason,
        )
        audit_record(
            actor=actor,
            community=locked.community,
            action=AuditAction.MEMBERSHIP_ROLE,
            subject=locked,
            member=locked,
            details={"from": from_role, "to": to_role},
            reason=reason,
        )
        if actor.pk != locked.user_id:
            notifications.membership_event_notify(event=event)
    return locked


def membership_apply(
    *, user: User, community: Community, area: Area | None = None, note: str = ""
) -> Membership:
    """Apply to join ``community``, or re-apply after leaving or being declined.

    When the community admits everyone, the member is admitted at once (a second
    event, by the system). Raises TransitionNotAllowed when the person already
    has an application or membership that is not closed, and InvalidInput for
    an area of another community.
    """
    if area is not None and area.community_id != community.pk:
        raise InvalidInput(_("Choose an area of this community."), field="area")
    note = note.strip()
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().filter(user=user, community=community).first()
        )
        if membership is None:
            try:
                with transaction.atomic():
                    membership = Membership.objects.create(
                        user=user, community=community, area=area, application_note=note
                    )
            except IntegrityError as exc:
                # A double click: the first request created the application.
                raise TransitionNotAllowed(
                    _("You have already applied to %(community)s.") % {"community": community.name}
                ) from exc
            _record_event(
                membership=membership,
                actor=user,
                kind=MembershipEventKind.STATUS,
                from_value="",
                to_value=Status.APPLIED,
                reason="",
            )
        elif membership.status in (Status.LEFT, Status.DECLINED):
            membership.area = area
            membership.application_note = note
            membership.save(update_fields=["area", "application_note"])
            membership = membership_status_change(
                actor=user, membership=membership, to_status=Status.APPLIED
            )
        elif membership.status == Status.APPLIED:
            raise TransitionNotAllowed(
                _("You have already applied to %(community)s. A coordinator will look at it soon.")
                % {"community": community.name}
            )
        else:
            raise TransitionNotAllowed(
                _("You are already a member of %(community)s.") % {"community": community.name}
            )
        if not community.requires_approval:
            membership = membership_status_change(
                actor=None, membership=membership, to_status=Status.ACTIVE
            )
    return membership


def membership_area_change(*, actor: User, membership: Membership, area: Area | None) -> Membership:
    """Set the member's neighbourhood; the member or a coordinator may."""
    actor_kind = _actor_kind(actor=actor, membership=membership)
    if actor_kind == Actor.SYSTEM:
        raise NotAllowed(_("Only the member or a coordinator can change the area."))
    if area is not None and area.community_id != membership.community_id:
        raise InvalidInput(_("Choose an area of this community."), field="area")
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.area_id == (area.pk if area else None):
            return locked
        from_value = locked.area.name if locked.area else ""
        from_area_id = locked.area_id
        locked.area = area
        locked.save(update_fields=["area"])
        _record_event(
            membership=locked,
            actor=actor,
            kind=MembershipEventKind.AREA,
            from_value=from_value,
            to_value=area.name if area else "",
            reason="",
        )
        if actor_kind == Actor.COORDINATOR:
            audit_record(
                actor=actor,
                community=membership.community,
                action=AuditAction.MEMBERSHIP_AREA,
                subject=locked,
                member=locked,
                details={"from": from_area_id, "to": locked.area_id},
            )
    return locked


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Make a personal access token for ``user``; return it with its secret.

    The secret is returned here only: just its hash is stored. Raises
    ``InvalidInput`` for an empty or too long name, or when the person already
    has ``API_TOKENS_ACTIVE_MAX`` active tokens; nothing is created then.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give the token a name, so you know what it is for."), field="name")
    if len(name) > API_TOKEN_NAME_MAX:
        raise InvalidInput(
            _("Keep the name to %(max)d characters.") % {"max": API_TOKEN_NAME_MAX}, field="name"
        )
    with transaction.atomic():
        # Lock the person's row so two requests at once cannot pass the limit together.
        User.objects.select_for_update().filter(pk=user.pk).first()
        active = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
        if active >= API_TOKENS_ACTIVE_MAX:
            raise InvalidInput(
                _("You already have %(max)d active tokens. Revoke one you no longer use first.")
                % {"max": API_TOKENS_ACTIVE_MAX},
                code="api_token_limit",
                field="name",
            )
        secret = API_TOKEN_SECRET_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(
            user=user,
            name=name,
            key_hash=ApiToken.hash_of(secret),
            prefix=secret[:API_TOKEN_SHOWN_PREFIX],
        )
    return token, secret


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s own tokens; it stops working at once.

    Revoking a revoked token changes nothing. Raises ``NotFound`` for a token
    that does not exist or belongs to someone else (the two look the same).
    """
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
        if token is None:
            raise NotFound(_("This token does not exist."))
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def api_token_mark_used(*, token: ApiToken) -> None:
    """Note that ``token`` was used just now, at most once a minute, so busy
    scripts do not write a row on every request."""
    now = timezone.now()
    recent = now - API_TOKEN_USE_RESOLUTION
    updated = (
        ApiToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=recent))
        .update(last_used_at=now)
    )
    if updated:
        token.last_used_at = now


def audit_record(
    *,
    actor: User,
    community: Community | None,
    action: str,
    subject: models.Model | None = None,
    member: Membership | None = None,
    details: dict | None = None,
    reason: str = "",
    once: bool = False,
) -> AuditEntry | None:
    """Write one row of the audit log: ``actor`` did ``action`` in ``community``.

    Call it inside the transaction of the action it records, after the action's
    own writes, so that a refused or rolled-back action leaves no row. The role
    is the actor's own: coordinator when they hold that role in ``community``,
    otherwise site administrator (the services call this only for actions that
    needed one of the two); the admin's actions are always the administrator's.
    ``subject`` is what was acted on, ``member`` the member it concerns.
    ``details`` holds codes, ids and integer amounts, never a person's name or
    text a member wrote; ``reason`` is the coordinator's own.
    With ``once``, nothing is written when this action on this subject is in the
    log already (an idempotent request sent again); it then returns None.
    """
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    subject_type = subject._meta.label_lower if subject is not None else ""
    subject_id = subject.pk if subject is not None else None
    if once and subject is not None:
        already = AuditEntry.objects.filter(
            action=action, subject_type=subject_type, subject_id=subject_id
        )
        if already.exists():
            return None
    # In the admin a person acts as the site's administrator, whatever else they are.
    holds_role = (
        community is not None
        and not action.startswith("admin.")
        and selectors.user_holds_coordinator_role(user=actor, community=community)
    )
    return AuditEntry.objects.create(
        community=community,
        actor=actor,
        actor_role=AuditRole.COORDINATOR if holds_role else AuditRole.ADMINISTRATOR,
        action=action,
        membership=member,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details or {},
        reason=(reason or "").strip(),
    )
