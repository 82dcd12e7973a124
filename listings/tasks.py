"""Background jobs of the listings. Thin: each calls one service."""

from celery import shared_task

from listings import services


@shared_task
def listings_expire() -> int:
    """Expire the listings whose date has passed (scheduled by celery beat)."""
    return services.listings_expire_due()


@shared_task
def exchange_payments_sync() -> int:
    """Move exchanges whose payment request was answered on the ledger's pages."""
    return services.exchange_payments_sync()
