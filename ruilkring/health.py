"""``/healthz``: is this web process able to serve? For load balancers and monitoring."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from jobs.selectors import pending_jobs_count
from ruilkring.cache import FailSoftRedisCache

BROKER_TIMEOUT_SECONDS = 1


def _database_check() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _broker_check() -> str:
    if settings.CELERY_BROKER_IS_EMBEDDED:
        return "embedded"
    # Short socket timeouts: a Redis that hangs must not hold up the check.
    timeouts = {
        "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
        "socket_timeout": BROKER_TIMEOUT_SECONDS,
    }
    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=BROKER_TIMEOUT_SECONDS,
        transport_options=timeouts,
    ) as conn:
        conn.ensure_connection(
            max_retries=1, interval_start=0.2, interval_max=0.2, timeout=BROKER_TIMEOUT_SECONDS
        )
    return "ok"


def _cache_check() -> str:
    cache = caches["default"]
    if not isinstance(cache, FailSoftRedisCache):
        return "local"  # this process's own memory: nothing to reach
    return "ok" if cache.reachable() else "unavailable"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Whether this process can serve, and what it has to do without.

    - 200, ``"status": "ok"``: the database, the job queue (broker) and the cache answer.
    - 200, ``"status": "degraded"``: the database answers, but Redis (the broker,
      the cache or both) does not; the failing check says ``"unavailable"``.
    - 503, ``"status": "unavailable"``: the database does not answer.

    A Redis outage answers 200 on purpose. Without Redis every web process still
    serves every page and API call and records every payment: jobs wait in the
    database (``pending_jobs``: how many) until the broker is back, and the
    cache reads as empty. Every web process shares the same Redis, so a 503 here
    would make the load balancer take all of them out at once, turning a
    partial outage into a full one. Monitoring should alert on "degraded" and on
    a growing ``pending_jobs``. Without a database nothing works, so that is 503.

    Never shows connection details.
    """
    checks: dict[str, str] = {}
    for name, check in (
        ("database", _database_check),
        ("broker", _broker_check),
        ("cache", _cache_check),
    ):
        try:
            checks[name] = check()
        except Exception:  # any failure means "unavailable", whatever its kind
            checks[name] = "unavailable"
    pending: int | None = None
    if checks["database"] == "ok":
        try:
            pending = pending_jobs_count()
        except DatabaseError:
            checks["database"] = "unavailable"
    if checks["database"] != "ok":
        return JsonResponse(
            {"status": "unavailable", "checks": checks, "pending_jobs": pending}, status=503
        )
    status = "degraded" if "unavailable" in checks.values() else "ok"
    return JsonResponse({"status": status, "checks": checks, "pending_jobs": pending})
