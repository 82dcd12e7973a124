"""Anna asks for a copy of her data, and downloads it as a zip file.

The copy holds what Anna can see in the app and nothing more: her own
profile, and other members only by the name the app shows them by.
"""

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from privacy import services
from privacy.archive import archive_write
from privacy.models import DataExport, DataExportEvent, ExportStatus
from privacy.tasks import data_export_build
from tests.privacy.conftest import balance

pytestmark = pytest.mark.django_db

EXPORT_FILES = {
    "README.txt",
    "profile.json",
    "listings.json",
    "exchanges.json",
    "messages.json",
    "notifications.json",
    "payment_requests.json",
    "statements/sterrenstelsel.csv",
}


def ask(client, django_capture_on_commit_callbacks):
    """Anna presses the button; the job runs when the request commits (eagerly here)."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("privacy:export_request"))
    assert response.status_code == 302
    return DataExport.objects.order_by("-pk").first()


def download(client, export) -> zipfile.ZipFile:
    response = client.get(reverse("privacy:export_download", args=[export.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "no-store" in response["Cache-Control"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def exported(client, story, anna, django_capture_on_commit_callbacks):
    client.force_login(anna.user)
    return ask(client, django_capture_on_commit_callbacks)


def test_the_zip_holds_every_part_and_a_readme(client, exported):
    assert exported.status == ExportStatus.READY
    archive = download(client, exported)
    assert set(archive.namelist()) >= EXPORT_FILES
    assert f"photos/listing-{exported.user.memberships.get().listings.get().pk}.jpg" in set(
        archive.namelist()
    )
    readme = archive.read("README.txt").decode()
    assert "statements/" in readme and "minutes when the circle counts in time" in readme


def test_profile_and_history_are_annas_own(client, exported, anna):
    archive = download(client, exported)
    profile = json.loads(archive.read("profile.json"))
    assert (profile["email"], profile["name"]) == ("anna@example.org", "Anna")
    [membership] = profile["memberships"]
    assert membership["community"] == "Sterrenstelsel"
    assert membership["role"] == "Member" and membership["status"] == "Active"
    assert membership["application_note"] == "I like gardening and live near the park."
    [listing] = json.loads(archive.read("listings.json"))
    assert listing["title"] == "Hulp in de tuin"
    [exchange] = json.loads(archive.read("exchanges.json"))
    assert exchange["other_member"] == "Bram"
    assert exchange["amount"] == {"minor_units": 90, "text": "1.5\xa0hours"}
    assert [step["to"] for step in exchange["steps"]] == [
        "Proposed",
        "Agreed",
        "Done, waiting for payment",
        "Paid",
    ]
    messages = json.loads(archive.read("messages.json"))
    assert [(m["written_by"], m["message"]) for m in messages["messages"]] == [
        ("you", "Tot zaterdag, Bram!"),
        ("Bram", "Fijn, tot dan."),
    ]
    assert messages["thank_you_notes"][0]["note"] == "Dank je wel, Anna!"
    assert "Welkom" in [n["subject"] for n in json.loads(archive.read("notifications.json"))]
    [request] = json.loads(archive.read("payment_requests.json"))
    assert (request["other"], request["status"]) == ("Bram", "Paid")


def test_the_statement_has_integer_and_written_amounts_with_the_balance_after(client, exported):
    archive = download(client, exported)
    text = archive.read("statements/sterrenstelsel.csv").decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header == [
        "Date",
        "With",
        "Description",
        "Kind",
        "Amount in minor units",
        "Amount",
        "Balance after in minor units",
        "Balance after",
    ]
    assert [row[1:] for row in rows] == [
        [
            "Bram",
            "Hulp in de tuin",
            "Accepted payment request",
            "90",
            "1.5\xa0hours",
            "90",
            "1.5\xa0hours",
        ],
        [
            "Carla",
            "Boodschappen voor Anna",
            "Payment",
            "-30",
            "\u22120.5\xa0hours",
            "60",
            "1\xa0hour",
        ],
    ]
    assert rows[0][0] == timezone.localdate().isoformat()


def test_no_other_members_email_address_is_in_the_zip(client, exported, bram, carla, mieke):
    archive = download(client, exported)
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"anna@example.org" in everything
    for other in (bram, carla, mieke):
        assert other.user.email.encode() not in everything


def test_another_person_gets_404_for_annas_download(client, exported, bram):
    client.force_login(bram.user)
    response = client.get(reverse("privacy:export_download", args=[exported.pk]))
    assert response.status_code == 404


def test_an_expired_link_answers_410_with_a_button_for_a_new_copy(client, exported):
    DataExport.objects.filter(pk=exported.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = client.get(reverse("privacy:export_download", args=[exported.pk]))
    assert response.status_code == 410
    page = response.content.decode()
    assert "This download has expired" in page
    assert f'action="{reverse("privacy:export_request")}"' in page


def test_the_link_lasts_the_retention_period(exported):
    assert exported.expires_at - exported.finished_at == timedelta(days=7)


def test_the_daily_job_deletes_expired_files(exported, django_capture_on_commit_callbacks):
    name = exported.file.name
    assert default_storage.exists(name)
    later = exported.expires_at + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.data_exports_expire(now=later) == (1, 0)
    exported.refresh_from_db()
    assert (exported.status, exported.file.name) == (ExportStatus.EXPIRED, "")
    assert not default_storage.exists(name)
    assert services.data_exports_expire(now=later) == (0, 0), "a second run changes nothing"


def test_progress_is_shown_with_a_plain_refresh_link(client, story, anna):
    client.force_login(anna.user)
    export = services.data_export_request(user=anna.user)  # its job waits for the commit
    page = client.get(reverse("privacy:my_data")).content.decode()
    assert "Waiting to start: 0% done." in page
    assert 'http-equiv="refresh"' not in page
    assert f'href="{reverse("privacy:my_data")}">Refresh this page</a>' in page
    assert "Make a copy of my data" not in page, "no second request while one is under way"
    DataExport.objects.filter(pk=export.pk).update(status=ExportStatus.BUILDING, progress=40)
    page = client.get(reverse("privacy:my_data")).content.decode()
    assert "Being made: 40% done." in page and '<progress max="100" value="40"' in page
    data_export_build(export.pk)
    export.refresh_from_db()
    assert export.status == ExportStatus.BUILDING, "a job for an export not waiting does nothing"


def test_the_steps_are_recorded_and_progress_only_rises(
    story, anna, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        export = services.data_export_request(user=anna.user)
    export.refresh_from_db()
    steps = list(
        DataExportEvent.objects.filter(export=export).values_list(
            "from_status", "to_status", "actor"
        )
    )
    assert steps == [
        ("", "requested", anna.user.pk),
        ("requested", "building", None),
        ("building", "ready", None),
    ]
    seen = []
    archive_write(user=anna.user, target=io.BytesIO(), progress=seen.append)
    assert seen == sorted(seen) and seen[0] > 0 and seen[-1] == 99
    assert (export.progress, export.size > 0) == (100, True)


def test_asking_again_while_one_is_under_way_shows_the_same_one(client, story, anna):
    client.force_login(anna.user)
    first = services.data_export_request(user=anna.user)
    response = client.post(reverse("privacy:export_request"), follow=True)
    assert DataExport.objects.filter(user=anna.user).count() == 1
    assert "already being made" in response.content.decode()
    assert services.data_export_request(user=anna.user).pk == first.pk


def test_the_database_refuses_a_second_export_under_way(story, anna):
    services.data_export_request(user=anna.user)
    with pytest.raises(IntegrityError), transaction.atomic():
        DataExport.objects.create(user=anna.user)


def test_a_new_copy_replaces_the_ready_one(exported, anna, django_capture_on_commit_callbacks):
    name = exported.file.name
    with django_capture_on_commit_callbacks(execute=True):
        newer = services.data_export_request(user=anna.user)
    exported.refresh_from_db()
    assert exported.status == ExportStatus.EXPIRED and not default_storage.exists(name)
    newer.refresh_from_db()
    assert newer.status == ExportStatus.READY


def test_a_failed_export_says_so_and_can_be_asked_again(
    client, story, anna, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(services, "archive_write", broken)
    client.force_login(anna.user)
    export = ask(client, django_capture_on_commit_callbacks)
    assert export.status == ExportStatus.FAILED and export.file.name == ""
    page = client.get(reverse("privacy:my_data")).content.decode()
    assert "Your last copy could not be made." in page and "Make a new copy" in page
    monkeypatch.undo()
    assert ask(client, django_capture_on_commit_callbacks).status == ExportStatus.READY


def test_exporting_changes_nothing_in_the_books(client, exported, anna, bram):
    assert (balance(anna), balance(bram)) == (60, -90)


def test_my_data_is_in_the_my_account_menu(client, anna):
    client.force_login(anna.user)
    page = client.get(reverse("account_email")).content.decode()
    assert f'href="{reverse("privacy:my_data")}"' in page


def test_a_file_gone_before_its_time_reads_as_expired(client, exported):
    default_storage.delete(exported.file.name)
    response = client.get(reverse("privacy:export_download", args=[exported.pk]))
    assert response.status_code == 410
