"""``manage.py reciprocity_report --csv FILE [--json OUT] [--window-days N]``

The reciprocity measures of one community from another system's export of
payments. Reads only the file: no database, so it runs before any migration.
"""

from __future__ import annotations

import json
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reciprocity.edgelist import EdgeList, EdgeListError, edge_list_read
from reciprocity.engine import ReciprocityResult, reciprocity_analyse

AMOUNT_KEYS = ("W", "D", "C", "A", "nid")
SHARE_KEYS = (
    "direct_share",
    "circulation_share",
    "one_way_share",
    "nid_share",
    "giant_scc_share",
    "gini_balance",
    "gini_volume",
)


def _report(*, edges: EdgeList, result: ReciprocityResult) -> dict:
    """The community measures for JSON: amounts as exact decimal strings in the
    file's own unit, shares and Gini coefficients as floats."""
    report: dict = {"payments": int(edges.amount.size), "members": result.members}
    for key in AMOUNT_KEYS:
        report[key] = str(edges.to_units(minor=getattr(result, key)))
    for key in SHARE_KEYS:
        report[key] = getattr(result, key)
    report["window"] = (
        {"start": edges.window[0].isoformat(), "end": edges.window[1].isoformat()}
        if edges.window
        else None
    )
    return report


def _amount(value: Decimal, decimals: int) -> str:
    return number_format(value, decimal_pos=decimals, use_l10n=True)


def _fraction(value: float, decimals: int) -> str:
    # number_format cuts a float off at decimal_pos; round first so 0.4286 shows as 42,9 %.
    return number_format(round(value, decimals), decimal_pos=decimals, use_l10n=True)


def _percent(share: float) -> str:
    return f"{_fraction(share * 100, 1)} %"


def _moment(value: datetime) -> str:
    return value.date().isoformat() if value.time() == time() else value.isoformat(" ", "minutes")


def _table(*, edges: EdgeList, result: ReciprocityResult) -> list[tuple[str, str]]:
    """Label and value of every line of the printed report, in the active language."""

    def amount(minor: int) -> str:
        return _amount(edges.to_units(minor=minor), edges.decimals)

    def share(minor: int, part: float) -> str:
        return f"{amount(minor)}  ({_percent(part)})"

    rows = []
    if edges.window:
        rows.append(
            (
                _("Period"),
                _("%(start)s to %(end)s")
                % {"start": _moment(edges.window[0]), "end": _moment(edges.window[1])},
            )
        )
    rows += [
        (_("Payments"), number_format(int(edges.amount.size), use_l10n=True)),
        (_("Members"), number_format(result.members, use_l10n=True)),
        (_("Total flow (W)"), amount(result.W)),
        (_("Returned directly within a pair (D)"), share(result.D, result.direct_share)),
        (
            _("Returned round a circle of three or more (C)"),
            share(result.C, result.circulation_share),
        ),
        (_("One-way flow, not returned (A)"), share(result.A, result.one_way_share)),
        (_("Net open balances (NID)"), share(result.nid, result.nid_share)),
        (_("Members in the largest circle of mutual reach"), _percent(result.giant_scc_share)),
        (
            _("Gini coefficient of balances"),
            _fraction(result.gini_balance, 2),
        ),
        (
            _("Gini coefficient of volume"),
            _fraction(result.gini_volume, 2),
        ),
    ]
    return rows


class Command(BaseCommand):
    help = gettext_lazy(
        "Print the reciprocity measures of one community from a CSV export of payments "
        "(columns payer, payee, amount and optionally timestamp), without using the database."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--csv",
            dest="csv_path",
            required=True,
            type=Path,
            metavar="FILE",
            help=gettext_lazy("the export"),
        )
        parser.add_argument(
            "--json",
            dest="json_path",
            type=Path,
            metavar="OUT",
            help=gettext_lazy("also write the measures to this JSON file"),
        )
        parser.add_argument(
            "--window-days",
            type=int,
            metavar="N",
            help=gettext_lazy(
                "only the payments of the last N days up to the latest timestamp in the file"
            ),
        )

    def handle(
        self,
        *args,
        csv_path: Path,
        json_path: Path | None = None,
        window_days: int | None = None,
        **options,
    ) -> None:
        try:
            edges = edge_list_read(path=csv_path, window_days=window_days)
        except EdgeListError as error:
            raise CommandError(str(error)) from None
        result = reciprocity_analyse(payer=edges.payer, payee=edges.payee, amount=edges.amount)

        rows = _table(edges=edges, result=result)
        width = max(len(label) for label, _value in rows)
        self.stdout.write(_("Reciprocity in %(file)s") % {"file": csv_path.name})
        for label, value in rows:
            self.stdout.write(f"  {label.ljust(width)}  {value}")
        if json_path is not None:
            self._write_json(path=json_path, report=_report(edges=edges, result=result))

    def _write_json(self, *, path: Path, report: dict) -> None:
        try:
            text = json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False)
            path.write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            raise CommandError(
                _("The file %(path)s cannot be written: %(reason)s")
                % {"path": path, "reason": error.strerror or error}
            ) from None
