"""People hear what happened, in their own language, by mail as they chose."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Notification, NotificationChannel
from accounts.notifications import (
    notification_channel,
    notification_preference_set,
    notifications_digest_send,
)
from listings import services
from listings.models import ExchangeStatus, ListingStatus

pytestmark = pytest.mark.django_db


def test_anna_hears_of_bram_s_response_in_dutch_by_mail_and_in_her_inbox(
    anna, bram, place, django_capture_on_commit_callbacks
):
    anna.user.language = "nl"
    anna.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.exchange_propose(actor=bram.user, listing=place(), description="Zaterdag?")
    note = Notification.objects.get(user=anna.user)
    assert note.subject == "Bram reageert op je advertentie"
    assert note.body == "Zaterdag?" and note.link.startswith("/c/sterrenstelsel/exchanges/")
    assert mail.outbox[-1].to == [anna.user.email]
    assert "Bram reageert op je advertentie" in mail.outbox[-1].subject
    assert not Notification.objects.filter(user=bram.user).exists(), "not told of their own step"


def test_no_mail_or_a_weekly_digest_as_chosen(
    anna, bram, place, django_capture_on_commit_callbacks
):
    notification_preference_set(user=anna.user, kind="exchange_new", channel="none")
    notification_preference_set(user=anna.user, kind="exchange_message", channel="digest")
    with django_capture_on_commit_callbacks(execute=True):
        exchange = services.exchange_propose(actor=bram.user, listing=place(), description="Heg")
        services.exchange_message_post(actor=bram.user, exchange=exchange, body="Past 10 uur?")
        services.exchange_message_post(actor=bram.user, exchange=exchange, body="Of 11 uur?")
    assert mail.outbox == []
    assert Notification.objects.filter(user=anna.user).count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_digest_send() == 1
        assert notifications_digest_send() == 0
    assert len(mail.outbox) == 1
    assert "Past 10 uur?" in mail.outbox[0].body and "Of 11 uur?" in mail.outbox[0].body
    assert "2 things happened" in mail.outbox[0].subject


def test_the_steps_of_an_exchange_reach_the_other_member(anna, bram, coordinator, place):
    exchange = services.exchange_propose(actor=bram.user, listing=place(), description="Heg")
    services.exchange_step(actor=anna.user, exchange=exchange, to_status=ExchangeStatus.ACCEPTED)
    told = Notification.objects.filter(user=bram.user, kind="exchange_step").get()
    assert "Agreed" in told.subject
    services.exchange_step(
        actor=bram.user, exchange=exchange, to_status=ExchangeStatus.DISPUTED, note="Niet gedaan"
    )
    services.exchange_step(
        actor=coordinator, exchange=exchange, to_status=ExchangeStatus.CANCELLED, note="Opgelost"
    )
    for member in (anna, bram):
        last = Notification.objects.filter(user=member.user).first()
        assert "Reason: Opgelost" in last.body


def test_a_coordinator_s_removal_reaches_the_owner_with_the_reason(anna, coordinator, place):
    listing = place()
    services.listing_status_change(
        actor=coordinator, listing=listing, to_status=ListingStatus.REMOVED, note="Reclame."
    )
    told = Notification.objects.get(user=anna.user)
    assert told.kind == "listing_moderated" and "Reclame." in told.body


def test_the_inbox_shows_new_items_marks_them_read_and_saves_mail_choices(
    client, anna, bram, place
):
    services.exchange_propose(actor=bram.user, listing=place(), description="Heg")
    client.force_login(anna.user)
    assert "1 new" in client.get(reverse("accounts:my_communities")).content.decode()
    page = client.get(reverse("accounts:notifications")).content.decode()
    assert "Bram responds to your listing" in page
    assert Notification.objects.filter(user=anna.user, read_at__isnull=True).count() == 0
    client.post(reverse("accounts:notifications"), {"channel-exchange_new": "digest"})
    page = client.get(reverse("accounts:notifications")).content.decode()
    assert 'name="channel-exchange_new" value="digest" checked' in page
    assert notification_channel(user=anna.user, kind="exchange_new") == NotificationChannel.DIGEST
