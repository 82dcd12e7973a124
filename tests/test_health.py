import socket

import pytest

from jobs.models import PendingJob
from ruilkring.settings.base import redis_caches

pytestmark = pytest.mark.django_db

LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded(settings):
    """The embedded defaults of `make run`: the file-system broker, local memory."""
    settings.CELERY_BROKER_IS_EMBEDDED = True
    settings.CACHES = LOCAL_CACHE
    return settings


def test_healthz_is_ok_with_the_database_the_embedded_broker_and_a_local_cache(client, embedded):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "embedded", "cache": "local"},
        "pending_jobs": 0,
    }


def test_healthz_checks_a_configured_broker_and_the_redis_cache(client, settings):
    redis_url = settings.CELERY_BROKER_URL
    if not redis_url.startswith("redis://"):
        pytest.skip("needs the harness's Redis: run `make test`")
    settings.CELERY_BROKER_IS_EMBEDDED = False
    settings.CACHES = redis_caches(settings.REDIS_URL)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "cache": "ok"},
        "pending_jobs": 0,
    }


def test_healthz_stays_200_but_degraded_when_the_broker_is_unreachable(client, embedded):
    embedded.CELERY_BROKER_IS_EMBEDDED = False
    embedded.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "broker": "unavailable", "cache": "local"},
        "pending_jobs": 0,
    }
    assert "127.0.0.1" not in response.content.decode()


def test_healthz_stays_200_but_degraded_when_the_cache_is_unreachable(client, embedded):
    embedded.CACHES = redis_caches(f"redis://127.0.0.1:{_closed_port()}/0")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "broker": "embedded", "cache": "unavailable"},
        "pending_jobs": 0,
    }
    assert "127.0.0.1" not in response.content.decode()


def test_healthz_counts_the_jobs_waiting_for_the_broker(client, embedded):
    PendingJob.objects.create(task="accounts.tasks.email_deliver", kwargs={"subject": "Hallo"})
    PendingJob.objects.create(task="reciprocity.tasks.reciprocity_analyse_community", args=[1, 2])
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["pending_jobs"] == 2


def test_healthz_reports_503_when_the_database_fails(client, embedded, monkeypatch):
    from ruilkring import health

    def broken() -> str:
        raise OSError("connection refused")

    monkeypatch.setattr(health, "_database_check", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "unavailable", "broker": "embedded", "cache": "local"},
        "pending_jobs": None,
    }
