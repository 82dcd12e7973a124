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
