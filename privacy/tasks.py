"""Background jobs of privacy. Thin: each loads what it needs and calls one service."""

from dataclasses import asdict

from celery import shared_task

from privacy import services
from privacy.models import DataExport


@shared_task
def data_export_build(export_id: int) -> None:
    """Make the zip file of one requested data export."""
    export = DataExport.objects.get(pk=export_id)
    services.data_export_build(export=export)


@shared_task
def privacy_retention() -> dict:
    """Apply the retention periods (scheduled daily by celery beat)."""
    return asdict(services.retention_apply())
