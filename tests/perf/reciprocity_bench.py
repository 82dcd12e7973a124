"""How long the nightly reciprocity analysis takes on a large installation.

    make bench-reciprocity         (or: .venv/bin/python -m tests.perf.reciprocity_bench)

On a private PostgreSQL cluster (as ``make bench-listings``: fsync and
synchronous_commit on, shared_buffers 1GB), it loads three years of books:
200 communities of about 500 members and 25,000 transfers each (100,000
members and 5,000,000 transfers in all, sizes varying by up to a fifth), and
one large community of 5,000 members and 100,000 transfers. Activity is
heavy-tailed (a few members trade a lot), most members both give and receive,
amounts are 15 to 180 minutes, about 2% of the transfers go through the
community account or pot and 0.2% are reversals of a mistake. Every transfer
is dated with ``occurred_on`` (a reversal has none and counts on the day it
was recorded).

The rows go in with COPY, straight into accounts_user, accounts_membership,
ledger_account, ledger_transfer and ledger_entry. Entries carry each account's
next version and the balance that results, computed in numpy in the order the
transfers were recorded, and the accounts their final balance and version, so
the books are what the ledger's rules would have accepted (the communities'
default limits are set wide enough for every balance reached). The rules'
triggers are still switched off for the load (``session_replication_role =
replica``, as the superuser), because applying ten million entries one by one
would take longer than everything else. Loading is not timed with the rest.

Then, in one run:

- **nightly**: the current month of every community (the 200 and the large
  one), the way the nightly job does it once the past months are final:
  per community ``community_analyse`` for the first day of this month and then
  ``flags_evaluate`` (what ``community_backfill`` does for one month), one
  community per task over a pool of 2 processes, as 2 Celery workers would.
  First, untimed, the previous month and this month are analysed once, so
  the timed run finds what a night finds: a month before for the flags to
  compare with, and this month's rows from the night before to replace.
  Reported: wall seconds, and the peak RSS of the process tree (each worker's
  own peak plus the parent's; the PostgreSQL server is not counted). Before
  each timed part it waits up to a minute for other work on the machine to
  stop (``RUILKRING_BENCH_QUIET_WAIT``). Targets: 60 s, 2 GB.
- **one community**: ``community_analyse`` of the large community, median of 3.
  Target: 1 s.
- **vs networkx**: the core measures (W, D, C, A, the giant strongly connected
  component's share, given and received per member) written plainly with
  networkx, against ``reciprocity_analyse``, both starting from the same rows
  (one per payment, reversed ones left out) of enough communities for 20,000
  members. Every account counts as a node in both. Target: networkx at least
  20 times slower.

Prints a table and writes ``var/bench/reciprocity.json``. Environment:
``RUILKRING_BENCH_COMMUNITIES`` (200), ``RUILKRING_BENCH_MEMBERS`` (100000),
``RUILKRING_BENCH_TRANSFERS`` (5000000), ``RUILKRING_BENCH_SLICE_MEMBERS``
(20000), ``RUILKRING_BENCH_WORKERS`` (2). It measures; it asserts nothing
about time.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "var" / "bench" / "reciprocity.json"
COMMUNITIES = int(os.environ.get("RUILKRING_BENCH_COMMUNITIES", "200"))
MEMBERS = int(os.environ.get("RUILKRING_BENCH_MEMBERS", "100000"))
TRANSFERS = int(os.environ.get("RUILKRING_BENCH_TRANSFERS", "5000000"))
LARGE_MEMBERS = 5_000
LARGE_TRANSFERS = 100_000
SLICE_MEMBERS = int(os.environ.get("RUILKRING_BENCH_SLICE_MEMBERS", "20000"))
WORKERS = int(os.environ.get("RUILKRING_BENCH_WORKERS", "2"))
# Before each timed part, wait (at most this long) until the machine is at most
# QUIET_PERCENT busy: other work on the same cores would be measured too.
QUIET_WAIT = float(os.environ.get("RUILKRING_BENCH_QUIET_WAIT", "60"))
QUIET_PERCENT = 20.0
HISTORY_DAYS = 3 * 365
SEED = 20261130
TARGETS = {"full_wall_s": 60.0, "full_peak_rss_mb": 2048.0, "one_community_s": 1.0}
VS_NETWORKX_TARGET = 20.0
# Minutes, on the quarter hour, an hour the most usual.
AMOUNTS = np.arange(15, 181, 15)
AMOUNT_WEIGHTS = np.array([3, 8, 6, 12, 4, 7, 2, 5, 1, 3, 1, 2], dtype=np.float64)
MEMOS = ["Hulp in de tuin", "Boodschappen", "Computerhulp", "Klusje", "Koken", "Vervoer"]
UNLIMITED = 10**15
# Server settings the load changes (recorded in the results).
LOAD_SETTINGS = {"max_wal_size": "16GB", "checkpoint_timeout": "30min"}


# -- Generating the books ---------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """One community's share of the ids, so that every process can load its own."""

    community_id: int
    area_ids: tuple[int, ...]
    members: int
    transfers: int
    first_user: int  # users and memberships have the same ids
    first_account: int  # members' accounts, then the community account, then the pot
    first_transfer: int
    first_entry: int
    seed: int


def _sizes(rng: np.random.Generator, count: int, total: int, spread: float) -> np.ndarray:
    """``count`` sizes that add up to ``total``, each within about ``spread`` of the mean."""
    raw = rng.uniform(1 - spread, 1 + spread, count)
    sizes = np.floor(raw / raw.sum() * total).astype(np.int64)
    sizes[: total - int(sizes.sum())] += 1
    return sizes


def _plans(communities: list, rng: np.random.Generator) -> list[Plan]:
    """Sizes and id ranges: the regular communities, then the large one."""
    members = _sizes(rng, COMMUNITIES, MEMBERS, 0.2)
    # Transfers follow the size, with some communities busier than others.
    weight = members * rng.uniform(0.85, 1.15, COMMUNITIES)
    transfers = np.floor(weight / weight.sum() * TRANSFERS).astype(np.int64)
    transfers[: TRANSFERS - int(transfers.sum())] += 1
    members = np.append(members, LARGE_MEMBERS)
    transfers = np.append(transfers, LARGE_TRANSFERS)
    plans, user, account, transfer, entry = [], 1, 1, 1, 1
    for index, (community, areas) in enumerate(communities):
        plans.append(
            Plan(
                community_id=community,
                area_ids=tuple(areas),
                members=int(members[index]),
                transfers=int(transfers[index]),
                first_user=user,
                first_account=account,
                first_transfer=transfer,
                first_entry=entry,
                seed=SEED + index,
            )
        )
        user += int(members[index])
        account += int(members[index]) + 2
        transfer += int(transfers[index])
        entry += 2 * int(transfers[index])
    return plans


def _hex_strings(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` random 64-character hex strings (as a request fingerprint looks)."""
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    raw = digits[rng.integers(0, 16, (count, 64), dtype=np.uint8)]
    return raw.view("S64").reshape(-1).astype(str)


def _book(plan: Plan, today: date, now_local: np.datetime64) -> dict:
    """One community's rows, as columns; every amount in minutes."""
    rng = np.random.default_rng(plan.seed)
    n, total = plan.members, plan.transfers
    community_node, pot_node = n, n + 1
    start = np.datetime64(today, "D") - HISTORY_DAYS

    # Most members were there before the three years began; the rest joined since.
    joined_before = rng.random(n) < 0.65
    join_day = np.sort(
        np.where(joined_before, -rng.integers(1, 1500, n), rng.integers(0, HISTORY_DAYS - 30, n))
    )
    join_day[: min(n, 10)] = np.minimum(join_day[: min(n, 10)], -1)
    # Heavy-tailed activity; how much of it is giving varies, so most do both.
    activity = np.minimum(rng.pareto(1.6, n) + 1.0, 60.0)
    giving = rng.beta(4.0, 4.0, n)
    give_weight = np.cumsum(activity * giving)
    receive_weight = np.cumsum(activity * (1 - giving))

    reversals = round(total * 0.002)
    base = total - reversals
    # Days 0..HISTORY_DAYS, with the circle slowly growing busier.
    day = np.minimum((HISTORY_DAYS + 1) * rng.random(base) ** 0.85, HISTORY_DAYS).astype(np.int64)
    eligible = np.searchsorted(join_day, day, side="right")
    payee = np.searchsorted(give_weight, rng.random(base) * give_weight[eligible - 1], "right")
    payer = np.searchsorted(
        receive_weight, rng.random(base) * receive_weight[eligible - 1], "right"
    )
    payee, payer = np.minimum(payee, eligible - 1), np.minimum(payer, eligible - 1)
    same = payer == payee
    payee[same] = (payee[same] + 1 + rng.integers(0, eligible[same] - 1)) % eligible[same]
    amount = rng.choice(AMOUNTS, base, p=AMOUNT_WEIGHTS / AMOUNT_WEIGHTS.sum())

    kind = np.where(rng.random(base) < 0.1, "requested_payment", "payment").astype(object)
    roll = rng.random(base)
    to_pot, from_pot = roll < 0.01, (roll >= 0.01) & (roll < 0.016)
    to_community, from_community = (roll >= 0.016) & (roll < 0.018), (roll >= 0.018) & (roll < 0.02)
    payee[to_pot], kind[to_pot] = pot_node, "pot_donation"
    payer[from_pot], kind[from_pot] = pot_node, "pot_grant"
    payee[to_community], kind[to_community] = community_node, "community_entry"
    payer[from_community], kind[from_community] = community_node, "community_entry"

    seconds = rng.integers(8 * 3600, 22 * 3600, base)
    created = (start + day).astype("datetime64[s]") + seconds
    latest = now_local - np.timedelta64(60, "s")
    created = np.minimum(created, latest)
    occurred = (start + day).astype("datetime64[D]")

    # A coordinator reverses a few payments made by mistake, within three days.
    member_payment = (payer < n) & (payee < n) & (created < latest - np.timedelta64(7200, "s"))
    original = rng.choice(np.flatnonzero(member_payment), reversals, replace=False)
    later = created[original] + rng.integers(300, 3 * 86400, reversals).astype("timedelta64[s]")
    all_created = np.concatenate([created, np.minimum(later, latest)])
    all_payer = np.concatenate([payer, payee[original]])
    all_payee = np.concatenate([payee, payer[original]])
    all_amount = np.concatenate([amount, amount[original]])
    all_kind = np.concatenate([kind, np.full(reversals, "reversal", dtype=object)])
    all_occurred = np.concatenate([occurred, np.full(reversals, np.datetime64("NaT", "D"))])
    reverses = np.concatenate([np.full(base, -1), original])

    # Transfer ids in the order they were recorded; entries: the payer's, then the payee's.
    order = np.argsort(all_created, kind="stable")
    rank = np.empty(total, dtype=np.int64)
    rank[order] = np.arange(total)
    transfer_id = plan.first_transfer + np.arange(total)
    reverses_id = np.where(reverses[order] >= 0, plan.first_transfer + rank[reverses[order]], -1)
    payer, payee, amount = all_payer[order], all_payee[order], all_amount[order]
    node = np.column_stack([payer, payee]).reshape(-1)
    moved = np.column_stack([-amount, amount]).reshape(-1)
    # Each account's versions and balances, in entry order.
    by_account = np.argsort(node, kind="stable")
    sorted_node, sorted_moved = node[by_account], moved[by_account]
    running = np.cumsum(sorted_moved)
    first = np.r_[True, sorted_node[1:] != sorted_node[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(node.size), 0))
    before = np.where(group_start > 0, running[group_start - 1], 0)
    balance_after = np.empty_like(moved)
    version = np.empty_like(moved)
    balance_after[by_account] = running - before
    version[by_account] = np.arange(node.size) - group_start + 1
    last = np.r_[sorted_node[1:] != sorted_node[:-1], True]
    final_balance = np.zeros(n + 2, dtype=np.int64)
    final_version = np.zeros(n + 2, dtype=np.int64)
    final_balance[sorted_node[last]] = (running - before)[last]
    final_version[sorted_node[last]] = (np.arange(node.size) - group_start + 1)[last]

    is_member_entry = node < n
    lowest = int(balance_after[is_member_entry].min(initial=0))
    highest = int(balance_after[is_member_entry].max(initial=0))

    user_id = plan.first_user + np.arange(n)
    joined_at = (start + join_day).astype("datetime64[s]") + rng.integers(9 * 3600, 21 * 3600, n)
    coordinator = int(user_id[0])
    creator = np.where(payer < n, plan.first_user + np.minimum(payer, n - 1), coordinator)
    areas = np.array([*plan.area_ids, -1], dtype=np.int64)
    is_member = np.arange(n + 2) < n
    return {
        "users": {
            "id": user_id,
            "password": "!",
            "last_login": None,
            "is_superuser": "f",
            "email": np.char.add(np.char.add("lid", user_id.astype(str)), "@bench.example.org"),
            "display_name": np.char.add("Lid ", user_id.astype(str)),
            "language": np.where(rng.random(n) < 0.85, "nl", "en"),
            "is_municipality_observer": "f",
            "is_staff": "f",
            "is_active": "t",
            "date_joined": joined_at,
        },
        "memberships": {
            "id": user_id,
            "role": np.where(np.arange(n) < max(1, n // 250), "coordinator", "member"),
            "status": "active",
            "application_note": "",
            "applied_at": joined_at - np.timedelta64(2 * 86400, "s"),
            "joined_at": joined_at,
            "left_at": None,
            "status_changed_at": joined_at,
            "area_id": _nullable(areas[rng.integers(0, areas.size, n)]),
            "community_id": plan.community_id,
            "user_id": user_id,
        },
        "accounts": {
            "id": plan.first_account + np.arange(n + 2),
            "kind": np.array(["member"] * n + ["community", "pot"]),
            "balance": final_balance,
            "version": final_version,
            # Members have the community's limits; its own accounts none to speak of.
            "floor": _nullable(np.r_[np.zeros(n, np.int64), -UNLIMITED, -UNLIMITED], is_member),
            "ceiling": _nullable(np.r_[np.zeros(n, np.int64), UNLIMITED, UNLIMITED], is_member),
            "created_at": np.r_[joined_at, joined_at.min(), joined_at.min()],
            "community_id": plan.community_id,
            "membership_id": _nullable(np.r_[user_id, -1, -1]),
        },
        "transfers": {
            "id": transfer_id,
            "kind": all_kind[order],
            "memo": np.array(MEMOS)[rng.integers(0, len(MEMOS), total)],
            "reason": np.where(reverses_id >= 0, "Per ongeluk dubbel ingevoerd", ""),
            "created_at": all_created[order],
            "idempotency_key": np.char.add("bench-", transfer_id.astype(str)),
            "request_fingerprint": _hex_strings(rng, total),
            "community_id": plan.community_id,
            "created_by_id": _nullable(np.where(reverses_id >= 0, coordinator, creator[order])),
            "reverses_id": _nullable(reverses_id),
            "batch_id": None,
            "occurred_on": all_occurred[order],
        },
        "entries": {
            "id": plan.first_entry + np.arange(node.size),
            "amount": moved,
            "balance_after": balance_after,
            "version": version,
            "account_id": plan.first_account + node,
            "transfer_id": np.repeat(transfer_id, 2),
        },
        "limits": (lowest, highest),
    }


def _nullable(values: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    """Integers with NULL where ``null`` (by default: where negative), as a
    column pandas writes with \\N."""
    import pandas as pd

    null = values < 0 if null is None else null
    return pd.array(np.where(null, None, values), dtype="Int64")


def _copy(cursor, table: str, columns: dict) -> None:
    import pandas as pd

    frame = pd.DataFrame({name: value for name, value in columns.items()}, index=None)
    for name, value in columns.items():
        if (
            isinstance(value, np.ndarray)
            and value.dtype.kind == "M"
            and value.dtype.name.endswith("[D]")
        ):
            text = np.datetime_as_string(value, unit="D").astype(object)
            text[np.isnat(value)] = None
            frame[name] = text
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N", quoting=csv.QUOTE_NONE)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())


def _load_one(task: tuple[Plan, str, date, np.datetime64]) -> tuple[int, float]:
    """Generate and COPY one community's books in one transaction (in a pool process)."""
    import psycopg

    plan, conninfo, today, now_local = task
    began = time.perf_counter()
    book = _book(plan, today, now_local)
    lowest, highest = book.pop("limits")
    # Wide enough for every balance reached, and at least 20 hours either way.
    floor = min(-20 * 60, (lowest // 60) * 60)
    ceiling = max(20 * 60, -((-highest) // 60) * 60)
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET TIME ZONE 'Europe/Amsterdam'")
        cursor.execute("SET synchronous_commit = off")
        for table, name in (
            ("accounts_user", "users"),
            ("accounts_membership", "memberships"),
            ("ledger_account", "accounts"),
            ("ledger_transfer", "transfers"),
            ("ledger_entry", "entries"),
        ):
            _copy(cursor, table, book[name])
        cursor.execute(
            "UPDATE accounts_community SET default_floor = %s, default_ceiling = %s WHERE id = %s",
            (floor, ceiling, plan.community_id),
        )
    return plan.transfers, time.perf_counter() - began


def _generate(conninfo: str) -> dict:
    """Communities, areas, then every community's books; returns the sizes and times."""
    import psycopg
    from django.db import connections
    from django.utils import timezone

    from accounts.models import Area, Community

    began = time.perf_counter()
    rng = np.random.default_rng(SEED)
    names = [f"Kring {n}" for n in range(COMMUNITIES)] + ["Grote Kring"]
    communities = Community.objects.bulk_create(
        Community(
            name=name,
            slug=f"bench-{n}",
            unit_singular_nl="uur",
            unit_plural_nl="uur",
            unit_singular_en="hour",
            unit_plural_en="hours",
            default_floor=-20 * 60,
            default_ceiling=20 * 60,
            created_at=timezone.now() - timedelta(days=HISTORY_DAYS + 400),
        )
        for n, name in enumerate(names)
    )
    with_areas = []
    for community in communities:
        count = int(rng.integers(0, 6))
        areas = Area.objects.bulk_create(
            Area(community=community, name=f"Wijk {a + 1}") for a in range(count)
        )
        with_areas.append((community.pk, [area.pk for area in areas]))
    plans = _plans(with_areas, rng)
    today = timezone.localdate()
    now_local = np.datetime64(timezone.localtime().replace(tzinfo=None), "s")
    connections.close_all()
    tasks = [(plan, conninfo, today, now_local) for plan in plans]
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        loaded = pool.map(_load_one, tasks, chunksize=1)
    rows_seconds = time.perf_counter() - began
    with psycopg.connect(conninfo, autocommit=True) as admin:
        for table in (
            "accounts_user",
            "accounts_membership",
            "ledger_account",
            "ledger_transfer",
            "ledger_entry",
        ):
            admin.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        vacuum_began = time.perf_counter()
        admin.execute("VACUUM (ANALYZE)")
        admin.execute("CHECKPOINT")
        vacuum_seconds = time.perf_counter() - vacuum_began
        sizes = admin.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()[0]
    return {
        "plans": plans,
        "today": today,
        "generation_s": round(time.perf_counter() - began, 1),
        "generation_rows_s": round(rows_seconds, 1),
        "generation_vacuum_s": round(vacuum_seconds, 1),
        "generation_process_s": round(sum(seconds for _t, seconds in loaded), 1),
        "database_size": sizes,
    }


# -- The nightly run --------------------------------------------------------------


def _worker_start() -> None:
    """A pool process starts like a Celery worker: Django set up, no inherited connection."""
    import django
    from django.db import connections

    django.setup()
    connections.close_all()
    # Imported once, as a worker does.
    import reciprocity.flags
    import reciprocity.services  # noqa: F401


def _nightly_one(task: tuple[int, date, date]) -> tuple[int, float, float, int, int]:
    """One community's job: the month's analysis, then its flags."""
    from django.db import close_old_connections

    from accounts.models import Community
    from reciprocity.flags import flags_evaluate
    from reciprocity.services import community_analyse

    community_id, period, today = task
    began, cpu_began = time.perf_counter(), time.process_time()
    community = Community.objects.get(pk=community_id)
    community_analyse(community=community, period=period, today=today)
    flags_evaluate(community=community, period=period)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    # What Celery's Django fix-up does after every task (CONN_MAX_AGE is 0).
    close_old_connections()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return community_id, seconds, cpu, os.getpid(), peak_kb


def _nightly(plans: list[Plan], today: date) -> dict:
    from django.db import connections

    period = today.replace(day=1)
    before = (period - timedelta(days=1)).replace(day=1)
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with context.Pool(WORKERS, initializer=_worker_start) as pool:
        # Untimed, what the nightly run finds in place: the month before (final),
        # and this month as the run of the night before left it.
        began = time.perf_counter()
        for month in (before, period):
            pool.map(_nightly_one, [(p.community_id, month, today) for p in plans], chunksize=1)
        warmup = time.perf_counter() - began
        busy = _quiet()
        began = time.perf_counter()
        results = list(
            pool.imap_unordered(
                _nightly_one, [(p.community_id, period, today) for p in plans], chunksize=1
            )
        )
        wall = time.perf_counter() - began
    peaks: dict[int, int] = {}
    for _community, _seconds, _cpu, pid, peak_kb in results:
        peaks[pid] = max(peaks.get(pid, 0), peak_kb)
    parent_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    per_community = {community: seconds for community, seconds, *_rest in results}
    regular = [per_community[p.community_id] for p in plans[:-1]]
    return {
        "period": period.isoformat(),
        "full_wall_s": round(wall, 2),
        "full_peak_rss_mb": round((sum(peaks.values()) + parent_kb) / 1024, 1),
        "worker_peak_rss_mb": [round(kb / 1024, 1) for kb in sorted(peaks.values())],
        "parent_peak_rss_mb": round(parent_kb / 1024, 1),
        "community_p50_s": round(statistics.median(regular), 3),
        "community_max_s": round(max(regular), 3),
        "community_sum_s": round(sum(per_community.values()), 2),
        "large_community_in_nightly_s": round(per_community[plans[-1].community_id], 3),
        # CPU of the worker processes alone (PostgreSQL's is not in it).
        "workers_cpu_s": round(sum(cpu for _c, _s, cpu, _p, _k in results), 2),
        "untimed_month_before_and_night_before_s": round(warmup, 2),
        "machine_busy_before_nightly_percent": busy,
        "load_average_after_nightly": os.getloadavg()[0],
    }


def _one_community(plan: Plan, today: date) -> dict:
    from accounts.models import Community
    from reciprocity.models import MemberSnapshot
    from reciprocity.services import community_analyse

    community = Community.objects.get(pk=plan.community_id)
    period = today.replace(day=1)
    times = []
    busy = _quiet()
    for _run in range(3):
        began = time.perf_counter()
        community_analyse(community=community, period=period, today=today)
        times.append(time.perf_counter() - began)
    return {
        "one_community_s": round(statistics.median(times), 3),
        "one_community_runs_s": [round(t, 3) for t in times],
        "machine_busy_before_one_community_percent": busy,
        "one_community_member_snapshots": MemberSnapshot.objects.filter(
            community=community, period=period
        ).count(),
    }


# -- The same measures, written plainly with networkx ------------------------------


def _payment_rows(community_ids: list[int]) -> list[tuple[int, int, int]]:
    """(payer account, payee account, amount) per payment; reversed ones and
    reversals left out, as the analysis reads them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT paid.account_id, got.account_id, got.amount
              FROM ledger_entry got
              JOIN ledger_account account ON account.id = got.account_id
              JOIN ledger_entry paid ON paid.transfer_id = got.transfer_id AND paid.amount < 0
              JOIN ledger_transfer transfer ON transfer.id = got.transfer_id
             WHERE account.community_id = ANY(%s) AND got.amount > 0
               AND transfer.kind <> 'reversal'
               AND NOT EXISTS (SELECT 1 FROM ledger_transfer r WHERE r.reverses_id = transfer.id)
            """,
            [community_ids],
        )
        return cursor.fetchall()


def networkx_measures(rows: list[tuple[int, int, int]]) -> dict:
    """W, D, C, A, the giant SCC's share and given/received per member, plainly."""
    import networkx as nx

    flow = nx.DiGraph()
    for payer, payee, amount in rows:
        if payer == payee:
            continue
        if flow.has_edge(payer, payee):
            flow[payer][payee]["amount"] += amount
        else:
            flow.add_edge(payer, payee, amount=amount)
    total = direct = 0
    netted = nx.DiGraph()
    for i, j, data in flow.edges(data=True):
        back = flow[j][i]["amount"] if flow.has_edge(j, i) else 0
        total += data["amount"]
        direct += min(data["amount"], back)
        if data["amount"] > back:
            netted.add_edge(i, j, capacity=data["amount"] - back, weight=-1)
    # The largest circulation inside the netted graph: a minimum-cost circulation
    # at cost -1 per unit, per strongly connected component (no demands).
    circulation = 0
    for component in nx.strongly_connected_components(netted):
        if len(component) > 1:
            cost, _flows = nx.network_simplex(netted.subgraph(component))
            circulation += -cost
    giant = max(nx.strongly_connected_components(flow), key=len)
    return {
        "W": total,
        "D": direct,
        "C": circulation,
        "A": total - direct - circulation,
        "giant_scc_share": len(giant) / flow.number_of_nodes(),
        "given": dict(flow.in_degree(weight="amount")),
        "received": dict(flow.out_degree(weight="amount")),
    }


def engine_measures(rows: list[tuple[int, int, int]]) -> dict:
    """The same, with the engine, from the same rows."""
    from reciprocity.engine import reciprocity_analyse

    edges = np.array(rows, dtype=np.int64).reshape(-1, 3)
    accounts, nodes = np.unique(edges[:, :2], return_inverse=True)
    nodes = nodes.reshape(-1, 2)
    result = reciprocity_analyse(
        payer=nodes[:, 0], payee=nodes[:, 1], amount=edges[:, 2], node_count=accounts.size
    )
    ids = accounts[result.member.node].tolist()
    return {
        "W": result.W,
        "D": result.D,
        "C": result.C,
        "A": result.A,
        "giant_scc_share": result.giant_scc_share,
        "given": dict(zip(ids, result.member.given.tolist(), strict=True)),
        "received": dict(zip(ids, result.member.received.tolist(), strict=True)),
    }


def _vs_networkx(plans: list[Plan]) -> dict:
    chosen, members = [], 0
    for plan in plans[:-1]:
        if members >= SLICE_MEMBERS:
            break
        chosen.append(plan.community_id)
        members += plan.members
    began = time.perf_counter()
    rows = _payment_rows(chosen)
    read = time.perf_counter() - began
    busy = _quiet()
    began = time.perf_counter()
    engine = engine_measures(rows)
    engine_seconds = time.perf_counter() - began
    began = time.perf_counter()
    plain = networkx_measures(rows)
    networkx_seconds = time.perf_counter() - began
    same = {key: engine[key] == plain[key] for key in ("W", "D", "C", "A", "given", "received")}
    same["giant_scc_share"] = abs(engine["giant_scc_share"] - plain["giant_scc_share"]) < 1e-12
    return {
        "vs_networkx": round(networkx_seconds / engine_seconds, 1),
        "slice_communities": len(chosen),
        "slice_members": members,
        "slice_payments": len(rows),
        "slice_read_s": round(read, 2),
        "engine_s": round(engine_seconds, 3),
        "networkx_s": round(networkx_seconds, 2),
        "networkx_matches_engine": all(same.values()),
        "networkx_differs_in": sorted(key for key, ok in same.items() if not ok),
        "slice_W_D_C_A": [engine["W"], engine["D"], engine["C"], engine["A"]],
        "machine_busy_before_networkx_percent": busy,
    }


# -- Running it -------------------------------------------------------------------


def _quiet() -> float | None:
    """Wait (bounded) for the machine to be quiet; how busy it was, in percent."""
    from tests.perf.ledger.runner import wait_for_quiet

    busy = wait_for_quiet(QUIET_WAIT, QUIET_PERCENT)
    if busy is not None and busy > QUIET_PERCENT:
        print(
            f"the machine is still {busy:.0f}% busy with other work; measuring anyway",
            file=sys.stderr,
            flush=True,
        )
    return None if busy is None else round(busy, 1)


def _machine() -> dict:
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        memory_kb = int(meminfo.readline().split()[1])
    import networkx
    import ortools

    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(memory_kb / 1024**2, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "ortools": ortools.__version__,
        "networkx": networkx.__version__,
    }


def _table(report: dict) -> str:
    def mark(value: float, target: float, higher_is_better: bool = False) -> str:
        met = value >= target if higher_is_better else value <= target
        return "met" if met else "MISSED"

    rows = [
        ("generation (untimed rest)", f"{report['generation_s']:.1f} s", "", ""),
        (
            f"nightly, {report['communities_analysed']} communities, {WORKERS} processes",
            f"{report['full_wall_s']:.2f} s",
            "<= 60 s",
            mark(report["full_wall_s"], TARGETS["full_wall_s"]),
        ),
        (
            "  peak RSS, workers + parent",
            f"{report['full_peak_rss_mb']:.0f} MB",
            "<= 2048 MB",
            mark(report["full_peak_rss_mb"], TARGETS["full_peak_rss_mb"]),
        ),
        (
            "  per community p50 / max (regular)",
            f"{report['community_p50_s']:.3f} / {report['community_max_s']:.3f} s",
            "",
            "",
        ),
        (
            "  large community inside the run",
            f"{report['large_community_in_nightly_s']:.3f} s",
            "",
            "",
        ),
        (
            f"one community ({LARGE_MEMBERS} members), median of 3",
            f"{report['one_community_s']:.3f} s",
            "<= 1 s",
            mark(report["one_community_s"], TARGETS["one_community_s"]),
        ),
        (
            f"networkx / engine ({report['slice_members']} members, "
            f"{report['slice_payments']} payments)",
            f"{report['networkx_s']:.2f} / {report['engine_s']:.3f} s = "
            f"{report['vs_networkx']:.1f}x",
            ">= 20x",
            mark(report["vs_networkx"], VS_NETWORKX_TARGET, higher_is_better=True),
        ),
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    return "\n".join(
        f"{name:<{width}}  {value:>{value_width}}  {target:<10}  {verdict}".rstrip()
        for name, value, target, verdict in rows
    )


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.perf.ledger.cluster import SERVER_SETTINGS, durable_cluster

    with durable_cluster() as cluster:
        import psycopg

        with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench_reciprocity")
            for name, value in LOAD_SETTINGS.items():
                admin.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            admin.execute("SELECT pg_reload_conf()")
        os.environ["DATABASE_URL"] = cluster.url("bench_reciprocity")
        os.environ["DJANGO_SETTINGS_MODULE"] = "ruilkring.settings.test"
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        call_command("migrate", verbosity=0, interactive=False)
        print(
            f"generating {COMMUNITIES} communities ({MEMBERS} members, {TRANSFERS} transfers) "
            f"and one of {LARGE_MEMBERS} members and {LARGE_TRANSFERS} transfers; the ledger's "
            "triggers are off for the load (session_replication_role = replica), the rows carry "
            "a consistent chain of versions and balances",
            file=sys.stderr,
            flush=True,
        )
        generated = _generate(cluster.conninfo("bench_reciprocity"))
        plans = generated.pop("plans")
        today = generated.pop("today")
        print(f"generated in {generated['generation_s']} s", file=sys.stderr, flush=True)
        nightly = _nightly(plans, today)
        print(f"nightly run in {nightly['full_wall_s']} s", file=sys.stderr, flush=True)
        one = _one_community(plans[-1], today)
        versus = _vs_networkx(plans)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0]
        connections.close_all()
    report = {
        "benchmark": "nightly reciprocity analysis of the current month, from the database",
        **{key: nightly.pop(key) for key in ("full_wall_s", "full_peak_rss_mb")},
        **one,
        **versus,
        **nightly,
        **generated,
        "targets": {**TARGETS, "vs_networkx": VS_NETWORKX_TARGET},
        "communities_analysed": len(plans),
        "regular_communities": COMMUNITIES,
        "members": sum(p.members for p in plans),
        "transfers": sum(p.transfers for p in plans),
        "entries": 2 * sum(p.transfers for p in plans),
        "large_community": {"members": plans[-1].members, "transfers": plans[-1].transfers},
        "regular_members_range": [
            min(p.members for p in plans[:-1]),
            max(p.members for p in plans[:-1]),
        ],
        "regular_transfers_range": [
            min(p.transfers for p in plans[:-1]),
            max(p.transfers for p in plans[:-1]),
        ],
        "history_days": HISTORY_DAYS,
        "today": today.isoformat(),
        "workers": WORKERS,
        "load": "COPY with the ledger's triggers off (session_replication_role = replica)",
        "machine": _machine(),
        "postgresql": server,
        "postgresql_settings": {**SERVER_SETTINGS, **LOAD_SETTINGS},
        "plans_sample": [asdict(p) for p in (plans[0], plans[-1])],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(_table(report))
    if not report["networkx_matches_engine"]:
        print(f"networkx and the engine differ in: {', '.join(report['networkx_differs_in'])}")
    print(f"written to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
