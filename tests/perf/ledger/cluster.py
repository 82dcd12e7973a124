"""A private, durable PostgreSQL cluster for the ledger benchmark.

The test harness runs PostgreSQL with fsync, synchronous_commit and
full_page_writes off, which is right for tests and wrong for a throughput
figure: a commit there never waits for the disk. This cluster has all three
on, like a production server. It lives in a fresh temporary directory, listens
on a free port on 127.0.0.1, and is removed afterwards. As root, PostgreSQL
runs as the unprivileged ``postgres`` user, as in the harness.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.harness import as_postgres_user, ensure_system_packages, free_port, postgres_bindir

# Everything that is not PostgreSQL's default, recorded in the results.
SERVER_SETTINGS = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "max_connections": "200",
    # The default (128MB) is meant for tiny machines; the preloaded history
    # (about 0.5 GB with indexes) should fit, as it would in production.
    "shared_buffers": "1GB",
}


@dataclass(frozen=True)
class Cluster:
    host: str
    port: int
    user: str
    bindir: Path
    workdir: Path

    def url(self, database: str) -> str:
        return f"postgres://{self.user}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str) -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={database}"


@contextlib.contextmanager
def durable_cluster() -> Iterator[Cluster]:
    ensure_system_packages()
    bindir = postgres_bindir()
    assert bindir is not None
    workdir = Path(tempfile.mkdtemp(prefix="ruilkring-bench-"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    pgdata = workdir / "pgdata"
    log = workdir / "postgres.log"
    port = free_port()
    pg_ctl = [str(bindir / "pg_ctl"), "--pgdata", str(pgdata), "--log", str(log)]
    started = False
    try:
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
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = " ".join(
            [
                f"-p {port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={workdir}",
                *(f"-c {name}={value}" for name, value in SERVER_SETTINGS.items()),
            ]
        )
        subprocess.run(
            as_postgres_user([*pg_ctl, "--options", options, "--wait", "start"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        started = True
        yield Cluster("127.0.0.1", port, "postgres", bindir, workdir)
    finally:
        if started:
            subprocess.run(
                as_postgres_user([*pg_ctl, "--mode", "fast", "--wait", "stop"]),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(workdir, ignore_errors=True)
