"""Background jobs of the ledger. Thin: each calls one service."""

from celery import shared_task

from ledger import services


@shared_task
def payment_requests_auto_accept() -> int:
    """Pay the requests whose auto-accept day has come (scheduled by celery beat)."""
    return services.payment_requests_auto_accept_due()
