"""The coordinators' queue: reported listings and exchanges in dispute."""

import pytest
from django.urls import reverse

from listings import services
from listings.models import ExchangeStatus, ListingReport

pytestmark = pytest.mark.django_db


def url(name, circle, *args):
    return reverse(f"listings:{name}", args=[circle.slug, *args])


def test_a_coordinator_sees_reports_and_disputes_and_handles_a_report(
    client, anna, bram, coordinator, circle, place
):
    offer = place(title="Goedkope zonnepanelen")
    services.listing_report(actor=bram.user, listing=offer, reason="Dit is reclame.")
    exchange = services.exchange_propose(actor=bram.user, listing=place(), description="Heg")
    services.exchange_step(actor=anna.user, exchange=exchange, to_status=ExchangeStatus.ACCEPTED)
    services.exchange_step(
        actor=bram.user, exchange=exchange, to_status=ExchangeStatus.DISPUTED, note="Niet gedaan"
    )
    client.force_login(coordinator)
    page = client.get(url("moderation", circle)).content.decode()
    assert "Goedkope zonnepanelen" in page and "Dit is reclame." in page
    assert "Anna helps Bram" in page
    report = ListingReport.objects.get()
    assert client.post(url("report_handle", circle, report.pk)).status_code == 302
    report.refresh_from_db()
    assert (report.handled_by, report.handled_at is not None) == (coordinator, True)
    assert "No reports waiting." in client.get(url("moderation", circle)).content.decode()


def test_members_cannot_open_the_queue_or_handle_reports(client, anna, bram, circle, place):
    services.listing_report(actor=bram.user, listing=place(), reason="Reclame")
    client.force_login(bram.user)
    assert client.get(url("moderation", circle)).status_code == 403
    report = ListingReport.objects.get()
    assert client.post(url("report_handle", circle, report.pk)).status_code == 403
    assert ListingReport.objects.get().handled_at is None
