"""Read another system's export of payments (a CSV edge list) into the arrays
that ``reciprocity.engine`` analyses, without touching the database.

The file has a header row with the columns ``payer``, ``payee`` and ``amount``,
and optionally ``timestamp``, in any order and in any case; other columns are
ignored. The delimiter is a comma, a semicolon (as Dutch spreadsheets export)
or a tab, whichever the header uses. Amounts may have a decimal point or a
decimal comma, but no thousands separators. They are read exactly and scaled to
whole numbers by the largest number of decimals present, so ``12,5`` and
``3.25`` become 1250 and 325 hundredths.

Every mistake in the file raises ``EdgeListError`` with a message that names the
line, in the active language.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final

import numpy as np
from django.utils.translation import gettext as _
from numpy.typing import NDArray

REQUIRED_COLUMNS: Final = ("payer", "payee", "amount")
TIMESTAMP_COLUMN: Final = "timestamp"
# A sign, digits, and at most one decimal separator: "12", "12.5", "12,50", ",5".
_AMOUNT = re.compile(r"^([+-]?)(\d+(?:[.,]\d*)?|[.,]\d+)$")
# Totals must stay exact in the engine's int64 arithmetic.
_LARGEST_TOTAL: Final = 2**62


class EdgeListError(ValueError):
    """The file cannot be read as an edge list; the message says where and why."""


@dataclass(frozen=True)
class EdgeList:
    """Payments as engine input, with what is needed to read the results back.

    ``names[i]`` is the payer or payee string of node ``i``. Amounts are whole
    multiples of ``10 ** -decimals`` of the file's unit. ``window`` is the
    period analysed, (start, latest), when only a window of the file was kept:
    payments later than start, up to and including latest.
    """

    payer: NDArray[np.int64]
    payee: NDArray[np.int64]
    amount: NDArray[np.int64]
    names: tuple[str, ...]
    decimals: int
    window: tuple[datetime, datetime] | None

    def to_units(self, *, minor: int) -> Decimal:
        """An integer total in minor units as an exact Decimal in the file's unit."""
        return Decimal(minor).scaleb(-self.decimals)


@dataclass(frozen=True)
class _Row:
    payer: str
    payee: str
    amount: Decimal
    timestamp: datetime | None


def _delimiter(header: str) -> str:
    for candidate in (";", "\t"):
        if candidate in header:
            return candidate
    return ","


def _amount_parse(*, text: str, line: int) -> Decimal:
    match = _AMOUNT.match(text.strip())
    if match is None:
        raise EdgeListError(
            _(
                "Line %(line)d: the amount “%(amount)s” is not a number. Write it like 12 or "
                "12,50 or 12.50, without a thousands separator."
            )
            % {"line": line, "amount": text}
        )
    sign, digits = match.groups()
    value = Decimal(digits.replace(",", "."))
    if sign == "-" and value:
        raise EdgeListError(
            _("Line %(line)d: the amount %(amount)s is negative; every payment must be positive.")
            % {"line": line, "amount": text.strip()}
        )
    if not value:
        raise EdgeListError(
            _("Line %(line)d: the amount is zero; every payment must be positive.") % {"line": line}
        )
    return value


def _timestamp_parse(*, text: str, line: int) -> datetime:
    """An ISO date or date-time; one with a time zone is taken in UTC, so that
    every timestamp in the file compares with every other."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise EdgeListError(
            _("Line %(line)d: the timestamp “%(timestamp)s” is not an ISO date or date and time.")
            % {"line": line, "timestamp": text}
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _columns(*, header: list[str]) -> dict[str, int]:
    names = [name.strip().lower() for name in header]
    positions: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in positions and name in (*REQUIRED_COLUMNS, TIMESTAMP_COLUMN):
            raise EdgeListError(
                _("Line 1: the column “%(column)s” appears twice.") % {"column": name}
            )
        positions.setdefault(name, position)
    missing = [name for name in REQUIRED_COLUMNS if name not in positions]
    if missing:
        raise EdgeListError(
            _("Line 1: the header lacks %(missing)s; it needs payer, payee and amount.")
            % {"missing": ", ".join(missing)}
        )
    return positions


def _rows(*, lines: Iterable[str], with_timestamps: bool) -> list[_Row]:
    lines = iter(lines)
    header_line = next(lines, "")
    if not header_line.strip():
        raise EdgeListError(_("Line 1: the file is empty; it needs a header row."))
    delimiter = _delimiter(header_line)
    reader = csv.reader([header_line], delimiter=delimiter)
    header = next(reader)
    columns = _columns(header=header)
    if with_timestamps and TIMESTAMP_COLUMN not in columns:
        raise EdgeListError(
            _("Line 1: a window needs a timestamp column, and the header has none.")
        )
    # Exactly as many fields as the header: with a comma as delimiter, an
    # unquoted decimal comma would otherwise split an amount in two unnoticed.
    width = len(header)
    rows = []
    reader = csv.reader(lines, delimiter=delimiter)
    for record in reader:
        line = reader.line_num + 1
        if not record or not any(field.strip() for field in record):
            continue
        if len(record) != width:
            raise EdgeListError(
                _(
                    "Line %(line)d: it has %(found)d fields, and the header has %(needed)d. "
                    "With a comma between fields, put an amount with a decimal comma in quotes."
                )
                % {"line": line, "found": len(record), "needed": width}
            )
        payer = record[columns["payer"]].strip()
        payee = record[columns["payee"]].strip()
        if not payer or not payee:
            raise EdgeListError(
                _("Line %(line)d: the payer or the payee is empty.") % {"line": line}
            )
        timestamp = None
        if with_timestamps:
            timestamp = _timestamp_parse(text=record[columns[TIMESTAMP_COLUMN]], line=line)
        amount = _amount_parse(text=record[columns["amount"]], line=line)
        rows.append(_Row(payer, payee, amount, timestamp))
    if not rows:
        raise EdgeListError(_("The file has a header but no payments."))
    return rows


def _window(*, rows: list[_Row], days: int) -> tuple[list[_Row], tuple[datetime, datetime]]:
    """The payments of the last ``days`` days, up to and including the latest one
    in the file (later than ``latest - days``), and that period."""
    latest = max(row.timestamp for row in rows if row.timestamp is not None)
    start = latest - timedelta(days=days)
    kept = [row for row in rows if row.timestamp is not None and row.timestamp > start]
    return kept, (start, latest)


def edge_list_read(*, path: Path, window_days: int | None = None) -> EdgeList:
    """Read a CSV export of payments into engine input.

    With ``window_days``, only the payments of the last that many days (counted
    back from the latest timestamp in the file) are kept; every line then needs
    an ISO date or date-time. A date without a time counts as its midnight.

    Raises EdgeListError, naming the line, for a missing or doubled column, a
    line with too few fields, an empty payer or payee, an amount that is not a
    number, zero or negative, or a timestamp that is not ISO; and for a file
    that cannot be read as UTF-8 text or holds no payments.
    """
    if window_days is not None and window_days < 1:
        raise EdgeListError(_("The window must be at least one day."))
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = _rows(lines=handle, with_timestamps=window_days is not None)
    except UnicodeDecodeError:
        raise EdgeListError(
            _("The file is not UTF-8 text; export it again as UTF-8 (CSV UTF-8 in a spreadsheet).")
        ) from None
    except OSError as error:
        raise EdgeListError(
            _("The file %(path)s cannot be read: %(reason)s")
            % {"path": path, "reason": error.strerror or error}
        ) from None
    window = None
    if window_days is not None:
        rows, window = _window(rows=rows, days=window_days)

    decimals = max(max(-row.amount.as_tuple().exponent, 0) for row in rows)
    scale = 10**decimals
    amounts = [int(row.amount * scale) for row in rows]
    if sum(amounts) >= _LARGEST_TOTAL:
        raise EdgeListError(_("The amounts add up to more than this report can count exactly."))
    names: dict[str, int] = {}
    payer = [names.setdefault(row.payer, len(names)) for row in rows]
    payee = [names.setdefault(row.payee, len(names)) for row in rows]
    return EdgeList(
        payer=np.array(payer, dtype=np.int64),
        payee=np.array(payee, dtype=np.int64),
        amount=np.array(amounts, dtype=np.int64),
        names=tuple(names),
        decimals=decimals,
        window=window,
    )
