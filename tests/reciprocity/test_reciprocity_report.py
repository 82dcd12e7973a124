"""``manage.py reciprocity_report``: a coordinator runs it on another system's
export and reads the measures, without any database.

These tests have no ``django_db`` mark, so pytest-django refuses any query: the
command passes them only because it never touches the database.
"""

import json
import os
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation

from tests.perf.reciprocity_report_bench import export_write

# Anna and Bram help each other; Bram, Cas and Dirk pass help round; Eva only
# receives. Dutch export: semicolons, decimal commas, a memo column.
DUTCH_EXPORT = """\
Timestamp;Payer;Payee;Amount;Memo
2025-03-01;Anna;Bram;1,5;tuin
2025-03-04;Bram;Anna;1;fiets
2025-03-09;Bram;Cas;2;boodschappen
2025-03-12;Cas;Dirk;2;computer
2025-03-20;Dirk;Bram;2;soep
2025-04-02;Eva;Dirk;0,75;oppas
"""


def report(tmp_path, text, *arguments):
    export = tmp_path / "export.csv"
    export.write_text(text, encoding="utf-8")
    out = tmp_path / "report.json"
    stdout = StringIO()
    call_command(
        "reciprocity_report", "--csv", str(export), "--json", str(out), *arguments, stdout=stdout
    )
    return json.loads(out.read_text(encoding="utf-8")), stdout.getvalue()


def test_a_dutch_export_gives_the_measures_in_its_own_unit(tmp_path):
    measures, _ = report(tmp_path, DUTCH_EXPORT)

    # In hundredths: W = 150 + 100 + 200 + 200 + 200 + 75 = 925.
    # Anna/Bram: min(150, 100) both ways, D = 200. Netted: Anna -> Bram 50,
    # Bram -> Cas -> Dirk -> Bram 200 each, Eva -> Dirk 75.
    # The circle carries 200 on three arcs: C = 600. A = 925 - 200 - 600 = 125.
    # Balances: Anna 100 - 150 = -50, Bram 350 - 300 = +50, Cas 0,
    # Dirk 275 - 200 = +75, Eva -75: NID = 125.
    assert {key: measures[key] for key in ("W", "D", "C", "A", "nid")} == {
        "W": "9.25",
        "D": "2.00",
        "C": "6.00",
        "A": "1.25",
        "nid": "1.25",
    }
    assert measures["payments"] == 6
    assert measures["members"] == 5
    assert measures["direct_share"] == pytest.approx(200 / 925)
    assert measures["circulation_share"] == pytest.approx(600 / 925)
    assert measures["one_way_share"] == pytest.approx(125 / 925)
    assert measures["nid_share"] == pytest.approx(125 / 925)
    # Anna, Bram, Cas and Dirk reach each other; Eva reaches Dirk but not back.
    assert measures["giant_scc_share"] == pytest.approx(4 / 5)
    # Balances -50, 50, 0, 75, -75 (sum of |x| 250). Sorted -75, -50, 0, 50, 75:
    # pair differences 25, 75, 125, 150, 50, 100, 125, 50, 75, 25 = 800, twice 1600;
    # 1600 / (2 * 5 * 250) = 0.64.
    assert measures["gini_balance"] == pytest.approx(0.64)
    assert measures["window"] is None


def test_the_printed_table_reads_in_the_active_language(tmp_path):
    _, english = report(tmp_path, DUTCH_EXPORT)
    with translation.override("nl"):
        _, dutch = report(tmp_path, DUTCH_EXPORT)

    assert "Total flow (W)" in english
    assert "9.25" in english
    assert "64.9 %" in english  # 600 / 925 = 64.86 %, rounded
    # Dutch numbers have a decimal comma.
    assert "9,25" in dutch
    assert "64,9 %" in dutch


def test_a_window_reports_only_the_last_days(tmp_path):
    # The latest payment is on 2 April; 30 days back is 3 March, so the window
    # holds 4, 9, 12 and 20 March and 2 April: W = 100 + 200 + 200 + 200 + 75 = 775.
    # Without Anna's 1,50 to Bram nothing is returned within a pair: D = 0;
    # C = 600 round Bram, Cas and Dirk; A = 100 + 75.
    measures, printed = report(tmp_path, DUTCH_EXPORT, "--window-days", "30")

    assert (measures["W"], measures["D"], measures["C"], measures["A"]) == (
        "7.75",
        "0.00",
        "6.00",
        "1.75",
    )
    assert measures["window"] == {"start": "2025-03-03T00:00:00", "end": "2025-04-02T00:00:00"}
    assert "2025-03-03 to 2025-04-02" in printed


def test_a_bad_line_stops_the_report_with_its_line_number_and_writes_nothing(tmp_path):
    text = DUTCH_EXPORT.replace("Cas;Dirk;2;", "Cas;Dirk;-2;")
    export = tmp_path / "export.csv"
    export.write_text(text, encoding="utf-8")
    out = tmp_path / "report.json"

    with pytest.raises(CommandError, match="Line 5: the amount -2 is negative"):
        call_command("reciprocity_report", "--csv", str(export), "--json", str(out))

    assert not out.exists()


def test_a_generated_export_of_thousands_of_payments_adds_up(tmp_path):
    export = tmp_path / "export.csv"
    export_write(path=export, payments=5000, members=300)
    lines = [line.split(";") for line in export.read_text().splitlines()[1:]]
    # Payments to oneself are left out of the flow.
    hundredths = sum(
        int(amount.replace(",", "")) for _, payer, payee, amount, _ in lines if payer != payee
    )
    out = tmp_path / "report.json"

    call_command("reciprocity_report", "--csv", str(export), "--json", str(out), stdout=StringIO())

    measures = json.loads(out.read_text())
    assert measures["payments"] == 5000
    assert measures["W"] == f"{hundredths / 100:.2f}"
    parts = [int(measures[key].replace(".", "")) for key in ("D", "C", "A")]
    assert sum(parts) == hundredths


def test_the_command_runs_on_a_database_without_any_tables(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(DUTCH_EXPORT, encoding="utf-8")
    database = tmp_path / "never-migrated.sqlite3"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ruilkring.settings.base",
        "DATABASE_URL": f"sqlite:///{database}",
    }

    finished = subprocess.run(
        [sys.executable, "manage.py", "reciprocity_report", "--csv", str(export)],
        cwd=Path(settings.BASE_DIR),
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr
    # In the site's language, Dutch by default: W with a decimal comma.
    assert "export.csv" in finished.stdout
    assert "9,25" in finished.stdout
    if database.exists():
        tables = sqlite3.connect(database).execute("SELECT name FROM sqlite_master").fetchall()
        assert tables == []
