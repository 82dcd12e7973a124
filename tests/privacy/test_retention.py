"""The daily retention job: what is old goes, what is in use stays, and the
books are never touched."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.utils import timezone

from accounts.models import Membership, Notification, Status, User
from ledger.models import Entry, Transfer
from privacy import services
from privacy.models import Erasure, ErasureReason
from privacy.tasks import privacy_retention
from ruilkring.celery import app
from tests.factories import UserFactory
from tests.privacy.conftest import make_member

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def days_ago(days: int):
    return NOW - timedelta(days=days)


def left_long_ago(circle, name: str, *, left_days: int, signed_in_days: int | None) -> Membership:
    membership = make_member(circle, name, status=Status.LEFT)
    Membership.objects.filter(pk=membership.pk).update(
        status_changed_at=days_ago(left_days), left_at=days_ago(left_days)
    )
    User.objects.filter(pk=membership.user_id).update(
        date_joined=days_ago(1000),
        last_login=days_ago(signed_in_days) if signed_in_days is not None else None,
    )
    return membership


def test_old_notifications_go_and_recent_ones_stay(anna):
    old = Notification.objects.create(user=anna.user, kind="x", subject="Oud", body="")
    Notification.objects.filter(pk=old.pk).update(created_at=days_ago(366))
    Notification.objects.create(user=anna.user, kind="x", subject="Nieuw", body="")
    assert services.notifications_delete_old(now=NOW) == 1
    assert list(Notification.objects.values_list("subject", flat=True)) == ["Nieuw"]


def test_notes_of_declined_applications_are_emptied_after_the_period(circle, anna):
    declined = make_member(circle, "Dirk", status=Status.DECLINED, application_note="Ik woon hier")
    make_member(circle, "Eva", status=Status.DECLINED, application_note="Ik ook")
    Membership.objects.filter(pk=declined.pk).update(status_changed_at=days_ago(181))
    Membership.objects.filter(pk=anna.pk).update(status_changed_at=days_ago(400))
    assert services.application_notes_scrub(now=NOW) == 1
    notes = dict(Membership.objects.values_list("user__display_name", "application_note"))
    assert (notes["Dirk"], notes["Eva"]) == ("", "Ik ook")
    assert notes["Anna"] == "I like gardening and live near the park.", "a member keeps hers"


def test_people_who_left_long_ago_and_never_came_back_are_erased(circle, story, anna):
    gone = left_long_ago(circle, "Gijs", left_days=800, signed_in_days=800)
    never_signed_in = left_long_ago(circle, "Hanna", left_days=800, signed_in_days=None)
    signed_in_lately = left_long_ago(circle, "Ilse", left_days=800, signed_in_days=10)
    left_lately = left_long_ago(circle, "Joost", left_days=100, signed_in_days=800)
    admin = left_long_ago(circle, "Karel", left_days=800, signed_in_days=800)
    User.objects.filter(pk=admin.user_id).update(is_superuser=True, is_staff=True)
    UserFactory(display_name="Lies")  # never joined a circle: not a member who left
    User.objects.filter(pk=anna.user_id).update(last_login=days_ago(800))  # still a member

    assert set(services.left_members_due(now=NOW)) == {gone.user, never_signed_in.user}
    books = (list(Transfer.objects.values_list("pk", flat=True)), Entry.objects.count())
    assert services.left_members_pseudonymise(now=NOW) == 2
    for erased in (gone, never_signed_in):
        erasure = Erasure.objects.get(user=erased.user_id)
        assert erasure.reason == ErasureReason.RETENTION
        assert User.objects.get(pk=erased.user_id).display_name == f"Erased member #{erasure.pk}"
    kept = (signed_in_lately, left_lately, admin)
    assert not Erasure.objects.filter(user__in=[m.user_id for m in kept]).exists()
    assert User.objects.get(pk=anna.user_id).display_name == "Anna"
    assert (list(Transfer.objects.values_list("pk", flat=True)), Entry.objects.count()) == books
    assert services.left_members_pseudonymise(now=NOW) == 0, "a second run changes nothing"


def test_the_daily_job_runs_every_part_and_is_scheduled(anna):
    old = Notification.objects.create(user=anna.user, kind="x", subject="Oud", body="")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    report = privacy_retention.delay().get()
    assert report == {
        "exports_expired": 0,
        "exports_failed": 0,
        "notifications_deleted": 1,
        "application_notes_scrubbed": 0,
        "members_pseudonymised": 0,
    }
    entry = settings.CELERY_BEAT_SCHEDULE["privacy-retention"]
    assert entry["task"] == "privacy.tasks.privacy_retention"
    assert entry["task"] in app.tasks


def test_a_retention_period_below_one_day_is_refused_by_the_checks(settings):
    settings.RUILKRING_RETENTION_EXPORT_DAYS = 0
    errors = [error for error in run_checks() if error.id == "privacy.E001"]
    assert [error.msg for error in errors] == [
        "RUILKRING_RETENTION_EXPORT_DAYS is 0; it must be a whole number of days, at least 1."
    ]
