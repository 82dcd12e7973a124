"""The values a settings module gives under a chosen environment, for tests of
the production settings (which the suite itself never runs on)."""

from __future__ import annotations

import runpy
from importlib.util import find_spec

PRODUCTION_REQUIRED = {
    "DJANGO_SECRET_KEY": "a-long-random-production-key-for-this-test-only-0123456789",
    "DJANGO_ALLOWED_HOSTS": "ruilkring.example.org",
    "DATABASE_URL": "postgres://ruilkring@localhost/ruilkring",
    "CELERY_BROKER_URL": "redis://localhost:6379/1",
    "DJANGO_REDIS_URL": "redis://localhost:6379/0",
}


def settings_module(name: str) -> dict:
    """The values of a settings module, run afresh under the current environment."""
    return runpy.run_path(find_spec(f"ruilkring.settings.{name}").origin)


def production_settings(monkeypatch, **environment) -> dict:
    """The values of ruilkring.settings.production, run afresh with the variables
    it requires and ``environment`` on top."""
    for name, value in {**PRODUCTION_REQUIRED, **environment}.items():
        monkeypatch.setenv(name, value)
    return settings_module("production")
