"""A minute of the soak in every ``make test``: the production stack on loopback
under a realistic mix of members, API clients and a coordinator.

The same driver as ``make bench-soak`` (``tests/perf/soak.py``), for one minute
with 20 visitors on two gunicorn workers, then the payment-to-trivial ratio
phase. No request may end in a server error or a failed connection, every
visitor must get signed in, and the memory of the gunicorn workers and of the
Celery worker must stay flat: within 10% between the end of the warm-up (the
first 12 seconds) and the last 6 seconds. A minute is enough for that bound:
by the end of the warm-up every process has loaded its code and served every
kind of page, and what is left to grow is what a leak would grow.
"""

from __future__ import annotations

import os

import pytest

from tests.perf.soak import MEMORY_GROWTH_LIMIT_PERCENT, PAYMENT, report_print, soak_run

pytestmark = pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"),
    reason="needs the harness's PostgreSQL and Redis: run `make test`",
)


def test_a_minute_of_realistic_load_has_no_server_error_and_flat_memory(capsys):
    report = soak_run(minutes=1, users=20, web_workers=2)
    with capsys.disabled():
        print()
        report_print(report)

    # The load was real: many requests of every kind, payments among them.
    assert report["requests_total"] >= 300, report["requests_total"]
    assert len(report["requests"]) >= 15, sorted(report["requests"])
    payments = report["requests"]["/c/[slug]/pay/ (pay)"]["statuses"]
    assert payments.get("302", 0) > 0, payments
    assert report["ratio"]["requests"][PAYMENT]["statuses"].get("201", 0) > 0
    # Nothing broke.
    assert report["server_errors_5xx"] == 0, report["failures"]
    assert report["failed_connections"] == 0, report["failures"]
    assert report["web_log_errors"] == 0
    assert not [f for f in report["failures"] if "sign-in" in f], report["failures"]
    # Memory stayed flat.
    for group in ("web", "worker"):
        growth = report["memory"][group]["growth_percent"]
        assert growth <= MEMORY_GROWTH_LIMIT_PERCENT, (group, report["memory"][group])
    assert report["passed"], report["failures"]
