"""A Redis of a test's own, to stop and start again, and Celery publishing to it.

The harness's Redis is shared by the whole run, so a test that takes Redis away
starts its own on a free port (as ``tests/harness.py`` does) and points the
cache and the Celery broker at it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import kombu.pools
import pytest
import redis
from django.conf import settings

from ruilkring.celery import app as celery_app
from tests.harness import free_port, wait_for_port

STOP_TIMEOUT_SECONDS = 10


class PrivateRedis:
    """One redis-server on 127.0.0.1, always on the same port, without persistence."""

    def __init__(self, workdir: Path) -> None:
        if shutil.which("redis-server") is None:
            pytest.skip("needs redis-server: run `make test`")
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def queued_jobs(self, db: int) -> list[tuple[str, list, dict]]:
        """The jobs waiting in Celery's default queue in ``db``, oldest first:
        (task name, args, kwargs)."""
        client = redis.Redis.from_url(self.url(db))
        try:
            raw_messages = client.lrange("celery", 0, -1)
        finally:
            client.close()
        jobs = []
        for raw in reversed(raw_messages):  # Celery pushes on the left, takes from the right
            message = json.loads(raw)
            args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            jobs.append((message["headers"]["task"], args, kwargs))
        return jobs

    def start(self) -> None:
        log = self.workdir / "redis.log"
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--logfile",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process, "redis", log)

    def stop(self) -> None:
        """Stop the server and wait until its port refuses connections."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT_SECONDS)
        self.process = None
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            except OSError:
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis on port {self.port} still answers after stopping")


def _celery_connect(*, broker_url: str, transport_options: dict, eager: bool) -> None:
    # Celery prefers the environment's CELERY_BROKER_URL (the harness sets it)
    # to its configuration.
    os.environ["CELERY_BROKER_URL"] = broker_url
    celery_app.conf.update(
        broker_url=broker_url,
        broker_transport_options=transport_options,
        task_always_eager=eager,
    )
    # Celery keeps the connection pools of the broker it used first; close them
    # all and let it forget them, so the next publish connects to this broker.
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def celery_publishing_to(broker_url: str) -> Iterator[None]:
    """Jobs are really published to ``broker_url`` (not run eagerly) inside the block."""
    environment = os.environ.get("CELERY_BROKER_URL")
    previous = {
        "broker_url": celery_app.conf.broker_url,
        "transport_options": celery_app.conf.broker_transport_options,
        "eager": celery_app.conf.task_always_eager,
    }
    _celery_connect(
        broker_url=broker_url,
        transport_options=settings.REDIS_BROKER_TRANSPORT_OPTIONS,
        eager=False,
    )
    try:
        yield
    finally:
        _celery_connect(**previous)
        if environment is None:
            del os.environ["CELERY_BROKER_URL"]
