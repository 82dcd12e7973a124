"""Telling people what happened to their membership, in their own language.

Mail is rendered now, in the recipient's language, and sent by a background
job once the transaction that caused it has committed.
"""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import MembershipEvent, MembershipEventKind
from accounts.tasks import email_deliver


def email_queue(*, subject: str, body: str, to: list[str], html: str = "") -> None:
    """Send mail after the current transaction commits (at once outside one)."""
    transaction.on_commit(
        partial(
            email_deliver.delay,
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
