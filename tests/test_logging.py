"""Logs: readable text on a developer's machine, one JSON object per line in
production, for journald or a log collector."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.settings_values import production_settings


def production_logging(monkeypatch, **environment) -> dict:
    return production_settings(monkeypatch, **environment)["LOGGING"]


def emitted(config: dict, *, message: str, **extra) -> str:
    """What the console handler of ``config`` writes for one warning with a traceback."""
    logging.config.dictConfig(config)
    handler = logging.getLogger().handlers[0]
    stream = io.StringIO()
    handler.setStream(stream)
    try:
        raise ValueError("the example")
    except ValueError:
        logging.getLogger("ruilkring.example").warning(message, exc_info=True, extra=extra)
    return stream.getvalue()


@pytest.fixture(autouse=True)
def _logging_restored():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_production_writes_one_json_object_per_line(monkeypatch):
    config = production_logging(monkeypatch)

    line = emitted(config, message="Payment refused", community="niksen")

    assert line.count("\n") == 1
    record = json.loads(line)
    assert record["level"] == "WARNING"
    assert record["logger"] == "ruilkring.example"
    assert record["message"] == "Payment refused"
    assert record["community"] == "niksen"
    assert record["time"].startswith("20") and "T" in record["time"]
    assert "ValueError: the example" in record["exc_info"]


def test_production_can_log_text_instead(monkeypatch):
    config = production_logging(monkeypatch, DJANGO_LOG_FORMAT="text")

    line = emitted(config, message="Payment refused")

    assert "WARNING ruilkring.example: Payment refused" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_an_unknown_log_format_stops_the_start_with_its_name(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_LOG_FORMAT is 'xml'"):
        production_logging(monkeypatch, DJANGO_LOG_FORMAT="xml")
