"""One community's ledger, read in bulk as arrays for the analysis.

Three things, none with a Python loop over transfers:

- **payments**: what each account paid each other account per day, and how
  many payments that was. Money goes from the payer's account (its negative
  entry) to the payee's (its positive entry); the payee is the one who *gave*
  help. A transfer that was reversed and its reversal are both left out: a
  corrected mistake is no exchange.
- **movements**: every entry per account and day, reversals included, so
  that a balance on any day is what the member's statement said that day.
- **paid exchanges** per day, kind of help and the member who helped.

Payments and movements come from one read of the community's entries and
one of its transfers, put together by transfer id and added up in numpy:
grouped in the database they would not get any smaller, and joining each
entry to its transfer there cost an index lookup per entry. The exchanges
are added up in the database.

A transfer's day is the date on its cheque (``occurred_on``) or else the day
it was recorded, in ``settings.TIME_ZONE``. Nodes are the community's
accounts in id order; the system accounts (community account, pot) are listed
in ``system_nodes`` for the engine to merge into one node. Every ledger
service writes transfers with exactly two entries, which the payment read
relies on.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date
from operator import itemgetter

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DateField, Exists, OuterRef
from django.db.models.functions import Coalesce, TruncDate
from numpy.typing import NDArray

from accounts.models import Community
from ledger.models import Account, AccountKind, Entry, Transfer
from listings.models import Exchange, ExchangeStatus


@dataclass(frozen=True)
class CommunityLedger:
    """Arrays over one community's accounts (nodes) and days (``datetime64[D]``)."""

    account_ids: NDArray[np.int64]
    # The membership of each node; -1 for a system account.
    membership_ids: NDArray[np.int64]
    system_nodes: NDArray[np.int64]
    # The limits in force now, the community's defaults filled in.
    floors: NDArray[np.int64]
    ceilings: NDArray[np.int64]
    # Payments per (payer, payee, day): their total and their number.
    payer: NDArray[np.int64]
    payee: NDArray[np.int64]
    day: NDArray[np.datetime64]
    amount: NDArray[np.int64]
    count: NDArray[np.int64]
    # Entries per (node, day), reversals included.
    movement_node: NDArray[np.int64]
    movement_day: NDArray[np.datetime64]
    movement_amount: NDArray[np.int64]
    # Paid exchanges per (day, kind of help, helper's membership).
    exchange_day: NDArray[np.datetime64]
    exchange_help_type: NDArray[np.str_]
    exchange_provider: NDArray[np.int64]
    exchange_count: NDArray[np.int64]

    @property
    def node_count(self) -> int:
        return int(self.account_ids.size)

    def payments_in(self, *, after: date | None, until: date) -> NDArray[np.bool_]:
        """Which payment rows fall in (after, until]; from the start when ``after`` is None."""
        return _days_in(self.day, after=after, until=until)

    def exchanges_in(self, *, after: date | None, until: date) -> NDArray[np.bool_]:
        return _days_in(self.exchange_day, after=after, until=until)


def _days_in(days: NDArray[np.datetime64], *, after: date | None, until: date) -> NDArray:
    inside = days <= np.datetime64(until, "D")
    if after is not None:
        inside &= days > np.datetime64(after, "D")
    return inside


def _transfer_day(prefix: str = "") -> Coalesce:
    """The exchange's date: the cheque's, or the local day it was recorded."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return Coalesce(
        f"{prefix}occurred_on",
        TruncDate(f"{prefix}created_at", tzinfo=zone),
        output_field=DateField(),
    )


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _array(column: list, dtype) -> NDArray:
    if dtype == "datetime64[D]" and None not in column:
        # Dates as day numbers: numpy's own conversion of date objects takes
        # about fifteen times as long.
        ordinals = np.fromiter(map(date.toordinal, column), dtype=np.int64, count=len(column))
        return (ordinals - _EPOCH_ORDINAL).astype("datetime64[D]")
    return np.array(column, dtype=dtype).reshape(-1)


def _columns(rows: list[tuple], *dtypes) -> list[NDArray]:
    """The rows of a query as one array per column. Each column is picked out
    of the rows with ``itemgetter``: transposing with ``zip(*rows)`` took
    twice as long, as long as the query."""
    return [_array(list(map(itemgetter(i), rows)), dtype) for i, dtype in enumerate(dtypes)]


def _filled(values: NDArray, default: int) -> NDArray[np.int64]:
    """An account's own limits, or the community's default where it has none."""
    return np.where(np.equal(values, None), default, values).astype(np.int64)


def _grouped(*keys: NDArray) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rows with the same ``keys`` as one group, the groups in the order of the
    keys (as ``np.unique(..., axis=0)`` orders them, without its slow sort of
    whole rows): the first row of each group, and the group of every row."""
    order = np.lexsort(keys[::-1])
    starts = np.ones(order.size, dtype=bool)
    for key in keys:
        ordered = key[order]
        starts[1:] &= ordered[1:] == ordered[:-1]
    starts = ~starts
    if order.size:
        starts[0] = True
    group = np.empty(order.size, dtype=np.int64)
    group[order] = np.cumsum(starts) - 1
    return order[starts], group


def _payments_per_day(
    payer: NDArray[np.int64],
    payee: NDArray[np.int64],
    day: NDArray[np.datetime64],
    amount: NDArray[np.int64],
) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
    """Transfers added up per (payer, payee, day): the totals and how many."""
    first, group = _grouped(payer, payee, day.astype(np.int64))
    totals = np.zeros(first.size, dtype=np.int64)
    np.add.at(totals, group, amount)  # exact in integers, unlike weighted bincount
    counts = np.bincount(group, minlength=first.size).astype(np.int64)
    return payer[first], payee[first], day[first], totals, counts


def _transfer_sides(
    row: NDArray[np.int64],
    transfers: int,
    account: NDArray[np.int64],
    amount: NDArray[np.int64],
    day: NDArray[np.datetime64],
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """One row per transfer from its entries (``row``: the entry's transfer,
    0..transfers-1): the payer's account (of the negative entry), the payee's
    (of the positive one), the transfer's ``day`` and the amount (the largest
    entry). A transfer has exactly two entries; one without a negative or a
    positive entry is left out."""
    lowest = np.iinfo(np.int64).min
    payer = np.full(transfers, lowest, dtype=np.int64)
    payee = np.full(transfers, lowest, dtype=np.int64)
    moved = np.full(transfers, lowest, dtype=np.int64)
    paid, got = amount < 0, amount > 0
    np.maximum.at(payer, row[paid], account[paid])
    np.maximum.at(payee, row[got], account[got])
    np.maximum.at(moved, row, amount)
    whole = (payer != lowest) & (payee != lowest)
    return payer[whole], payee[whole], day[whole], moved[whole]


def _movements_per_day(
    account: NDArray[np.int64], day: NDArray[np.datetime64], amount: NDArray[np.int64]
) -> tuple[NDArray, NDArray, NDArray]:
    """Entries added up per (account, day)."""
    first, group = _grouped(account, day.astype(np.int64))
    totals = np.zeros(first.size, dtype=np.int64)
    np.add.at(totals, group, amount)
    return account[first], day[first], totals


# For the analysis's reads on PostgreSQL, to the end of the transaction: one
# community's rows are a small part of large tables, found through the
# account index. Left to itself the planner scans the whole entry table with
# parallel workers (which compete with the other analysis jobs for the same
# cores) and compiles the query with JIT, which alone costs most of a second.
ANALYSIS_READ_SETTINGS = (
    "SET LOCAL jit = off",
    "SET LOCAL max_parallel_workers_per_gather = 0",
    "SET LOCAL random_page_cost = 1.1",
)


def community_ledger_read(*, community: Community) -> CommunityLedger:
    """Everything the analysis needs from ``community``'s books, in four queries."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for statement in ANALYSIS_READ_SETTINGS:
                    cursor.execute(statement)
        return _community_ledger_read(community=community)


def _community_ledger_read(*, community: Community) -> CommunityLedger:
    account_ids, kinds, membership_ids, floors, ceilings = _columns(
        list(
            Account.objects.filter(community=community)
            .order_by("pk")
            .values_list("pk", "kind", "membership_id", "floor", "ceiling")
        ),
        np.int64,
        object,
        object,
        object,
        object,
    )
    system = kinds != AccountKind.MEMBER

    # Every entry once, then every transfer once, put together here by
    # transfer id. Joined in the database, each entry looked its transfer up
    # in the index of every circle's transfers, and again for "reversed
    # since", which was most of the read. The entries come first: a transfer
    # recorded between the two reads is then in the second (transfers are
    # never deleted), so every entry finds its transfer.
    entry_transfer, entry_account, entry_amount = _columns(
        list(
            Entry.objects.filter(account__community=community)
            .values_list("transfer_id", "account_id", "amount")
            .order_by()
        ),
        np.int64,
        np.int64,
        np.int64,
    )
    # A reversal names its original, in the same community.
    transfer_ids, transfer_day, reverses = _columns(
        list(
            Transfer.objects.filter(community=community)
            .values_list("pk", _transfer_day(), Coalesce("reverses_id", 0))
            .order_by("pk")
        ),
        np.int64,
        "datetime64[D]",
        np.int64,
    )
    # Undone: a reversal, or reversed since.
    undone = (reverses != 0) | np.isin(transfer_ids, reverses[reverses != 0])
    row = np.searchsorted(transfer_ids, entry_transfer)
    kept = ~undone[row]
    payer, payee, day, amount, count = _payments_per_day(
        *_transfer_sides(
            row[kept], transfer_ids.size, entry_account[kept], entry_amount[kept], transfer_day
        )
    )
    movement_account, movement_day, movement_amount = _movements_per_day(
        entry_account, transfer_day[row], entry_amount
    )
    exchange_day, help_type, provider, exchange_count = _columns(
        list(
            Exchange.objects.filter(
                community=community, status=ExchangeStatus.PAID, transfer__isnull=False
            )
            .exclude(Exists(Transfer.objects.filter(reverses=OuterRef("transfer"))))
            .values("provider_id", "listing__help_type", day=_transfer_day("transfer__"))
            .annotate(exchanges=Count("pk"))
            .values_list("day", "listing__help_type", "provider_id", "exchanges")
            .order_by()
        ),
        "datetime64[D]",
        object,
        np.int64,
        np.int64,
    )

    def node(accounts: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.searchsorted(account_ids, accounts).astype(np.int64)

    return CommunityLedger(
        account_ids=account_ids,
        membership_ids=np.where(system, -1, membership_ids).astype(np.int64),
        system_nodes=np.flatnonzero(system).astype(np.int64),
        floors=_filled(floors, community.default_floor),
        ceilings=_filled(ceilings, community.default_ceiling),
        payer=node(payer),
        payee=node(payee),
        day=day,
        amount=amount,
        count=count,
        movement_node=node(movement_account),
        movement_day=movement_day,
        movement_amount=movement_amount,
        exchange_day=exchange_day,
        exchange_help_type=np.where(np.equal(help_type, None), "", help_type).astype(np.str_),
        exchange_provider=provider,
        exchange_count=exchange_count,
    )
