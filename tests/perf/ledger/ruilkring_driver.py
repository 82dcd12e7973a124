"""The project's side of the ledger benchmark (system P), one command at a time.

    python -m tests.perf.ledger.ruilkring_driver setup --database-url URL
    python -m tests.perf.ledger.ruilkring_driver preload --database-url URL --entries 1000000
    python -m tests.perf.ledger.ruilkring_driver run --database-url URL --processes 4

Each command prints one JSON object on stdout; progress goes to stderr. The
bench script (``tests/perf/ledger_bench.py``) runs them against its own durable
PostgreSQL cluster.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
import uuid
from datetime import timedelta

MEMBERS = 1000
FLOOR = -1200  # -20 hours, in minutes
CEILING = 4800  # +80 hours
AMOUNT_RANGE = (15, 240)  # a quarter of an hour to four hours
COMMUNITY_SLUG = "bench"


def _django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "ruilkring.settings.test"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _log(message: str) -> None:
    from tests.perf.ledger.runner import log

    log(f"P: {message}")


def setup(args) -> dict:
    from django.core.management import call_command
    from django.db import transaction

    from accounts.models import Community, Membership, Status, UnitKind, User
    from ledger.services import account_open

    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    with transaction.atomic():
        community = Community.objects.create(
            name="Benchkring",
            slug=COMMUNITY_SLUG,
            unit_singular_nl="uur",
            unit_plural_nl="uur",
            unit_singular_en="hour",
            unit_plural_en="hours",
            unit_kind=UnitKind.TIME,
            default_floor=FLOOR,
            default_ceiling=CEILING,
            requires_approval=False,
        )
        users = User.objects.bulk_create(
            User(email=f"lid{n:04d}@bench.example.org", display_name=f"Lid {n:04d}")
            for n in range(args.members)
        )
        memberships = Membership.objects.bulk_create(
            Membership(user=user, community=community, status=Status.ACTIVE) for user in users
        )
        for membership in memberships:
            account_open(membership=membership)
    _log(f"migrated and opened {args.members} accounts in {time.monotonic() - started:.1f} s")
    return {"community_id": community.pk, "members": args.members}


def preload(args) -> dict:
    """Write ``entries`` entries of history (two per transfer) straight into the tables.

    The rows are what ``transfer_create`` would have written: each entry
    continues its account's version chain with the right ``balance_after``, and
    no balance ever leaves its limits. The first half is a random walk with
    refusals, the second half replays it backwards with payer and payee
    swapped, so every account ends at balance 0 (with about 1,000 versions):
    the same balances P starts from without history, so the two runs differ in
    the history alone. Loading bypasses the triggers
    (``session_replication_role = replica``, allowed for the superuser); the
    result is then checked with ``ledger_verify``.
    """
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Community
    from ledger.models import Account, AccountKind, TransferKind
    from ledger.selectors import ledger_verify

    community = Community.objects.get(slug=COMMUNITY_SLUG)
    accounts = list(
        Account.objects.filter(community=community, kind=AccountKind.MEMBER)
        .order_by("pk")
        .values_list("pk", "membership__user_id")
    )
    floor, ceiling = community.default_floor, community.default_ceiling
    rng = random.Random(20260101)
    half = args.entries // 4
    started = time.monotonic()
    balance = {pk: 0 for pk, _user in accounts}
    walk: list[tuple[int, int, int, int]] = []  # payer, payee, amount, payer's user
    while len(walk) < half:
        (payer, user), (payee, _user) = rng.sample(accounts, 2)
        amount = rng.randint(*AMOUNT_RANGE)
        if balance[payer] - amount < floor or balance[payee] + amount > ceiling:
            continue
        balance[payer] -= amount
        balance[payee] += amount
        walk.append((payer, payee, amount, user))
    users = dict(accounts)
    back = [(payee, payer, amount, users[payee]) for payer, payee, amount, _u in reversed(walk)]
    history = walk + back

    version = {pk: 0 for pk, _user in accounts}
    balance = {pk: 0 for pk, _user in accounts}
    now = timezone.now()
    first = now - timedelta(days=365)
    step = (now - timedelta(hours=1) - first) / len(history)
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM ledger_transfer")
        transfer_base = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM ledger_entry")
        entry_base = cursor.fetchone()[0]
    connection.ensure_connection()
    raw = connection.connection  # psycopg, in autocommit mode outside atomic blocks
    with raw.transaction():
        cursor = raw.cursor()
        cursor.execute("SET LOCAL session_replication_role = replica")
        with cursor.copy(
            "COPY ledger_transfer (id, community_id, kind, memo, reason, created_by_id, "
            "created_at, idempotency_key, request_fingerprint) FROM STDIN"
        ) as copy:
            for n, (payer, payee, amount, user) in enumerate(history, start=1):
                key = uuid.UUID(int=rng.getrandbits(128), version=4).hex
                fingerprint = hashlib.sha256(
                    f"{payer}:{payee}:{amount}:{user}".encode()
                ).hexdigest()
                copy.write_row(
                    (
                        transfer_base + n,
                        community.pk,
                        TransferKind.PAYMENT.value,
                        "",
                        "",
                        user,
                        first + step * n,
                        key,
                        fingerprint,
                    )
                )
        _log(f"history: {len(history)} transfers copied in {time.monotonic() - started:.1f} s")
        with cursor.copy(
            "COPY ledger_entry (id, transfer_id, account_id, amount, balance_after, version) "
            "FROM STDIN"
        ) as copy:
            entry = entry_base
            for n, (payer, payee, amount, _user) in enumerate(history, start=1):
                for account, moved in ((payer, -amount), (payee, amount)):
                    balance[account] += moved
                    version[account] += 1
                    entry += 1
                    copy.write_row(
                        (
                            entry,
                            transfer_base + n,
                            account,
                            moved,
                            balance[account],
                            version[account],
                        )
                    )
        _log(f"history: {entry - entry_base} entries copied in {time.monotonic() - started:.1f} s")
        ids = sorted(version)
        cursor.execute(
            "UPDATE ledger_account a SET balance = v.balance, version = v.version "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(id, balance, version) "
            "WHERE a.id = v.id",
            (ids, [balance[pk] for pk in ids], [version[pk] for pk in ids]),
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('ledger_transfer', 'id'), %s)",
            (transfer_base + len(history),),
        )
        cursor.execute("SELECT setval(pg_get_serial_sequence('ledger_entry', 'id'), %s)", (entry,))
    loaded = time.monotonic() - started
    with raw.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    verify_started = time.monotonic()
    report = ledger_verify(community=community)
    verify_seconds = time.monotonic() - verify_started
    _log(
        f"history loaded in {loaded:.1f} s, vacuumed; ledger_verify: "
        f"{'clean' if report.clean else report.differences[:5]} in {verify_seconds:.1f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database())), "
            "pg_database_size(current_database())"
        )
        size_pretty, size_bytes = cursor.fetchone()
    return {
        "transfers": report.transfers,
        "entries": report.entries,
        "load_seconds": round(loaded, 1),
        "verify_seconds": round(verify_seconds, 1),
        "verify_clean": report.clean,
        "differences": report.differences[:10],
        "database_size": size_pretty,
        "database_bytes": size_bytes,
    }


def run(args) -> dict:
    from django.db import connection, connections

    from accounts.models import Community
    from ledger.keys import idempotency_key_new
    from ledger.models import Account, AccountKind, Transfer, TransferKind
    from ledger.selectors import ledger_verify
    from ledger.services import transfer_create
    from ruilkring.errors import PaymentRefused
    from tests.perf.ledger.runner import measure

    # "time": the keys the project's own pages hand out (ledger.keys);
    # "random": what an API client that sends random UUIDs would send.
    new_key = idempotency_key_new if args.keys == "time" else lambda: uuid.uuid4().hex

    community_id = Community.objects.get(slug=COMMUNITY_SLUG).pk
    transfers_before = Transfer.objects.count()
    connections.close_all()  # each process opens its own connection after the fork

    def make_step(index: int):
        rng = random.Random(os.urandom(16))
        community = Community.objects.get(pk=community_id)
        accounts = list(
            Account.objects.filter(community=community, kind=AccountKind.MEMBER)
            .select_related("membership__user")
            .order_by("pk")
        )
        assert len(accounts) >= 2
        low, high = AMOUNT_RANGE

        def step() -> str:
            payer, payee = rng.sample(accounts, 2)
            try:
                transfer_create(
                    actor=payer.membership.user,
                    community=community,
                    kind=TransferKind.PAYMENT,
                    payer=payer,
                    payee=payee,
                    amount=rng.randint(low, high),
                    idempotency_key=new_key(),
                )
            except PaymentRefused:
                return "refused"
            return "ok"

        connection.ensure_connection()
        return step

    result = measure(make_step, args.processes, args.seconds)
    community = Community.objects.get(pk=community_id)
    transfers_after = Transfer.objects.count()
    verify_started = time.monotonic()
    report = ledger_verify(community=community)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM ledger_account a "
            "JOIN accounts_community c ON c.id = a.community_id "
            "WHERE a.balance < coalesce(a.floor, c.default_floor) "
            "   OR a.balance > coalesce(a.ceiling, c.default_ceiling)"
        )
        breached = cursor.fetchone()[0]
    result.update(
        {
            "transfers_written": transfers_after - transfers_before,
            "ledger_verify_clean": report.clean,
            "ledger_verify_seconds": round(time.monotonic() - verify_started, 2),
            "ledger_entries": report.entries,
            "differences": report.differences[:10],
            "limit_breaches": breached,
        }
    )
    result["invariants_ok"] = (
        report.clean
        and breached == 0
        and result["errors"] == 0
        and result["transfers_written"] >= result["committed"]
    )
    return result


def versions(args) -> dict:
    import django
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    return {
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "postgresql": server,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["setup", "preload", "run", "versions"])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--keys", choices=["time", "random"], default="time")
    args = parser.parse_args(argv)
    _django(args.database_url)
    result = {"setup": setup, "preload": preload, "run": run, "versions": versions}[args.command](
        args
    )
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
