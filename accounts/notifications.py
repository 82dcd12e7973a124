"""Telling people what happened, in their own language.

Mail is rendered now, in the recipient's language, and sent by a background
job once the transaction that caused it has committed.

Besides mail about their membership, every app can notify a person through
``notify``: the notification lands in their inbox on the site and is mailed
straight away, in the weekly digest, or not at all, as the person chose for
that kind (``notification_preference_set``). Apps register their kinds with
``notification_kind_register`` so the preferences page can list them.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise

from accounts.models import (
    Community,
    MembershipEvent,
    MembershipEventKind,
    Notification,
    NotificationChannel,
    NotificationPreference,
    User,
)
from accounts.selectors import user_coordinates_somewhere
from accounts.tasks import email_deliver
from jobs.services import enqueue


def email_queue(*, subject: str, body: str, to: list[str], html: str = "") -> None:
    """Send mail after the current transaction commits (at once outside one). While
    the job queue is away, the mail waits in the database (jobs.services)."""
    transaction.on_commit(
        partial(
            enqueue,
            email_deliver,
            subject=subject,
            body=body,
            to=to,
            from_email=settings.DEFAULT_FROM_EMAIL,
            html=html,
        )
    )


def membership_event_notify(*, event: MembershipEvent) -> None:
    """Mail the member about a step someone else took on their membership."""
    membership = event.membership
    user = membership.user
    if event.kind not in (MembershipEventKind.STATUS, MembershipEventKind.ROLE):
        return
    with translation.override(user.language):
        context = {
            "user": user,
            "community": membership.community,
            "event": event,
            "from_label": event.from_label,
            "to_label": event.to_label,
            "site_name": settings.RUILKRING_SITE_NAME,
        }
        subject = render_to_string("accounts/email/membership_event_subject.txt", context)
        body = render_to_string("accounts/email/membership_event_body.txt", context)
    email_queue(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
        body=body,
        to=[user.email],
    )


# kind -> (label for the preferences page, channel when a person chose none)
NOTIFICATION_KINDS: dict[str, tuple[str | Promise, str]] = {}
# Kinds only a coordinator ever gets; members do not see them among their choices.
COORDINATOR_KINDS: set[str] = set()


def notification_kind_register(
    kind: str,
    label: str | Promise,
    default: str = NotificationChannel.NOW,
    *,
    for_coordinators: bool = False,
) -> None:
    NOTIFICATION_KINDS[kind] = (label, default)
    if for_coordinators:
        COORDINATOR_KINDS.add(kind)


def notification_kinds_for(*, user: User) -> list[tuple[str, str | Promise]]:
    """The kinds ``user`` can choose mail for: (kind, label), in registration order."""
    coordinates = user_coordinates_somewhere(user=user)
    return [
        (kind, label)
        for kind, (label, _default) in NOTIFICATION_KINDS.items()
        if coordinates or kind not in COORDINATOR_KINDS
    ]


def notification_channel(*, user: User, kind: str) -> str:
    chosen = NotificationPreference.objects.filter(user=user, kind=kind).first()
    if chosen is not None:
        return chosen.channel
    return NOTIFICATION_KINDS.get(kind, ("", NotificationChannel.NOW))[1]


def notify(
    *,
    user: User,
    kind: str,
    subject: str,
    body: str,
    link: str = "",
    community: Community | None = None,
) -> Notification:
    """Put a notification in ``user``'s inbox and mail it if they want it now.

    ``subject`` and ``body`` are already in the person's language (render them
    inside ``translation.override(user.language)``). ``link`` is a path on the
    site; mail shows it in full when DJANGO_SITE_URL is set.
    """
    channel = notification_channel(user=user, kind=kind)
    notification = Notification.objects.create(
        user=user,
        community=community,
        kind=kind,
        subject=subject[:200],
        body=body,
        link=link,
        channel=channel,
        mailed_at=timezone.now() if channel == NotificationChannel.NOW else None,
    )
    if channel == NotificationChannel.NOW:
        _mail(user=user, notifications=[notification], template="notification")
    return notification


def _mail(*, user: User, notifications: Iterable[Notification], template: str) -> None:
    with translation.override(user.language):
        context = {
            "user": user,
            "notifications": list(notifications),
            "site_url": settings.RUILKRING_SITE_URL,
            "site_name": settings.RUILKRING_SITE_NAME,
        }
        subject = render_to_string(f"accounts/email/{template}_subject.txt", context)
        body = render_to_string(f"accounts/email/{template}_body.txt", context)
    email_queue(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
        body=body,
        to=[user.email],
    )


def notification_preference_set(*, user: User, kind: str, channel: str) -> None:
    if kind in NOTIFICATION_KINDS and channel in NotificationChannel.values:
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"channel": channel}
        )


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notifications_digest_send() -> int:
    """Mail everyone their waiting digest notifications in one mail. Returns how
    many mails. Run weekly by the scheduler; a second run sends nothing more."""
    sent = 0
    waiting = Notification.objects.filter(
        channel=NotificationChannel.DIGEST, mailed_at__isnull=True
    ).values_list("user_id", flat=True)
    for user in User.objects.filter(pk__in=set(waiting), is_active=True):
        with transaction.atomic():
            batch = list(
                Notification.objects.select_for_update()
                .filter(user=user, channel=NotificationChannel.DIGEST, mailed_at__isnull=True)
                .order_by("created_at", "pk")
            )
            if not batch:
                continue
            Notification.objects.filter(pk__in=[n.pk for n in batch]).update(
                mailed_at=timezone.now()
            )
            _mail(user=user, notifications=batch, template="digest")
        sent += 1
    return sent
