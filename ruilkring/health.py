"""``/healthz``: is this web process able to serve? For load balancers and monitoring."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

BROKER_TIMEOUT_SECONDS = 2


def _database_check() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _broker_check() -> str:
    if settings.CELERY_BROKER_IS_EMBEDDED:
        return "embedded"
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with ``{"status": "ok"}`` when every configured dependency answers, else 503
    naming the one that failed. Never shows connection details."""
    checks: dict[str, str] = {}
    healthy = True
    for name, check in (("database", _database_check), ("broker", _broker_check)):
        try:
            checks[name] = check()
        except Exception:  # any failure means "unhealthy", whatever its kind
            checks[name] = "unavailable"
            healthy = False
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
