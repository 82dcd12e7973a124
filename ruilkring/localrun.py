"""``make run``: the whole site on one machine, with demo data, nothing to install.

Migrates the database (SQLite under var/ unless DATABASE_URL says otherwise),
loads the demo, then starts the web server and the background jobs side by
side. Without CELERY_BROKER_URL the jobs travel over an embedded file-system
broker under var/ to one worker with its scheduler built in; with it, a real
worker and a separate beat process are started. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = os.environ.get("DJANGO_RUN_HOST", "127.0.0.1")
PORT = os.environ.get("DJANGO_RUN_PORT", "8000")


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, check=True)


def start(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=BASE_DIR)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruilkring.settings.base")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    for folder in ("queue", "processed", "control"):
        (BASE_DIR / "var" / "broker" / folder).mkdir(parents=True, exist_ok=True)

    manage("migrate", "--noinput", "--verbosity", "0")
    manage("seed_demo")

    celery = [sys.executable, "-m", "celery", "--app", "ruilkring", "--quiet"]
    processes = [
        start([sys.executable, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"]),
    ]
    if os.environ.get("CELERY_BROKER_URL"):
        processes.append(start([*celery, "worker", "--loglevel", "INFO"]))
        processes.append(start([*celery, "beat", "--loglevel", "INFO"]))
    else:
        # One process, one thread: the embedded broker and SQLite both like a
        # single consumer. The scheduler (beat) runs inside the worker.
        processes.append(
            start(
                [
                    *celery,
                    "worker",
                    "--beat",
                    "--pool",
                    "solo",
                    "--loglevel",
                    "INFO",
                    "--without-mingle",
                    "--without-gossip",
                ]
            )
        )

    print(
        f"\n  Ruilkring runs on http://{HOST}:{PORT}/\n"
        "  Every demo login has the password printed above. Ctrl-C stops the site and the jobs.\n",
        flush=True,
    )

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and all(p.poll() is None for p in processes):
            time.sleep(0.5)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
    failed = [p for p in processes if p.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
    return 1 if failed and not stopping else 0


if __name__ == "__main__":
    sys.exit(main())
