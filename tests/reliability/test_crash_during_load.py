"""The ledger when things crash in the middle of the work.

Three client processes at a time (``tests/reliability/crash_driver.py``) pay
between members and enter stacks of paper cheques as the coordinator, against
the harness's real PostgreSQL. Each retries every request with its own
idempotency key until the ledger answers. In the middle of the load:

1. the coordinator's client is killed (SIGKILL) while it is entering a cheque
   batch; a replacement sends that client's unanswered requests again with the
   same keys, and its last acknowledged ones, then goes on;
2. PostgreSQL itself is crashed (``pg_ctl stop --mode immediate``, no
   checkpoint, every connection cut) and started again with the harness's
   options.

Afterwards the books must hold exactly what the clients were told: every
acknowledged request once, a replay answered with the original, a refused one
not at all, no batch in part, every transfer's entries summing to zero, every
balance the sum of its entries, and ``ledger_verify`` clean. The clients must
really have worked through the crash: enough acknowledgements, and retries
after lost connections.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import Count, Q, Sum

from ledger import services
from ledger.models import Account, Entry, Transfer, TransferBatch
from tests.factories import CommunityFactory, CoordinatorFactory, MembershipFactory, UserFactory
from tests.reliability import crash_driver
from tests.reliability.crash_driver import STOP_FILE, log_path, records, sent_path

pytestmark = pytest.mark.django_db(transaction=True)

REPOSITORY = Path(__file__).resolve().parents[2]
MEMBERS = 10
# One member has tight limits, so some payments and whole batches are refused.
TIGHT_FLOOR, TIGHT_CEILING = -60, 60
# How long, and how much work at least, before each step of the run goes on:
# about half a minute of load in all.
PHASE_SECONDS = 10
WARM_UP_ACKNOWLEDGED = 30
COORDINATOR_BATCHES_BEFORE_KILL = 3
ACKNOWLEDGED_BETWEEN_KILL_AND_CRASH = 20
ACKNOWLEDGED_EACH_AFTER_CRASH = 5
MINIMUM_ACKNOWLEDGED = 50
# Seconds. Generous: they only bound a run that went wrong, on a busy machine.
STEP_TIMEOUT = 40
SERVER_TIMEOUT = 60
DRIVER_DEADLINE = 150
OUTAGE = 1.0


@dataclass(frozen=True)
class Server:
    """The harness's PostgreSQL, to crash and start again."""

    bindir: Path
    pgdata: str
    user: str
    options: str
    log: str

    @classmethod
    def from_environment(cls) -> Server | None:
        """The server the harness started, from the variables it exports; None without them."""
        bindir, pgdata, options, log = (
            os.environ.get(name)
            for name in (
                "RUILKRING_TEST_PG_BINDIR",
                "RUILKRING_TEST_PGDATA",
                "RUILKRING_TEST_PG_OPTIONS",
                "RUILKRING_TEST_PG_LOG",
            )
        )
        if not (bindir and pgdata and options and log):
            return None
        return cls(Path(bindir), pgdata, os.environ.get("RUILKRING_TEST_PG_USER", ""), options, log)

    def _pg_ctl(self, *arguments: str, timeout: float) -> subprocess.CompletedProcess:
        command = [str(self.bindir / "pg_ctl"), "--pgdata", self.pgdata, *arguments]
        # PostgreSQL refuses to run as root; the harness runs it as its own user.
        if os.geteuid() == 0 and self.user not in ("", "root"):
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=timeout
        )

    def crash(self) -> None:
        """Stop at once, like a power cut to the server process: no checkpoint, no goodbyes."""
        done = self._pg_ctl("--mode", "immediate", "--wait", "--timeout", "30", "stop", timeout=40)
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        """Start with the harness's options (port, socket directory, settings) and log."""
        done = self._pg_ctl(
            "--log",
            self.log,
            "--options",
            self.options,
            "--wait",
            "--timeout",
            str(SERVER_TIMEOUT),
            "start",
            timeout=SERVER_TIMEOUT + 10,
        )
        assert done.returncode == 0, done.stderr

    def running(self) -> bool:
        return self._pg_ctl("status", timeout=20).returncode == 0


def conninfo() -> dict:
    settings = connection.settings_dict
    return {
        "host": settings["HOST"] or "127.0.0.1",
        "port": str(settings["PORT"] or 5432),
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
        "dbname": settings["NAME"],
    }


def accepts_connections() -> bool:
    try:
        with psycopg.connect(**conninfo(), connect_timeout=2) as fresh:
            return fresh.execute("SELECT 1").fetchone() == (1,)
    except psycopg.Error:
        return False


def wait_for(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    also: Callable[[], None] | None = None,
) -> None:
    """Poll ``condition`` until it holds; fail, saying what did not happen, after ``timeout``."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if condition():
            return
        if also is not None:
            also()
        time.sleep(0.05)
    raise AssertionError(f"within {timeout} s: {what}")


def database_url() -> str:
    info = conninfo()
    password = f":{quote(info['password'], safe='')}" if info["password"] else ""
    return (
        f"postgres://{quote(info['user'], safe='')}{password}@{info['host']}:{info['port']}"
        f"/{quote(info['dbname'], safe='')}"
    )


class Fleet:
    """The client processes, their logs, and the means to kill them."""

    def __init__(self, workdir: Path, plan: dict):
        self.workdir = workdir
        self.plan_path = workdir / "plan.json"
        self.plan_path.write_text(json.dumps(plan))
        self.deadline = time.time() + DRIVER_DEADLINE
        self.processes: dict[str, subprocess.Popen] = {}
        self.killed: set[str] = set()
        self.environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ruilkring.settings.test",
            "DATABASE_URL": database_url(),
            # The harness runs PostgreSQL with synchronous_commit off for speed: a
            # commit is then acknowledged before its WAL reaches the operating
            # system, and a crash of the server loses the last moments of
            # acknowledged commits. The clients ask for what production has, so
            # that "acknowledged" means "recorded" here too.
            "PGOPTIONS": "-c synchronous_commit=on",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, name: str, profile: str, resume: str | None = None) -> None:
        output = (self.workdir / f"{name}.out").open("w")
        command = [
            sys.executable,
            "-m",
            crash_driver.__name__,
            "--plan",
            str(self.plan_path),
            "--workdir",
            str(self.workdir),
            "--name",
            name,
            "--profile",
            profile,
            "--deadline",
            str(self.deadline),
        ]
        if resume:
            command += ["--resume", resume]
        self.processes[name] = subprocess.Popen(
            command,
            cwd=REPOSITORY,
            env=self.environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        output.close()

    def log(self, name: str, kind: str | None = None) -> list[dict]:
        return [
            record
            for record in records(log_path(self.workdir, name))
            if kind is None or record["type"] == kind
        ]

    def acknowledged(self, name: str | None = None, *, after: float = 0.0) -> int:
        names = [name] if name else list(self.processes)
        return sum(1 for each in names for record in self.log(each, "ack") if record["t"] > after)

    def unanswered(self, name: str) -> list[dict]:
        answered = {r["key"] for r in self.log(name) if r["type"] in ("ack", "refused")}
        return [r for r in records(sent_path(self.workdir, name)) if r["key"] not in answered]

    def outputs(self) -> str:
        return "\n".join(
            f"--- {name} (exit {process.poll()}):\n"
            + (self.workdir / f"{name}.out").read_text(errors="replace")[-3000:]
            for name, process in self.processes.items()
        )

    def check_alive(self) -> None:
        """Fail at once when a client died by itself, with what it printed."""
        for name, process in self.processes.items():
            if name not in self.killed and process.poll() is not None:
                raise AssertionError(f"client {name} died:\n{self.outputs()}")

    def wait(self, condition: Callable[[], bool], *, what: str) -> None:
        try:
            wait_for(condition, timeout=STEP_TIMEOUT, what=what, also=self.check_alive)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.outputs()}") from None

    def kill_while_entering_a_batch(self, name: str) -> list[dict]:
        """SIGKILL the client while a cheque batch it sent has no answer yet.

        The client is paused (SIGSTOP) so that its logs hold still while they are
        read; when it is between batches it goes on (SIGCONT) and we look again.
        """
        process = self.processes[name]
        give_up = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < give_up:
            self.check_alive()
            process.send_signal(signal.SIGSTOP)
            unanswered = self.unanswered(name)
            if unanswered and unanswered[-1]["op"] == "batch":
                self.killed.add(name)
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
                return unanswered
            process.send_signal(signal.SIGCONT)
            time.sleep(0.01)
        raise AssertionError(f"client {name} was never caught entering a batch\n{self.outputs()}")

    def stop(self) -> None:
        """Let every live client finish its request and stop."""
        (self.workdir / STOP_FILE).touch()
        for name, process in self.processes.items():
            if name in self.killed:
                continue
            returncode = process.wait(timeout=STEP_TIMEOUT)
            assert returncode == 0, f"client {name} exited with {returncode}\n{self.outputs()}"

    def kill_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGCONT)
                    process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)


@pytest.fixture
def server():
    if connection.vendor != "postgresql":
        pytest.skip("crashes the harness's PostgreSQL: run `make test`")
    found = Server.from_environment()
    if found is None:
        pytest.skip("needs the harness's RUILKRING_TEST_PG_* variables: run `make test`")
    yield found
    # Whatever happened, the next tests find the server running.
    if not accepts_connections():
        if not found.running():
            found.start()
        wait_for(accepts_connections, timeout=SERVER_TIMEOUT, what="PostgreSQL accepts again")
    connections.close_all()


@pytest.fixture
def plan() -> dict:
    """A circle with ten members and generous limits, one member with tight ones."""
    community = CommunityFactory(default_floor=-100_000, default_ceiling=100_000)
    coordinator = CoordinatorFactory(community=community, user=UserFactory(display_name="Mieke"))
    accounts = [
        services.account_open(membership=MembershipFactory(community=community))
        for _ in range(MEMBERS)
    ]
    services.account_limits_set(
        actor=coordinator.user,
        account=accounts[0],
        floor=TIGHT_FLOOR,
        ceiling=TIGHT_CEILING,
        reason="Eerst weer in balans",
    )
    return {
        "community": community.pk,
        "slug": community.slug,
        "coordinator": coordinator.user.pk,
        "accounts": [account.pk for account in accounts],
    }


def test_acknowledged_transfers_survive_a_killed_client_and_a_database_crash_exactly_once(
    server, plan, tmp_path
):
    fleet = Fleet(tmp_path, plan)
    live = ("d1", "d2r", "d3")  # the clients running when the database crashes
    try:
        fleet.start("d1", "members")
        fleet.start("d2", "coordinator")
        fleet.start("d3", "members")
        phase = time.monotonic()
        fleet.wait(
            lambda: (
                time.monotonic() > phase + PHASE_SECONDS
                and fleet.acknowledged() >= WARM_UP_ACKNOWLEDGED
                and fleet.acknowledged("d2") >= COORDINATOR_BATCHES_BEFORE_KILL
            ),
            what="the clients get going",
        )

        # 1. The coordinator's client dies in the middle of a batch; another takes over.
        in_flight = fleet.kill_while_entering_a_batch("d2")
        at_kill, phase = fleet.acknowledged(), time.monotonic()
        fleet.start("d2r", "coordinator", resume="d2")

        def took_over() -> bool:
            started = fleet.log("d2r", "taking_over")
            answered = {r["key"] for r in fleet.log("d2r") if r["type"] in ("ack", "refused")}
            return bool(started) and set(started[0]["unanswered"] + started[0]["again"]) <= (
                answered
            )

        fleet.wait(
            lambda: (
                took_over()
                and time.monotonic() > phase + PHASE_SECONDS
                and fleet.acknowledged() >= at_kill + ACKNOWLEDGED_BETWEEN_KILL_AND_CRASH
            ),
            what="the replacement sends the killed client's requests again and the load goes on",
        )

        # 2. PostgreSQL crashes under the load, and comes back.
        crashed_at = time.time()
        server.crash()
        time.sleep(OUTAGE)
        server.start()
        wait_for(accepts_connections, timeout=SERVER_TIMEOUT, what="PostgreSQL accepts again")
        fleet.wait(
            lambda: (
                time.time() > crashed_at + PHASE_SECONDS
                and all(
                    fleet.acknowledged(name, after=crashed_at) >= ACKNOWLEDGED_EACH_AFTER_CRASH
                    for name in live
                )
            ),
            what="every client goes on after the crash",
        )
        fleet.stop()
    finally:
        fleet.kill_all()
        # The crash broke this process's own connection too.
        connections.close_all()

    names = ("d1", "d2", "d2r", "d3")
    log = [record | {"client": name} for name in names for record in fleet.log(name)]
    requests = {
        request["key"]: request for name in names for request in records(sent_path(tmp_path, name))
    }
    acks = [record for record in log if record["type"] == "ack"]
    refused = {record["key"] for record in log if record["type"] == "refused"}
    retries = [record for record in log if record["type"] == "retry"]

    # Every client was told only "done" or "refused", and nobody gave up.
    assert [r for r in log if r["type"] in ("error", "abandoned")] == []
    assert {r["synchronous_commit"] for r in log if r["type"] == "started"} == {"on"}

    # The clients really worked, through both crashes.
    acknowledged_ids: dict[str, set[int]] = defaultdict(set)
    for record in acks:
        acknowledged_ids[record["key"]].add(record["id"])
    assert len(acknowledged_ids) > MINIMUM_ACKNOWLEDGED, len(acknowledged_ids)
    assert {requests[key]["op"] for key in acknowledged_ids} == {"payment", "batch"}
    # Every live client lost its connection in the crash (the coordinator's in the
    # middle of its batches), sent the same request again, and was answered.
    lost_connections = [r for r in retries if r["connection"] and r["t"] >= crashed_at]
    assert {r["client"] for r in lost_connections} == set(live), retries
    assert {r["key"] for r in lost_connections} <= acknowledged_ids.keys() | refused
    assert in_flight[-1]["op"] == "batch"

    # Each key has one answer: a replay was answered with the original.
    assert {key: ids for key, ids in acknowledged_ids.items() if len(ids) != 1} == {}
    assert not refused & acknowledged_ids.keys()
    resent = [record for record in acks if record.get("resent_of") == "d2"]
    again = [record for record in resent if record["original"] is not None]
    assert len(again) >= 1
    assert [(r["key"], r["id"]) for r in again] == [(r["key"], r["original"]) for r in again]
    assert all(record["replayed"] for record in again)
    unanswered_keys = {request["key"] for request in in_flight}
    assert unanswered_keys <= {r["key"] for r in resent} | refused

    # The books hold every acknowledged request exactly once, and nothing else.
    transfers = list(
        Transfer.objects.filter(community_id=plan["community"]).values_list(
            "pk", "idempotency_key", "batch_id"
        )
    )
    by_request: dict[str, list[tuple[int, str, int | None]]] = defaultdict(list)
    for row in transfers:
        by_request[row[1].partition(":")[0]].append(row)
    lost = sorted(acknowledged_ids.keys() - by_request.keys())
    assert lost == [], f"{len(lost)} acknowledged requests are not in the books: {lost}"
    unknown = sorted(by_request.keys() - acknowledged_ids.keys())
    assert unknown == [], f"{len(unknown)} requests in the books were never acknowledged: {unknown}"
    for key, (made,) in acknowledged_ids.items():
        request, rows = requests[key], by_request[key]
        if request["op"] == "payment":
            assert [(pk, batch) for pk, _key, batch in rows] == [(made, None)], key
        else:
            # No batch in part: every cheque of the stack, in the acknowledged batch.
            assert sorted(k for _pk, k, _batch in rows) == sorted(
                f"{key}:{number}" for number in range(1, len(request["lines"]) + 1)
            ), key
            assert {batch for _pk, _key, batch in rows} == {made}, key
    batches = set(
        TransferBatch.objects.filter(community_id=plan["community"]).values_list("pk", flat=True)
    )
    assert batches == {
        made for key, (made,) in acknowledged_ids.items() if requests[key]["op"] == "batch"
    }

    # Every transfer has its two entries summing to zero, and every batch its total.
    lopsided = (
        Transfer.objects.filter(community_id=plan["community"])
        .annotate(entries_count=Count("entries"), total=Sum("entries__amount"))
        .exclude(entries_count=2, total=0)
    )
    assert list(lopsided.values_list("idempotency_key", "entries_count", "total")) == []
    for batch in TransferBatch.objects.filter(pk__in=batches).annotate(
        given=Sum("transfers__entries__amount", filter=Q(transfers__entries__amount__gt=0))
    ):
        assert batch.given == batch.declared_total, batch.pk

    # Every balance and version is what its entries say, the circle sums to zero,
    # and the ledger's own check agrees.
    accounts = Account.objects.filter(community_id=plan["community"]).annotate(
        entry_sum=Sum("entries__amount"), entry_count=Count("entries")
    )
    assert [
        (a.pk, a.balance, a.entry_sum, a.version, a.entry_count)
        for a in accounts
        if (a.balance, a.version) != (a.entry_sum or 0, a.entry_count)
    ] == []
    assert sum(a.balance for a in accounts) == 0
    assert Entry.objects.filter(account__community_id=plan["community"]).count() == sum(
        a.entry_count for a in accounts
    )
    report = StringIO()
    call_command("ledger_verify", community=plan["slug"], stdout=report)
    assert "The books are consistent." in report.getvalue()

    # The server is up for the tests that follow: a fresh connection works.
    assert accepts_connections()
