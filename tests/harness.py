"""Start a private PostgreSQL and Redis, run a command against them, remove them.

    python tests/harness.py -- pytest -q

The servers listen on free ports on 127.0.0.1 and keep their data in a fresh
temporary directory, so the suite never touches a server that happens to run on
the machine, and leaves nothing behind. PostgreSQL refuses to run as root, so
as root the cluster is created and started as the unprivileged ``postgres``
user. The command gets these variables:

- ``DATABASE_URL``: the private PostgreSQL (the tests create their own database in it);
- ``DJANGO_REDIS_URL`` and ``CELERY_BROKER_URL``: databases 0 and 1 of the private Redis;
- ``RUILKRING_TEST_PGDATA``, ``RUILKRING_TEST_PG_BINDIR`` and ``RUILKRING_TEST_PG_USER``:
  for tests that restart or crash the database on purpose.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT_SECONDS = 60
SYSTEM_PACKAGES = {"postgresql": "initdb", "redis-server": "redis-server"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bindir() -> Path | None:
    """The newest installed PostgreSQL server's bin directory (Debian keeps it off PATH)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing_packages() -> list[str]:
    missing = []
    if postgres_bindir() is None:
        missing.append("postgresql")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    return missing


def ensure_system_packages() -> None:
    """Install PostgreSQL and Redis with apt when they are missing and we are root."""
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(
            "The test suite needs these operating-system packages: "
            + ", ".join(missing)
            + ". Install them (for example: sudo apt-get install "
            + " ".join(missing)
            + ") and run `make test` again."
        )
    print(f"harness: installing {', '.join(missing)} with apt-get", flush=True)
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=apt_env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=apt_env,
    )
    still_missing = missing_packages()
    if still_missing:
        sys.exit(f"harness: {', '.join(still_missing)} still missing after apt-get install")


def as_postgres_user(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def wait_for_port(port: int, process: subprocess.Popen, name: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None and name == "redis":
            break
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    sys.stderr.write(log.read_text(errors="replace") if log.exists() else "")
    raise RuntimeError(f"harness: {name} did not start on port {port}")


@contextlib.contextmanager
def postgres_server(workdir: Path) -> Iterator[dict[str, str]]:
    bindir = postgres_bindir()
    assert bindir is not None
    pgdata = workdir / "pgdata"
    log = workdir / "postgres.log"
    port = free_port()
    run_user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "")
    subprocess.run(
        as_postgres_user(
            [
                str(bindir / "initdb"),
                "--pgdata",
                str(pgdata),
                "--username",
                "postgres",
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C.UTF-8",
                "--no-sync",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # Durability settings are relaxed for speed: the cluster lives only as long
    # as the test run. With fsync off, a crash of PostgreSQL alone still keeps
    # what was written, because the operating system's page cache survives. With
    # synchronous_commit off, though, a commit is acknowledged before its WAL is
    # written, so an immediate shutdown loses the last acknowledged commits: the
    # crash test's clients switch it back on for their own sessions (PGOPTIONS),
    # as production runs with PostgreSQL's default (on).
    options = " ".join(
        [
            f"-p {port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={workdir}",
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            "-c max_connections=200",
        ]
    )
    pg_ctl = [str(bindir / "pg_ctl"), "--pgdata", str(pgdata), "--log", str(log)]
    subprocess.run(
        as_postgres_user([*pg_ctl, "--options", options, "--wait", "start"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        as_postgres_user(
            [
                str(bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "ruilkring",
            ]
        ),
        check=True,
    )
    try:
        yield {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/ruilkring",
            "RUILKRING_TEST_PGDATA": str(pgdata),
            "RUILKRING_TEST_PG_BINDIR": str(bindir),
            "RUILKRING_TEST_PG_USER": run_user,
            "RUILKRING_TEST_PG_PORT": str(port),
            "RUILKRING_TEST_PG_OPTIONS": options,
            "RUILKRING_TEST_PG_LOG": str(log),
        }
    finally:
        subprocess.run(
            as_postgres_user([*pg_ctl, "--mode", "immediate", "--wait", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    log = workdir / "redis.log"
    process = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--logfile",
            str(log),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, "redis", log)
        yield {
            "DJANGO_REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/1",
        }
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        sys.exit("usage: python tests/harness.py -- COMMAND [ARGS...]")
    ensure_system_packages()
    workdir = Path(tempfile.mkdtemp(prefix="ruilkring-test-"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    # SIGTERM (from CI or a user's kill) unwinds like Ctrl-C, so the servers stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with postgres_server(workdir) as pg_env, redis_server(workdir) as redis_env:
            env = {**os.environ, **pg_env, **redis_env, "RUILKRING_REQUIRE_POSTGRES": "1"}
            print(f"harness: PostgreSQL at {pg_env['DATABASE_URL']}", flush=True)
            print(f"harness: Redis at {redis_env['DJANGO_REDIS_URL']}", flush=True)
            return subprocess.run(argv, env=env).returncode
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
