"""Background jobs of the listings. Thin: each calls one service."""

from celery import shared_task

from listings import services


@shared_task
def listings_expire() -> int:
    """Expire the listings whose date has passed (scheduled by celery beat)."""
    return services.listings_expire_due()
