"""A client of the ledger that keeps going through crashes.

    python -m tests.reliability.crash_driver --plan PLAN --workdir DIR --name NAME \\
        --profile members|coordinator --deadline EPOCH_SECONDS [--resume OTHER]

It sends payments between members (``transfer_create``) and stacks of paper
cheques that the coordinator types in (``transfer_batch_create``), each with
its own idempotency key. When the database connection is lost, or a
serialization failure or deadlock outlives the ledger's own retries, it closes
its connections and sends the same request with the same key again, until the
ledger acknowledges it or a business rule refuses it: what a careful client (a
phone on a bad network, a coordinator's import script) does.

It keeps two append-only logs in DIR, one JSON object a line, each line
flushed and fsynced before the client goes on:

- ``NAME.sent``: every request, written before it is sent;
- ``NAME.log``: what happened to them. ``ack`` once the service has returned,
  so the transfer or batch is committed (with its id); ``refused`` when a
  business rule said no (with the rule's code); ``retry`` for every lost
  connection or serialization failure before the request is sent again;
  ``error`` for anything else (a bug); ``abandoned`` when the deadline passed
  while retrying. ``started``, ``taking_over`` and ``stopped`` frame the run.

With ``--resume OTHER`` it first takes over from a client that was killed: it
sends again, with the same keys, every request OTHER sent without an answer in
OTHER's log, and OTHER's last few acknowledged ones (a client cannot be sure
its last answers reached its own disk), then goes on with requests of its own.

It stops between two requests when ``DIR/stop`` exists, at the deadline, or
when the process that started it has gone (so a killed test run leaves no
clients behind).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import time
import traceback
from datetime import date, timedelta
from pathlib import Path
from typing import IO

import psycopg
from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections

from ruilkring.errors import PaymentRefused

# A lost connection, a server that is down or starting, a serialization failure
# or deadlock the ledger's own retries gave up on: send the same request again.
RETRYABLE = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
RESEND_ACKNOWLEDGED = 3
STOP_FILE = "stop"
SERIALIZATION_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
# Of the "members" profile's requests, this share is a cheque batch; the rest are payments.
MEMBERS_BATCH_SHARE = 0.15


def records(path: Path) -> list[dict]:
    """The complete lines of a log. A line cut short by a kill is left out."""
    if not path.exists():
        return []
    *complete, _unfinished = path.read_text().split("\n")
    return [json.loads(line) for line in complete if line]


def sent_path(workdir: Path, name: str) -> Path:
    return workdir / f"{name}.sent"


def log_path(workdir: Path, name: str) -> Path:
    return workdir / f"{name}.log"


def key_of(name: str, number: int) -> str:
    return f"crash-{name}-{number:05d}"


class DurableLog:
    """An append-only JSON-lines file; each line is on disk before ``write`` returns."""

    def __init__(self, path: Path):
        self.file: IO[str] = path.open("a", encoding="utf-8")

    def write(self, **record: object) -> None:
        self.file.write(json.dumps(record, sort_keys=True) + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())


def request_new(*, rng: random.Random, plan: dict, key: str, profile: str, today: date) -> dict:
    """A payment or a cheque batch between the plan's members, small amounts."""
    accounts = plan["accounts"]
    if profile == "coordinator" or rng.random() < MEMBERS_BATCH_SHARE:
        lines = []
        for number in range(rng.randint(2, 5)):
            payer, payee = rng.sample(accounts, 2)
            dated = rng.random() < 0.5
            lines.append(
                {
                    "payer": payer,
                    "payee": payee,
                    "amount": rng.randint(1, 15),
                    "memo": f"Cheque {number + 1}",
                    "occurred_on": (
                        (today - timedelta(days=rng.randint(1, 60))).isoformat() if dated else None
                    ),
                }
            )
        return {
            "key": key,
            "op": "batch",
            "lines": lines,
            "declared_total": sum(line["amount"] for line in lines),
        }
    payer, payee = rng.sample(accounts, 2)
    return {
        "key": key,
        "op": "payment",
        "payer": payer,
        "payee": payee,
        "amount": rng.randint(1, 20),
        "memo": rng.choice(["Boodschappen", "Tuin", "Fietsreparatie", "Oppas"]),
    }


def _sqlstate(error: BaseException) -> str | None:
    while error is not None:
        state = getattr(error, "sqlstate", None)
        if state:
            return state
        error = error.__cause__ or error.__context__
    return None


class Client:
    """One client process. The ledger's modules are imported once Django is set up."""

    def __init__(self, *, plan: dict, workdir: Path, name: str, profile: str, deadline: float):
        self.plan, self.workdir, self.name, self.profile = plan, workdir, name, profile
        self.deadline = deadline
        self.parent = os.getppid()
        self.sent = DurableLog(sent_path(workdir, name))
        self.log = DurableLog(log_path(workdir, name))
        self.community = self.coordinator = None
        self.accounts: dict[int, object] = {}

    def _should_stop(self) -> bool:
        return (
            (self.workdir / STOP_FILE).exists()
            or time.time() > self.deadline
            or os.getppid() != self.parent
        )

    def _connections_close(self) -> None:
        with contextlib.suppress(DatabaseError):
            connections.close_all()

    def _load(self) -> None:
        from accounts.models import Community, User
        from ledger.models import Account

        community = Community.objects.get(pk=self.plan["community"])
        coordinator = User.objects.get(pk=self.plan["coordinator"])
        accounts = Account.objects.select_related("membership__user").in_bulk(self.plan["accounts"])
        # All three or none: a connection lost halfway leaves nothing half loaded.
        self.community, self.coordinator, self.accounts = community, coordinator, accounts

    def _send(self, request: dict, started: float) -> tuple[int, bool]:
        """Send one request; the id it made (or had made before) and whether it was a replay."""
        from ledger import services
        from ledger.models import TransferKind

        if self.community is None:
            self._load()
        if request["op"] == "payment":
            payer = self.accounts[request["payer"]]
            transfer = services.transfer_create(
                actor=payer.membership.user,
                community=self.community,
                kind=TransferKind.PAYMENT,
                payer=payer,
                payee=self.accounts[request["payee"]],
                amount=request["amount"],
                memo=request["memo"],
                idempotency_key=request["key"],
            )
            return transfer.pk, transfer.created_at.timestamp() < started
        batch = services.transfer_batch_create(
            actor=self.coordinator,
            community=self.community,
            lines=[
                services.ChequeLine(
                    payer=self.accounts[line["payer"]],
                    payee=self.accounts[line["payee"]],
                    amount=line["amount"],
                    memo=line["memo"],
                    occurred_on=(
                        date.fromisoformat(line["occurred_on"]) if line["occurred_on"] else None
                    ),
                )
                for line in request["lines"]
            ],
            declared_total=request["declared_total"],
            idempotency_key=request["key"],
        )
        return batch.pk, batch.created_at.timestamp() < started

    def answer(self, request: dict, **note: object) -> None:
        """Send ``request`` until the ledger acknowledges or refuses it, and log the outcome."""
        key = request["key"]
        attempt = 0
        while True:
            attempt += 1
            started = time.time()
            try:
                made, replayed = self._send(request, started)
            except PaymentRefused as refusal:
                self.log.write(type="refused", key=key, code=refusal.code, t=time.time(), **note)
                return
            except RETRYABLE as error:
                state = _sqlstate(error)
                self.log.write(
                    type="retry",
                    key=key,
                    attempt=attempt,
                    error=f"{type(error).__name__}: {error}"[:300],
                    sqlstate=state,
                    connection=state not in SERIALIZATION_SQLSTATES,
                    t=time.time(),
                )
                self._connections_close()
                if time.time() > self.deadline or os.getppid() != self.parent:
                    self.log.write(type="abandoned", key=key, t=time.time())
                    return
                time.sleep(min(0.05 * attempt, 0.5))
                continue
            except Exception:
                self.log.write(type="error", key=key, error=traceback.format_exc()[-3000:])
                self._connections_close()
                return
            self.log.write(
                type="ack",
                key=key,
                op=request["op"],
                id=made,
                replayed=replayed,
                t=time.time(),
                **note,
            )
            return

    def take_over(self, other: str) -> None:
        """Resend, with the same keys, what ``other`` sent without an answer, and its last
        few acknowledged requests."""
        answers = {
            record["key"]: record
            for record in records(log_path(self.workdir, other))
            if record["type"] in ("ack", "refused")
        }
        sent = records(sent_path(self.workdir, other))
        unanswered = [request for request in sent if request["key"] not in answers]
        acknowledged = [r for r in sent if answers.get(r["key"], {}).get("type") == "ack"]
        again = acknowledged[-RESEND_ACKNOWLEDGED:]
        self.log.write(
            type="taking_over",
            of=other,
            unanswered=[request["key"] for request in unanswered],
            again=[request["key"] for request in again],
            t=time.time(),
        )
        for request in unanswered + again:
            self.sent.write(**request, resent_of=other)
            original = answers.get(request["key"], {}).get("id")
            self.answer(request, resent_of=other, original=original)

    def start(self) -> None:
        """Log that the client runs, and how durable its commits are."""
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            synchronous_commit = cursor.fetchone()[0]
        self.log.write(
            type="started", pid=os.getpid(), synchronous_commit=synchronous_commit, t=time.time()
        )

    def run(self) -> None:
        from django.utils import timezone

        rng = random.Random(self.name)
        today = timezone.localdate()
        for number in itertools.count(1):
            if self._should_stop():
                break
            request = request_new(
                rng=rng,
                plan=self.plan,
                key=key_of(self.name, number),
                profile=self.profile,
                today=today,
            )
            self.sent.write(**request)
            self.answer(request)
        self.log.write(type="stopped", t=time.time())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--profile", choices=["members", "coordinator"], required=True)
    parser.add_argument("--deadline", type=float, required=True)
    parser.add_argument("--resume", metavar="OTHER")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruilkring.settings.test")
    import django

    django.setup()
    client = Client(
        plan=json.loads(args.plan.read_text()),
        workdir=args.workdir,
        name=args.name,
        profile=args.profile,
        deadline=args.deadline,
    )
    client.start()
    if args.resume:
        client.take_over(args.resume)
    client.run()


if __name__ == "__main__":
    main()
