"""The site while Redis is down.

Redis is the cache (rate limits) and the job queue (Celery broker). With it
stopped, members still browse, pay on the page and through the API, and sign
in; a job that cannot be queued waits in the database, and ``/healthz`` says
"degraded" with a 200. Once Redis is back, the waiting jobs are sent to it.

Each test starts a Redis of its own (``private_redis``), points the cache and
the broker at it, and publishes jobs for real instead of running them eagerly.
"""

from __future__ import annotations

import logging

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.models import Role
from jobs.models import PendingJob
from jobs.services import pending_jobs_flush
from ledger import services as ledger_services
from ledger.models import Account, Transfer
from reciprocity.models import AnalysisRun, RunStatus
from ruilkring.settings.base import redis_caches
from tests.factories import CommunityFactory, MembershipFactory, UserFactory
from tests.reliability.private_redis import PrivateRedis, celery_publishing_to

pytestmark = pytest.mark.django_db(transaction=True)

CACHE_DB, BROKER_DB = 0, 1
PASSWORD = "a-good-long-password"


@pytest.fixture
def private_redis(tmp_path, settings):
    """A running Redis of this test's own, as the cache and the broker."""
    server = PrivateRedis(tmp_path)
    try:
        server.start()
        settings.CACHES = redis_caches(server.url(CACHE_DB))
        settings.CELERY_BROKER_URL = server.url(BROKER_DB)
        settings.CELERY_BROKER_IS_EMBEDDED = False
        with celery_publishing_to(server.url(BROKER_DB)):
            yield server
    finally:
        server.stop()


@pytest.fixture
def circle():
    community = CommunityFactory(name="Sterrenstelsel", slug="sterrenstelsel")

    def member(name: str, role: str = Role.MEMBER) -> Account:
        user = UserFactory(display_name=name, email=f"{name.lower()}@example.org")
        membership = MembershipFactory(community=community, user=user, role=role)
        return ledger_services.account_open(membership=membership)

    return community, member("Anna"), member("Bram"), member("Mieke", Role.COORDINATOR)


def _api(name: str, community, *args) -> str:
    return reverse(f"ledger_api:{name}", args=[community.slug, *args])


def _post_json(client, url: str, body: dict, key: str):
    return client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_with_redis_stopped_the_pages_and_the_api_work_and_payments_go_through(
    client, circle, private_redis
):
    community, anna, bram, _coordinator = circle
    private_redis.stop()
    client.force_login(anna.membership.user)

    for page in (
        reverse("home"),
        reverse("accounts:community_detail", args=[community.slug]),
        reverse("listings:list", args=[community.slug]),
        reverse("ledger:account", args=[community.slug]),
    ):
        assert client.get(page).status_code == 200, page

    assert client.get(_api("my_account", community)).json()["balance"] == 0
    paid = _post_json(
        client,
        _api("payments", community),
        {"payee": bram.membership.pk, "amount": 90, "memo": "Tuin"},
        key="redis-down-1",
    )
    assert paid.status_code == 201
    assert Transfer.objects.filter(pk=paid.json()["id"]).exists()
    statement = client.get(_api("my_statement", community)).json()
    assert [row["version"] for row in statement["results"]] == [1]

    pay_url = reverse("ledger:pay", args=[community.slug])
    key = client.get(pay_url).context["form"].initial["idempotency_key"]
    form = {"other": bram.membership.pk, "amount": "0,5", "memo": "Fiets", "idempotency_key": key}
    assert client.post(pay_url, form).status_code == 302
    assert Transfer.objects.count() == 2
    assert Account.objects.get(pk=anna.pk).balance == -120
    assert Account.objects.get(pk=bram.pk).balance == 120


def test_with_redis_stopped_people_still_sign_in_and_the_outage_is_logged_once(
    client, circle, private_redis, caplog
):
    _community, anna, _bram, _coordinator = circle
    user = anna.membership.user
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    private_redis.stop()
    caplog.set_level(logging.WARNING, logger="ruilkring.cache")

    wrong = client.post(reverse("account_login"), {"login": user.email, "password": "not-it"})
    assert wrong.status_code == 200  # the form again, with its message; no 429, no 500
    for _attempt in range(2):
        client.logout()
        signed_in = client.post(
            reverse("account_login"), {"login": user.email, "password": PASSWORD}
        )
        assert signed_in.status_code == 302
        assert int(client.session["_auth_user_id"]) == user.pk

    outage_warnings = [r for r in caplog.records if r.name == "ruilkring.cache"]
    assert len(outage_warnings) == 1
    assert outage_warnings[0].levelno == logging.WARNING


def test_jobs_queued_while_redis_is_stopped_wait_in_the_database_and_go_once_it_is_back(
    client, circle, private_redis
):
    community, anna, bram, coordinator = circle

    # With Redis up, a job goes straight to the queue.
    client.force_login(anna.membership.user)
    asked = _post_json(
        client,
        _api("payment_requests", community),
        {"payer": bram.membership.pk, "amount": 30, "memo": "Soep"},
        key="before",
    )
    assert asked.status_code == 201
    assert [task for task, _args, _kwargs in private_redis.queued_jobs(BROKER_DB)] == [
        "accounts.tasks.email_deliver"
    ]
    assert not PendingJob.objects.exists()

    private_redis.stop()

    # A coordinator starts an analysis: the run is recorded, its job waits.
    client.force_login(coordinator.membership.user)
    analysis_url = reverse("reciprocity:analysis", args=[community.slug])
    assert client.post(analysis_url).status_code == 302
    run = AnalysisRun.objects.get(community=community)
    assert run.status == RunStatus.QUEUED
    # A member asks for a payment: the request is recorded, the mail to the payer waits.
    client.force_login(anna.membership.user)
    asked = _post_json(
        client,
        _api("payment_requests", community),
        {"payer": bram.membership.pk, "amount": 60, "memo": "Tuin"},
        key="during",
    )
    assert asked.status_code == 201

    waiting = list(PendingJob.objects.order_by("pk"))
    assert [(job.task, job.args) for job in waiting] == [
        ("reciprocity.tasks.reciprocity_analyse_community", [community.pk, run.pk]),
        ("accounts.tasks.email_deliver", []),
    ]
    assert waiting[1].kwargs["to"] == ["bram@example.org"]
    assert all(job.attempts == 1 and job.last_error for job in waiting)

    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "broker": "unavailable", "cache": "unavailable"},
        "pending_jobs": 2,
    }

    # Still away: a flush sends nothing and keeps both jobs.
    assert pending_jobs_flush() == 0
    assert PendingJob.objects.count() == 2
    assert PendingJob.objects.order_by("pk").first().attempts == 2

    private_redis.start()  # the same port, empty: this Redis keeps nothing on disk
    assert pending_jobs_flush() == 2

    assert not PendingJob.objects.exists()
    queued = private_redis.queued_jobs(BROKER_DB)
    assert [(task, args) for task, args, _kwargs in queued] == [
        ("reciprocity.tasks.reciprocity_analyse_community", [community.pk, run.pk]),
        ("accounts.tasks.email_deliver", []),
    ]
    assert queued[1][2] == waiting[1].kwargs
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "cache": "ok"},
        "pending_jobs": 0,
    }
