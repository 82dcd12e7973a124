"""Background jobs of the accounts app. Thin: each one calls a service or sends."""

from __future__ import annotations

from celery import shared_task
from django.core.mail import EmailMultiAlternatives


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_deliver(
    *, subject: str, body: str, to: list[str], from_email: str | None = None, html: str = ""
) -> None:
    """Send one rendered email. Retries when the mail server is unreachable."""
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=from_email, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


@shared_task
def notifications_digest() -> int:
    """Mail everyone the notifications they chose to get once a week."""
    from accounts.notifications import notifications_digest_send  # imports this module

    return notifications_digest_send()
