"""How long the reciprocity report takes on a large export: 100,000 payments.

    make bench-reciprocity-report  (or: .venv/bin/python -m tests.perf.reciprocity_report_bench)

Writes a CSV the way a Dutch spreadsheet exports it (semicolons, decimal
commas, a date column) with 100,000 payments among 2,000 members: most trade
within their own neighbourhood of about 40, some across, amounts of a quarter
to four hours. Then it times reading the file, the engine alone, and the whole
``manage.py reciprocity_report`` in a fresh process (Python and Django start-up
included), with an empty SQLite database that has no tables, to show the
command needs none. Writes ``var/bench/reciprocity_report.json``.
Environment: ``RUILKRING_BENCH_PAYMENTS`` (100000), ``RUILKRING_BENCH_MEMBERS``
(2000). It measures; it asserts nothing about time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "var" / "bench" / "reciprocity_report.json"
PAYMENTS = int(os.environ.get("RUILKRING_BENCH_PAYMENTS", "100000"))
MEMBERS = int(os.environ.get("RUILKRING_BENCH_MEMBERS", "2000"))
NEIGHBOURHOOD = 40


def export_write(*, path: Path, payments: int, members: int, seed: int = 7) -> None:
    """A Dutch-style export: semicolons, a date per payment, amounts in hours
    with a decimal comma ("1,25")."""
    rng = np.random.default_rng(seed)
    payer = rng.integers(0, members, payments)
    across = rng.random(payments) < 0.2
    nearby = (payer // NEIGHBOURHOOD) * NEIGHBOURHOOD + rng.integers(0, NEIGHBOURHOOD, payments)
    payee = np.where(across, rng.integers(0, members, payments), nearby) % members
    quarters = rng.integers(1, 17, payments)
    days = np.sort(rng.integers(0, 365, payments))
    start = np.datetime64("2025-01-01")
    with path.open("w", encoding="utf-8") as handle:
        handle.write("Timestamp;Payer;Payee;Amount;Memo\n")
        for day, i, j, q in zip(days, payer, payee, quarters, strict=True):
            hours = f"{q // 4},{(q % 4) * 25:02d}"
            handle.write(f"{start + day};lid-{i:05d};lid-{j:05d};{hours};hulp\n")


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruilkring.settings.base")
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        export = directory / "export.csv"
        database = directory / "no-tables.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
        export_write(path=export, payments=PAYMENTS, members=MEMBERS)

        import django

        django.setup()
        from reciprocity.edgelist import edge_list_read
        from reciprocity.engine import reciprocity_analyse

        began = time.perf_counter()
        edges = edge_list_read(path=export)
        read_seconds = time.perf_counter() - began
        began = time.perf_counter()
        result = reciprocity_analyse(payer=edges.payer, payee=edges.payee, amount=edges.amount)
        engine_seconds = time.perf_counter() - began

        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "reciprocity_report", "--csv", str(export)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        command_seconds = time.perf_counter() - began

    report = {
        "payments": PAYMENTS,
        "members": result.members,
        "read_seconds": round(read_seconds, 3),
        "engine_seconds": round(engine_seconds, 3),
        "command_seconds": round(command_seconds, 3),
        "W": result.W,
        "D": result.D,
        "C": result.C,
        "A": result.A,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{PAYMENTS} payments among {result.members} members: read {read_seconds:.2f} s, "
        f"engine {engine_seconds:.2f} s, whole command {command_seconds:.2f} s "
        f"(D {result.direct_share:.0%}, C {result.circulation_share:.0%}, "
        f"A {result.one_way_share:.0%})"
    )
    print(f"written to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
