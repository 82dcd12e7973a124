import socket

import pytest

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_is_ok_with_the_database_and_the_embedded_broker(client, settings):
    settings.CELERY_BROKER_IS_EMBEDDED = True
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "embedded"}}


def test_healthz_checks_a_configured_broker(client, settings):
    redis_url = settings.CELERY_BROKER_URL
    if not redis_url.startswith("redis://"):
        pytest.skip("needs the harness's Redis: run `make test`")
    settings.CELERY_BROKER_IS_EMBEDDED = False
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"


def test_healthz_reports_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_IS_EMBEDDED = False
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body == {"status": "unavailable", "checks": {"database": "ok", "broker": "unavailable"}}
    assert "127.0.0.1" not in response.content.decode()


def test_healthz_reports_503_when_the_database_fails(client, settings, monkeypatch):
    from ruilkring import health

    def broken() -> str:
        raise OSError("connection refused")

    settings.CELERY_BROKER_IS_EMBEDDED = True
    monkeypatch.setattr(health, "_database_check", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"
