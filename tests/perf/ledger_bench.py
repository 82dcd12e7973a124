"""How many transfers per second the ledger commits, next to django-hordak and the disk.

    make bench-ledger            (or: .venv/bin/python -m tests.perf.ledger_bench)

On a private PostgreSQL cluster with fsync, synchronous_commit and
full_page_writes on (not the test harness's cluster, which has them off), with
1,000 member accounts and 1, 2, 4 and 8 processes of 30 s each, it measures:

- P: this project's ``ledger.services.transfer_create`` (kind PAYMENT, the
  payer's user as actor, random payer and payee among the members, 15 to 240
  minutes, a fresh idempotency key each time; a floor of -20 hours refuses some);
  The keys are time-ordered, as the project's own pages make them
  (``ledger.keys``);
- P+hist: the same with 1,000,000 entries of history preloaded;
- P+hist, random keys: the same again, with random UUIDs as keys, as an API
  client might send them (not in the ratios; shown for what keys cost);
- H: django-hordak 2.0's ``Account.transfer_to``, in its own virtualenv;
- H+L: hordak plus what an application must add for a credit limit: lock both
  accounts in id order, read the payer's balance, refuse below the floor;
- F0: the commit floor, one one-row INSERT per transaction.

Per process count the systems run one after the other (F0, P, P+hist, P+hist
with random keys, H, H+L),
each after a CHECKPOINT, so every window starts from the same state. After each
run the invariants are checked: ``ledger_verify`` is clean and no limit is
breached for P; for hordak the accounting equation holds (balances sum to zero),
every transaction balances, and for H+L no account is below the floor.

Prints a table and writes ``var/bench/ledger.json``. Environment:
``RUILKRING_BENCH_SECONDS`` (30), ``RUILKRING_BENCH_PROCESSES`` ("1,2,4,8"),
``RUILKRING_BENCH_HISTORY`` (1000000 entries), ``RUILKRING_BENCH_OUTPUT``.
Never part of ``make test``: it measures, it asserts nothing about time.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from tests.perf.ledger import commit_floor
from tests.perf.ledger.cluster import SERVER_SETTINGS, Cluster, durable_cluster
from tests.perf.ledger.runner import log, measure, wait_for_quiet

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "ledger"
BENCH_DIR = ROOT / "var" / "bench"
HORDAK_VENV = BENCH_DIR / "hordak-venv"
HORDAK_REQUIREMENTS = HERE / "hordak-requirements.txt"

SECONDS = float(os.environ.get("RUILKRING_BENCH_SECONDS", "30"))
PROCESSES = [int(n) for n in os.environ.get("RUILKRING_BENCH_PROCESSES", "1,2,4,8").split(",")]
HISTORY_ENTRIES = int(os.environ.get("RUILKRING_BENCH_HISTORY", "1000000"))
OUTPUT = Path(os.environ.get("RUILKRING_BENCH_OUTPUT", str(BENCH_DIR / "ledger.json")))
# Before each run, wait (at most this long) until the machine is at most
# QUIET_PERCENT busy: other work on the same cores would be measured too.
QUIET_WAIT = float(os.environ.get("RUILKRING_BENCH_QUIET_WAIT", "30"))
QUIET_PERCENT = 20.0
RATIO_PROCESSES = 4

SYSTEMS = {
    "F0": "F0   commit floor (1-row INSERT)",
    "P": "P    ruilkring transfer_create",
    "P_history": "P    + history preloaded",
    "P_history_random": "P    + history, random keys",
    "H": "H    hordak transfer_to",
    "HL": "H+L  hordak + lock + floor check",
}
TARGETS = {
    "p_vs_hordak_locked": ("P", "HL", 5.0),
    "p_vs_hordak": ("P", "H", 2.5),
    "p_vs_commit_floor": ("P", "F0", 0.15),
    "p_history_vs_p": ("P_history", "P", 0.9),
}
# Environment the drivers must not inherit: they get their database explicitly.
DROPPED_ENV = ("DATABASE_URL", "DJANGO_REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")


# The drivers run from a copy of the work tree taken when the benchmark starts,
# so every run measures the same code even while people keep working on it
# (a migration or a service that changes halfway would mix two versions).
SNAPSHOT_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "var", "node_modules", "__pycache__", "*.pyc", ".ruff_cache"
)
snapshot_dir: Path = ROOT


def code_snapshot() -> Path:
    target = Path(tempfile.mkdtemp(prefix="ruilkring-bench-code-")) / "tree"
    shutil.copytree(ROOT, target, ignore=SNAPSHOT_IGNORE)
    return target


def _driver_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env["PYTHONPATH"] = str(snapshot_dir)
    return env


def _driver(argv: list[str]) -> dict:
    completed = subprocess.run(
        argv, cwd=snapshot_dir, env=_driver_env(), stdout=subprocess.PIPE, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} ... failed with exit {completed.returncode}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def ruilkring(command: str, url: str, *extra: str) -> dict:
    return _driver(
        [
            sys.executable,
            "-m",
            "tests.perf.ledger.ruilkring_driver",
            command,
            "--database-url",
            url,
            *extra,
        ]
    )


def hordak(command: str, url: str, *extra: str) -> dict:
    python = str(HORDAK_VENV / "bin" / "python")
    driver = snapshot_dir / "tests" / "perf" / "ledger" / "hordak_driver.py"
    return _driver([python, str(driver), command, "--database-url", url, *extra])


def hordak_venv() -> None:
    """django-hordak in a virtualenv of its own, never in the project's."""
    digest = hashlib.sha256(HORDAK_REQUIREMENTS.read_bytes()).hexdigest()
    stamp = HORDAK_VENV / ".requirements-sha256"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return
    log(f"bench: installing django-hordak into {HORDAK_VENV.relative_to(ROOT)}")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(HORDAK_VENV)], check=True)
    subprocess.run(
        [
            str(HORDAK_VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(HORDAK_REQUIREMENTS),
        ],
        check=True,
    )
    stamp.write_text(digest + "\n")


def admin(cluster: Cluster, *statements: str, database: str = "postgres") -> list:
    results = []
    with psycopg.connect(cluster.conninfo(database), autocommit=True) as connection:
        for statement in statements:
            cursor = connection.execute(statement)
            results.append(cursor.fetchall() if cursor.description else None)
    return results


def server_settings(cluster: Cluster) -> dict[str, str]:
    names = [*SERVER_SETTINGS, "wal_sync_method", "checkpoint_timeout", "max_wal_size"]
    with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as connection:
        return {name: connection.execute(f"SHOW {name}").fetchone()[0] for name in names}


def run_one(cluster: Cluster, system: str, processes: int) -> dict:
    admin(cluster, "CHECKPOINT")
    busy = wait_for_quiet(QUIET_WAIT, QUIET_PERCENT)
    (wal_before,) = admin(cluster, "SELECT pg_current_wal_lsn()")[0][0]
    result = _run_one(cluster, system, processes)
    # WAL written by the run (and its invariant checks), per committed transfer:
    # independent of how busy the machine was, unlike the rates.
    wal = admin(cluster, f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{wal_before}')")[0][0][0]
    result["wal_bytes_per_transfer"] = (
        round(float(wal) / result["committed"]) if result["committed"] else None
    )
    result["machine_busy_before_percent"] = None if busy is None else round(busy, 1)
    result["load_average_before"] = os.getloadavg()[0]
    return result


def _run_one(cluster: Cluster, system: str, processes: int) -> dict:
    extra = ["--processes", str(processes), "--seconds", str(SECONDS)]
    if system == "F0":
        conninfo = cluster.conninfo("bench_floor")
        before = commit_floor.rows(conninfo)
        result = measure(commit_floor.step_factory(conninfo), processes, SECONDS)
        written = commit_floor.rows(conninfo) - before
        result["rows_written"] = written
        result["invariants_ok"] = result["errors"] == 0 and written >= result["committed"]
        return result
    if system == "P":
        return ruilkring("run", cluster.url("bench_p"), *extra)
    if system == "P_history":
        return ruilkring("run", cluster.url("bench_p_history"), *extra)
    if system == "P_history_random":
        return ruilkring("run", cluster.url("bench_p_history"), *extra, "--keys", "random")
    if system == "H":
        return hordak("run", cluster.url("hordak_h"), "--mode", "H", *extra)
    return hordak("run", cluster.url("hordak_hl"), "--mode", "HL", *extra)


def _code_version() -> dict:
    """Which commit was measured, and whether the work tree had changes (read-only git)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "ledger", "accounts", "ruilkring"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "uncommitted_changes_in_project_code": None}
    return {"commit": commit, "uncommitted_changes_in_project_code": bool(changed)}


def ratios(figures: dict[str, dict[str, float]]) -> tuple[dict, dict]:
    at = str(RATIO_PROCESSES)
    values, met = {}, {}
    for name, (top, bottom, target) in TARGETS.items():
        numerator, denominator = figures[top].get(at), figures[bottom].get(at)
        value = numerator / denominator if numerator and denominator else None
        values[name] = None if value is None else round(value, 3)
        met[name] = value is not None and value >= target
    return values, met


def table(results: dict, figures: dict, ratio_values: dict, met: dict) -> str:
    lines = []
    head = f"{'system':<36}" + "".join(f"{f'{n} proc':>16}" for n in PROCESSES)
    lines.append(
        f"transfers per second (refused per second), {SECONDS:g} s per run, nproc {os.cpu_count()}"
    )
    lines.append(head)
    lines.append("-" * len(head))
    for system, label in SYSTEMS.items():
        cells = []
        for n in PROCESSES:
            run = results[system].get(str(n))
            if run is None:
                cells.append(f"{'-':>16}")
                continue
            cell = f"{run['per_second']:.1f}"
            if run["refused"]:
                cell += f" ({run['refused_per_second']:.1f})"
            if not run["invariants_ok"]:
                cell += " !"
            busy = run.get("machine_busy_before_percent")
            if busy is not None and busy > QUIET_PERCENT:
                cell += " *"
            cells.append(f"{cell:>16}")
        lines.append(f"{label:<36}" + "".join(cells))
    lines.append("!: an invariant check failed; *: the machine was busy with other work before")
    lines.append("")
    lines.append(
        f"at {RATIO_PROCESSES} processes: p50 / p99 latency of a committed transfer (ms), "
        "WAL bytes per transfer, client CPU per attempt (us)"
    )
    for system, label in SYSTEMS.items():
        run = results[system].get(str(RATIO_PROCESSES))
        if run:
            latency = run["latency_ms"]
            lines.append(
                f"  {label:<34} {latency['p50']} / {latency['p99']}, "
                f"{run.get('wal_bytes_per_transfer')} B, {run.get('client_cpu_us_per_step')} us"
            )
    lines.append("")
    lines.append(f"ratios at {RATIO_PROCESSES} processes:")
    for name, (top, bottom, target) in TARGETS.items():
        value = ratio_values[name]
        shown = "n/a" if value is None else f"{value:.3f}"
        verdict = "met" if met[name] else "NOT met"
        lines.append(f"  {name:<22} {top}/{bottom} = {shown:>8}  target >= {target:<5} {verdict}")
    return "\n".join(lines)


def main() -> int:
    global snapshot_dir
    # SIGTERM unwinds like Ctrl-C, so the cluster stops and the copies are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.time()
    code = _code_version()  # the commit measured, read with the copy of the tree
    snapshot_dir = code_snapshot()
    try:
        return _main(started, code)
    finally:
        shutil.rmtree(snapshot_dir.parent, ignore_errors=True)


def _main(started: float, code: dict) -> int:
    log(
        f"bench: {len(SYSTEMS)} systems x {PROCESSES} processes x {SECONDS:g} s, "
        f"history {HISTORY_ENTRIES} entries"
    )
    hordak_venv()
    results: dict[str, dict[str, dict]] = {system: {} for system in SYSTEMS}
    with durable_cluster() as cluster:
        settings = server_settings(cluster)
        log(f"bench: PostgreSQL on port {cluster.port} with {settings}")
        admin(cluster, "CREATE DATABASE bench_p", "CREATE DATABASE hordak_h")
        admin(cluster, "CREATE DATABASE bench_floor")
        commit_floor.setup(cluster.conninfo("bench_floor"))
        setup_p = ruilkring("setup", cluster.url("bench_p"))
        admin(cluster, "CREATE DATABASE bench_p_history TEMPLATE bench_p")
        log(f"bench: preloading {HISTORY_ENTRIES} entries of history")
        history = ruilkring(
            "preload", cluster.url("bench_p_history"), "--entries", str(HISTORY_ENTRIES)
        )
        hordak("setup", cluster.url("hordak_h"))
        admin(cluster, "CREATE DATABASE hordak_hl TEMPLATE hordak_h")
        versions = {
            "ruilkring": ruilkring("versions", cluster.url("bench_p")),
            "hordak": hordak("versions", cluster.url("hordak_h")),
        }
        for processes in PROCESSES:
            for system, label in SYSTEMS.items():
                log(f"bench: {label}, {processes} processes, {SECONDS:g} s")
                run = run_one(cluster, system, processes)
                results[system][str(processes)] = run
                log(
                    f"bench:   {run['per_second']:.1f} transfers/s, "
                    f"{run['refused_per_second']:.1f} refused/s, {run['errors']} errors, "
                    f"invariants {'ok' if run['invariants_ok'] else 'BROKEN'}"
                )
                for sample in run.get("error_samples", [])[:1]:
                    log(f"bench:   first error: {sample}")
    figures = {
        system: {n: round(run["per_second"], 2) for n, run in runs.items()}
        for system, runs in results.items()
    }
    ratio_values, met = ratios(figures)
    invariants_ok = history["verify_clean"] and all(
        run["invariants_ok"] for runs in results.values() for run in runs.values()
    )
    report = {
        "benchmark": "ledger transfers per second",
        "seconds": SECONDS,
        "processes": PROCESSES,
        "members": setup_p["members"],
        "history_entries": history["entries"],
        "nproc": os.cpu_count(),
        "machine": platform.platform(),
        "code": code,
        "versions": {
            "python": platform.python_version(),
            "postgresql": versions["ruilkring"]["postgresql"],
            "django": versions["ruilkring"]["django"],
            "psycopg": versions["ruilkring"]["psycopg"],
            "hordak": versions["hordak"]["django-hordak"],
            "hordak_environment": versions["hordak"],
        },
        "server_settings": settings,
        "systems": {system: label.split("  ", 1)[-1].strip() for system, label in SYSTEMS.items()},
        "figures": figures,
        "ratios": ratio_values,
        "ratios_at_processes": RATIO_PROCESSES,
        "targets": {name: target for name, (_t, _b, target) in TARGETS.items()},
        "targets_met": met,
        "invariants_ok": invariants_ok,
        "history": history,
        "runs": results,
        "elapsed_seconds": round(time.time() - started, 1),
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table(results, figures, ratio_values, met))
    print(f"invariants: {'ok' if invariants_ok else 'BROKEN'}")
    print(f"written to {OUTPUT}")
    return 0 if invariants_ok else 1


if __name__ == "__main__":
    sys.exit(main())
