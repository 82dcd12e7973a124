import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres_only: needs PostgreSQL behaviour")


@pytest.fixture(autouse=True, scope="session")
def _database_is_the_harness_postgres(django_db_setup, django_db_blocker):
    """`make test` runs against the harness's PostgreSQL; never silently on SQLite."""
    if settings.RUILKRING_REQUIRE_POSTGRES:
        with django_db_blocker.unblock():
            assert connection.vendor == "postgresql", (
                "The suite must run against PostgreSQL; start it with `make test`."
            )


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    """Tests read messages in English unless they switch language themselves."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _ledger_rules_on_during_tests(request):
    """Keep the ledger's database rules on during every test, and let Django's
    clean-up after a transactional test (a TRUNCATE of every table) through.

    The rules refuse TRUNCATE on the books. The harness connects as a superuser,
    who may switch triggers off for its own session (session_replication_role);
    an application's ordinary database role cannot. Tests themselves always run
    with the rules on.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    transactional = marker.kwargs.get("transaction", False) or (
        marker.args and marker.args[0] is True
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")
    yield
    if postgres and transactional:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
