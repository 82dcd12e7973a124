"""Writes of the reciprocity app: the analysis that stores snapshots, the runs
that carry it, and (further down) the coordinator's flag workflow.

The analysis reads one community's books in bulk (``reciprocity.edges``),
splits the flow with ``reciprocity.engine`` and stores what it finds per month
and scope as snapshots, so that every page only reads.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.db.models import Count, Exists, JSONField, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from numpy.typing import NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

from accounts.models import AuditAction, Community, Membership, Status, User
from accounts.selectors import user_is_coordinator
from accounts.services import audit_record
from jobs.services import enqueue
from listings.models import Exchange, Listing, ListingKind, ListingStatus
from reciprocity.edges import CommunityLedger, community_ledger_read
from reciprocity.engine import ReciprocityResult, reciprocity_analyse
from reciprocity.flags import DEFAULT_THRESHOLDS, THRESHOLD_SPECS, window_days_of
from reciprocity.models import (
    AnalysisRun,
    AreaSnapshot,
    CommunitySnapshot,
    Flag,
    FlagEvent,
    FlagStatus,
    MemberSnapshot,
    PairSnapshot,
    ReciprocitySettings,
    RunStatus,
    Scope,
)
from reciprocity.transitions import FLAG_TRANSITIONS, FlagActor
from ruilkring.errors import InvalidInput, NotAllowed, NotFound, TransitionNotAllowed

TREND_DAYS = 90
LOAD_DAYS = 30
PAIR_MIN_PAYMENTS = 3
PAIR_RECENT_WEEKS = 8
UNTAKEN_OFFER_DAYS = 90
NEAR_LIMIT_SHARE = (4, 5)  # a balance at or below 4/5 of a negative floor
HISTOGRAM_BUCKETS = 8
# A balance that falls so slowly that it would take longer than this to reach
# the floor is, for anyone alive, not heading there; it also keeps the number
# inside the database column.
DAYS_TO_FLOOR_MAX = 100 * 365
# A run that has not finished after this long was lost with its worker, and no
# longer stops a coordinator from starting a new one.
RUN_ABANDONED_AFTER = timedelta(hours=6)


def _month_end(period: date) -> date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def _typical_payment(amounts: NDArray, counts: NDArray) -> float:
    """The skew's damping: one typical payment (the median of the average
    payment per payer, payee and day). A member with a handful of small trades
    stays near zero; one who only received for months is near -1, as a member
    who only receives can do no more than reach the credit limit. Damping with
    a member's typical volume instead would keep such a member above -0.8."""
    if not len(amounts):
        return 0.0
    return float(np.median(amounts / np.maximum(counts, 1)))


def _per_node(index: NDArray[np.int64], values: NDArray, size: int) -> NDArray:
    """``values`` added up per node, exactly in their own dtype."""
    totals = np.zeros(size, dtype=values.dtype)
    np.add.at(totals, index, values)
    return totals


def _day_number(day: date) -> int:
    return int(np.datetime64(day, "D").astype(np.int64))


def _last_day(index: NDArray[np.int64], days: NDArray[np.int64], size: int) -> list[date | None]:
    """Per node the latest of ``days`` (day numbers), or None."""
    latest = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest, index, days)
    # The smallest int64 is numpy's NaT, which becomes None.
    return latest.astype("datetime64[D]").tolist()


@dataclass(frozen=True)
class _Members:
    """The memberships of the community at ``as_of`` (active or leaving then)."""

    ids: NDArray[np.int64]
    node: NDArray[np.int64]  # their account's node, -1 without an account
    area: NDArray[np.int64]  # -1 without an area
    joined: list[date | None]


def _members_at(*, community: Community, ledger: CommunityLedger, as_of: date) -> _Members:
    """Members then: admitted by ``as_of`` and not yet gone. Someone who left
    later counts for the months they were there; the status history is not
    replayed, so a member suspended now is left out of every month."""
    zone = timezone.get_default_timezone()
    rows = []
    for pk, area_id, joined_at, left_at in (
        Membership.objects.filter(community=community, joined_at__isnull=False)
        .filter(
            Q(status__in=(Status.ACTIVE, Status.LEAVING))
            | Q(status=Status.LEFT, left_at__isnull=False)
        )
        .order_by("pk")
        .values_list("pk", "area_id", "joined_at", "left_at")
    ):
        joined = timezone.localtime(joined_at, zone).date()
        gone = left_at is not None and timezone.localtime(left_at, zone).date() <= as_of
        if joined <= as_of and not gone:
            rows.append((pk, area_id, joined))
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    by_membership = dict(zip(ledger.membership_ids.tolist(), range(ledger.node_count), strict=True))
    by_membership.pop(-1, None)  # the system accounts
    return _Members(
        ids=ids,
        node=np.array([by_membership.get(m, -1) for m in ids.tolist()], dtype=np.int64),
        area=np.array([-1 if row[1] is None else row[1] for row in rows], dtype=np.int64),
        joined=[row[2] for row in rows],
    )


@dataclass(frozen=True)
class _ScopeFlow:
    """The flow of one scope, per node, with the engine's result."""

    result: ReciprocityResult
    mask: NDArray[np.bool_]
    given: NDArray[np.int64]
    received: NDArray[np.int64]
    gives: NDArray[np.int64]
    receipts: NDArray[np.int64]
    helped: NDArray[np.int64]
    helped_by: NDArray[np.int64]
    partners: NDArray[np.int64]
    effective_partners: NDArray[np.float64]
    skew: NDArray[np.float64]
    direct_returned_share: NDArray[np.float64]
    cycle_bin: list[str]
    in_giant: NDArray[np.bool_]


def _distinct(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """The distinct ``values``, sorted. ``np.unique`` without ``return_inverse``
    hashes the values (numpy 2.4), which on the 10^5 keys of a large community
    takes about thirty times as long as sorting them."""
    ordered = np.sort(values)
    first = np.ones(ordered.size, dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first]


def _distinct_counterparts(
    mine: NDArray[np.int64], theirs: NDArray[np.int64], size: int
) -> NDArray[np.int64]:
    pairs = _distinct(mine * size + theirs)
    return np.bincount(pairs // size, minlength=size).astype(np.int64)


def _giant_component(
    *, ledger: CommunityLedger, tails: NDArray, heads: NDArray, has_flow: NDArray
) -> NDArray[np.bool_]:
    """Members in the largest strongly connected component of the flow graph,
    with the system accounts as one node, as the engine counts its share."""
    n = ledger.node_count
    merged = np.arange(n + 1)
    merged[ledger.system_nodes] = n
    graph = csr_array(
        (np.ones(tails.size, dtype=np.int8), (merged[tails], merged[heads])), shape=(n + 1, n + 1)
    )
    _, labels = connected_components(graph, directed=True, connection="strong")
    members = np.flatnonzero(has_flow)
    if not members.size:
        return np.zeros(n, dtype=bool)
    giant = np.bincount(labels[members]).argmax()
    return has_flow & (labels[:n] == giant)


def _scope_flow(*, ledger: CommunityLedger, mask: NDArray[np.bool_]) -> _ScopeFlow:
    n = ledger.node_count
    tails, heads = ledger.payer[mask], ledger.payee[mask]
    amounts, counts = ledger.amount[mask], ledger.count[mask]
    result = reciprocity_analyse(
        payer=tails,
        payee=heads,
        amount=amounts,
        node_count=max(n, 1),
        system_nodes=ledger.system_nodes,
        skew_k=_typical_payment(amounts, counts),
    )
    is_system = np.zeros(n, dtype=bool)
    is_system[ledger.system_nodes] = True
    people = ~is_system[tails] & ~is_system[heads] & (tails != heads)

    def spread(values, fill, dtype) -> NDArray:
        full = np.full(n, fill, dtype=dtype)
        full[result.member.node] = values
        return full

    bins = np.full(n, "", dtype=object)
    bins[result.member.node] = [b or "" for b in result.member.cycle_returned_bin]
    given = _per_node(heads, amounts, n)
    received = _per_node(tails, amounts, n)
    return _ScopeFlow(
        result=result,
        mask=mask,
        given=given,
        received=received,
        gives=_per_node(heads, counts, n),
        receipts=_per_node(tails, counts, n),
        helped=_distinct_counterparts(heads[people], tails[people], n),
        helped_by=_distinct_counterparts(tails[people], heads[people], n),
        partners=_distinct_counterparts(
            np.concatenate([heads[people], tails[people]]),
            np.concatenate([tails[people], heads[people]]),
            n,
        ),
        effective_partners=spread(result.member.effective_partners, 0.0, np.float64),
        skew=spread(result.member.skew, 0.0, np.float64),
        direct_returned_share=spread(result.member.direct_returned_share, np.nan, np.float64),
        cycle_bin=bins.tolist(),
        in_giant=_giant_component(
            ledger=ledger, tails=tails, heads=heads, has_flow=(given + received > 0) & ~is_system
        ),
    )


@dataclass(frozen=True)
class _Standing:
    """What holds per member at ``as_of`` whatever the scope."""

    balance: NDArray[np.int64]
    floor: NDArray[np.int64]
    ceiling: NDArray[np.int64]
    trend: NDArray[np.float64]
    days_to_floor: list[int | None]
    load_30d: NDArray[np.int64]
    load_median: NDArray[np.int64]
    last_gave: list[date | None]
    last_received: list[date | None]
    last_spent: list[date | None]
    trades: NDArray[np.int64]


def _standing(
    *, ledger: CommunityLedger, members: _Members, as_of: date, window_days: int
) -> _Standing:
    n = ledger.node_count
    end = _day_number(as_of)
    moved = ledger.movement_day.astype(np.int64)
    node, amount = ledger.movement_node, ledger.movement_amount
    balance = _per_node(node[moved <= end], amount[moved <= end], n)

    # Daily balances over the last TREND_DAYS days, and their least-squares slope.
    first = end - TREND_DAYS + 1
    changes = np.zeros((n, TREND_DAYS), dtype=np.int64)
    recent = (moved >= first) & (moved <= end)
    np.add.at(changes, (node[recent], moved[recent] - first), amount[recent])
    before = _per_node(node[moved < first], amount[moved < first], n)
    daily = before[:, None] + np.cumsum(changes, axis=1)
    offsets = np.arange(TREND_DAYS, dtype=np.float64) - (TREND_DAYS - 1) / 2
    trend = (daily - daily.mean(axis=1, keepdims=True)) @ offsets / (offsets**2).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        runway = np.where(trend < 0, (balance - ledger.floors) / -trend, np.nan)
    days_to_floor = [
        None if np.isnan(days) else int(min(max(days, 0), DAYS_TO_FLOOR_MAX)) for days in runway
    ]

    # Giving per 30-day block of the window, the last block ending at as_of.
    paid_day = ledger.day.astype(np.int64)
    upto = paid_day <= end
    blocks = max(window_days // LOAD_DAYS, 1)
    age = end - paid_day
    in_blocks = upto & (age < blocks * LOAD_DAYS)
    loads = np.zeros((n, blocks), dtype=np.int64)
    np.add.at(
        loads,
        (ledger.payee[in_blocks], age[in_blocks] // LOAD_DAYS),
        ledger.amount[in_blocks],
    )
    # Only the blocks that end after the member joined count towards their usual load.
    block_ends = end - LOAD_DAYS * np.arange(blocks)
    joined = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    known = members.node >= 0
    joined[members.node[known]] = [
        _day_number(day) if day else np.iinfo(np.int64).min
        for day, k in zip(members.joined, known, strict=True)
        if k
    ]
    counted = np.where(block_ends[None, :] >= joined[:, None], loads.astype(np.float64), np.nan)
    with np.errstate(all="ignore"):
        medians = np.nan_to_num(np.nanmedian(counted, axis=1))

    is_system = np.zeros(n, dtype=bool)
    is_system[ledger.system_nodes] = True
    to_person = upto & ~is_system[ledger.payee]
    return _Standing(
        balance=balance,
        floor=ledger.floors,
        ceiling=ledger.ceilings,
        trend=trend,
        days_to_floor=days_to_floor,
        load_30d=loads[:, 0].copy(),
        load_median=np.rint(medians).astype(np.int64),
        last_gave=_last_day(ledger.payee[upto], paid_day[upto], n),
        last_received=_last_day(ledger.payer[to_person], paid_day[to_person], n),
        last_spent=_last_day(ledger.payer[upto], paid_day[upto], n),
        trades=_per_node(ledger.payer[upto], ledger.count[upto], n)
        + _per_node(ledger.payee[upto], ledger.count[upto], n),
    )


def _listing_counts(*, community: Community, today: date) -> dict[int, dict[str, int]]:
    """Per owner: listings as they stand on ``today``."""
    # Open at least UNTAKEN_OFFER_DAYS days: placed before the start of this day.
    untaken_before = timezone.make_aware(
        datetime.combine(today - timedelta(days=UNTAKEN_OFFER_DAYS - 1), time.min)
    )
    active_offer = Q(kind=ListingKind.OFFER, status=ListingStatus.ACTIVE)
    rows = (
        Listing.objects.filter(community=community)
        .annotate(taken=Exists(Exchange.objects.filter(listing=OuterRef("pk"))))
        .values("owner_id")
        .annotate(
            open_offers=Count("pk", filter=active_offer),
            open_requests=Count(
                "pk", filter=Q(kind=ListingKind.REQUEST, status=ListingStatus.ACTIVE)
            ),
            offers_untaken=Count(
                "pk", filter=active_offer & Q(taken=False, created_at__lt=untaken_before)
            ),
            requests_ever=Count("pk", filter=Q(kind=ListingKind.REQUEST)),
        )
        .order_by()
    )
    return {row.pop("owner_id"): row for row in rows}


def _help_types(ledger: CommunityLedger, mask: NDArray[np.bool_]) -> dict[str, int]:
    kinds = ledger.exchange_help_type[mask]
    counts = ledger.exchange_count[mask]
    named = kinds != ""
    labels, position = np.unique(kinds[named], return_inverse=True)
    totals = _per_node(position, counts[named], labels.size)
    return {str(label): int(total) for label, total in zip(labels, totals, strict=True)}


def _histogram(balances: NDArray[np.int64], unit: int) -> list[list[int]]:
    """About HISTOGRAM_BUCKETS buckets of balances, each as [upper bound, count];
    the bounds are whole units, so the page can label them plainly."""
    if not balances.size:
        return []
    low, high = int(balances.min()), int(balances.max())
    if low == high:
        return [[high, int(balances.size)]]
    bounds = np.linspace(low, high, HISTOGRAM_BUCKETS + 1)[1:]
    bounds = np.unique(np.ceil(bounds / unit).astype(np.int64) * unit)
    bucket = np.searchsorted(bounds, balances, side="left")
    counts = np.bincount(bucket, minlength=bounds.size)
    return [[int(b), int(c)] for b, c in zip(bounds, counts, strict=True)]


def community_analyse(
    *, community: Community, period: date, today: date | None = None, run: AnalysisRun | None = None
) -> None:
    """Compute and store ``community``'s snapshots for the month ``period``.

    ``period`` is the first day of a month, not after the current one. The
    month is measured up to its last day, or up to ``today`` for the current
    month, over the community's window and over all time. Running it again
    replaces that month's rows with the same values; nothing else changes.
    Raises InvalidInput for a ``period`` that is not the first of a month or
    lies in the future.
    """
    today = today or timezone.localdate()
    ledger = community_ledger_read(community=community)
    _period_analyse(community=community, period=period, today=today, ledger=ledger)


def _period_analyse(
    *, community: Community, period: date, today: date, ledger: CommunityLedger
) -> None:
    if period.day != 1 or period > today:
        raise InvalidInput(_("Choose the first day of a month that has begun."), field="period")
    as_of = min(_month_end(period), today)
    window_days = window_days_of(community=community)
    window_after = as_of - timedelta(days=window_days)
    members = _members_at(community=community, ledger=ledger, as_of=as_of)
    standing = _standing(ledger=ledger, members=members, as_of=as_of, window_days=window_days)
    listings = _listing_counts(community=community, today=today)
    scopes = {
        Scope.WINDOW: _scope_flow(
            ledger=ledger, mask=ledger.payments_in(after=window_after, until=as_of)
        ),
        Scope.ALL_TIME: _scope_flow(
            ledger=ledger, mask=ledger.payments_in(after=None, until=as_of)
        ),
    }
    exchanges = {
        Scope.WINDOW: ledger.exchanges_in(after=window_after, until=as_of),
        Scope.ALL_TIME: ledger.exchanges_in(after=None, until=as_of),
    }
    now = timezone.now()
    with transaction.atomic():
        for scope, flow in scopes.items():
            _community_store(
                community=community,
                period=period,
                scope=scope,
                as_of=as_of,
                window_start=window_after + timedelta(days=1) if scope == Scope.WINDOW else None,
                computed_at=now,
                ledger=ledger,
                members=members,
                standing=standing,
                flow=flow,
                exchanges=exchanges[scope],
            )
        _areas_store(
            community=community,
            period=period,
            ledger=ledger,
            members=members,
            scopes=scopes,
            exchanges=exchanges,
        )
        _members_store(
            community=community,
            period=period,
            as_of=as_of,
            members=members,
            standing=standing,
            scopes=scopes,
            listings=listings,
        )
        _pairs_store(
            community=community,
            period=period,
            as_of=as_of,
            ledger=ledger,
            mask=scopes[Scope.WINDOW].mask,
        )


def _community_store(
    *,
    community: Community,
    period: date,
    scope: str,
    as_of: date,
    window_start: date | None,
    computed_at,
    ledger: CommunityLedger,
    members: _Members,
    standing: _Standing,
    flow: _ScopeFlow,
    exchanges: NDArray[np.bool_],
) -> None:
    result = flow.result
    node = members.node[members.node >= 0]
    gave, got = flow.given[node] > 0, flow.received[node] > 0
    balances = standing.balance[node]
    floors = ledger.floors[node]
    near, whole = NEAR_LIMIT_SHARE
    near_limit = (floors < 0) & (whole * balances <= near * floors)
    outstanding = int(np.abs(standing.balance).sum()) / 2
    CommunitySnapshot.objects.update_or_create(
        community=community,
        period=period,
        scope=scope,
        defaults={
            "as_of": as_of,
            "window_start": window_start,
            "computed_at": computed_at,
            "W": result.W,
            "D": result.D,
            "C": result.C,
            "A": result.A,
            "nid": result.nid,
            "transfers": int(ledger.count[flow.mask].sum()),
            "exchanges": int(ledger.exchange_count[exchanges].sum()),
            "members": int(members.ids.size),
            "active_members": int((gave | got).sum()),
            "two_sided_members": int((gave & got).sum()),
            "near_limit_members": int(near_limit.sum()),
            "giant_scc_share": result.giant_scc_share,
            "gini_balance": result.gini_balance,
            "gini_volume": result.gini_volume,
            # Squartini et al.: the part of the flow matched in the opposite direction.
            "weighted_reciprocity": result.direct_share,
            "velocity": result.W / outstanding if outstanding else 0.0,
            "help_types": _help_types(ledger, exchanges),
            "balance_histogram": _histogram(
                np.concatenate([balances, np.zeros((members.node < 0).sum(), np.int64)]),
                community.unit_scale,
            ),
        },
    )


def _areas_store(
    *,
    community: Community,
    period: date,
    ledger: CommunityLedger,
    members: _Members,
    scopes: dict[str, _ScopeFlow],
    exchanges: dict[str, NDArray[np.bool_]],
) -> None:
    # Every node's area (the membership's area now); -2 for system accounts.
    area_of_membership = dict(
        Membership.objects.filter(community=community).values_list("pk", "area_id")
    )
    node_area = np.array(
        [-2 if m < 0 else (area_of_membership.get(int(m)) or -1) for m in ledger.membership_ids],
        dtype=np.int64,
    )
    provider_area = np.array(
        [area_of_membership.get(int(m)) or -1 for m in ledger.exchange_provider], dtype=np.int64
    )
    area_ids = [*community.areas.values_list("pk", flat=True), None]
    records = []
    for scope, flow in scopes.items():
        tails, heads = ledger.payer[flow.mask], ledger.payee[flow.mask]
        amounts, counts = ledger.amount[flow.mask], ledger.count[flow.mask]
        for area_id in area_ids:
            code = -1 if area_id is None else area_id
            in_area = members.area == code
            node = members.node[in_area & (members.node >= 0)]
            gave, got = flow.given[node] > 0, flow.received[node] > 0
            given_here = node_area[heads] == code
            inside = given_here & (node_area[tails] == code)
            volume = int(amounts[given_here].sum())
            circulation = (
                reciprocity_analyse(
                    payer=tails[inside],
                    payee=heads[inside],
                    amount=amounts[inside],
                    node_count=ledger.node_count,
                ).C
                if inside.any()
                else 0
            )
            here = exchanges[scope] & (provider_area == code)
            records.append(
                {
                    "community_id": community.pk,
                    "area_id": area_id,
                    "period": period,
                    "scope": scope,
                    "members": int(in_area.sum()),
                    "active_members": int((gave | got).sum()),
                    "two_sided_members": int((gave & got).sum()),
                    "exchanges": int(counts[given_here].sum()),
                    "volume": volume,
                    "circulation_share": circulation / volume if volume else 0.0,
                    "help_types": _help_types(ledger, here),
                }
            )
    _rows_store(
        AreaSnapshot,
        rows={name: [record[name] for record in records] for name in records[0]},
        unique_fields=["community_id", "area_id", "period", "scope"],
        within={"community_id": community.pk, "period": period},
    )


def _rows_store(model, *, rows: dict[str, list], unique_fields: list[str], within: dict) -> None:
    """Make the rows of ``model`` that match ``within`` (field values, such as
    one community's month) exactly ``rows`` (one list per field, by attribute
    name): a row with the same ``unique_fields`` as one that exists updates it
    and keeps its id, the others are added, and the rows within that are not
    among ``rows`` are deleted.

    On PostgreSQL the rows go with COPY into a temporary table, and from there
    in one INSERT and one DELETE: ``bulk_create``, or the columns sent as array
    parameters, prepare every value of every row on its own in Python, which
    took longer than the rest of storing a month; COPY writes them in
    psycopg's C code."""
    if connection.vendor != "postgresql":
        _rows_store_portably(model, rows=rows, unique_fields=unique_fields, within=within)
        return
    meta, quote = model._meta, connection.ops.quote_name
    fields = {name: meta.get_field(name) for name in rows}
    # A JSON value needs its field's adapter; every other value COPY writes as it is.
    values = [
        [field.get_db_prep_save(value, connection) for value in rows[name]]
        if isinstance(field, JSONField)
        else rows[name]
        for name, field in fields.items()
    ]
    table, staged = quote(meta.db_table), quote(f"{meta.db_table}_staged")
    columns = [quote(field.column) for field in fields.values()]
    names = ", ".join(columns)
    keys = [quote(meta.get_field(name).column) for name in unique_fields]
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns if column not in keys)
    inside = " AND ".join(f"{quote(meta.get_field(name).column)} = %s" for name in within)
    # NULL keys (the members without an area) match each other, as in the
    # unique constraint. Only where a key can be NULL: the database cannot
    # hash IS NOT DISTINCT FROM, and compared every row with every staged one.
    same = " AND ".join(
        f"{table}.{key} {'IS NOT DISTINCT FROM' if meta.get_field(name).null else '='} "
        f"{staged}.{key}"
        for name, key in zip(unique_fields, keys, strict=True)
    )
    # Only quoted names from the model go into the text; the values are
    # parameters or go by COPY. The staging table lasts as long as the
    # transaction at most.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staged} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
        with cursor.copy(f"COPY {staged} ({names}) FROM STDIN") as copy:
            for row in zip(*values, strict=True):
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {staged} "  # noqa: S608
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
        )
        cursor.execute(
            f"DELETE FROM {table} WHERE {inside} "  # noqa: S608
            f"AND NOT EXISTS (SELECT FROM {staged} WHERE {same})",
            list(within.values()),
        )
        cursor.execute(f"DROP TABLE {staged}")


def _rows_store_portably(
    model, *, rows: dict[str, list], unique_fields: list[str], within: dict
) -> None:
    """``_rows_store`` with the ORM alone, for SQLite, whose unique constraints
    do not treat NULLs as equal: the rows that exist are looked up first."""
    existing = {
        tuple(key): pk
        for pk, *key in model.objects.filter(**within).values_list("pk", *unique_fields)
    }
    objects = [
        model(**dict(zip(rows, values, strict=True))) for values in zip(*rows.values(), strict=True)
    ]
    for instance in objects:
        instance.pk = existing.pop(tuple(getattr(instance, name) for name in unique_fields), None)
    model.objects.bulk_update(
        [instance for instance in objects if instance.pk is not None],
        [name for name in rows if name not in unique_fields],
    )
    model.objects.bulk_create([instance for instance in objects if instance.pk is None])
    model.objects.filter(pk__in=list(existing.values())).delete()


def _members_store(
    *,
    community: Community,
    period: date,
    as_of: date,
    members: _Members,
    standing: _Standing,
    scopes: dict[str, _ScopeFlow],
    listings: dict[int, dict[str, int]],
) -> None:
    count = int(members.ids.size)
    known = members.node >= 0
    node = np.where(known, members.node, 0)

    def per_member(values, default) -> list:
        """``values`` (one per node) at each member's node; ``default`` without an account."""
        if not known.any():
            return [default] * count
        values = np.asarray(values, dtype=object) if isinstance(values, list) else values
        return np.where(known, values[node], default).tolist()

    def share(values: NDArray[np.float64]) -> list:
        shares = np.where(known, values[node], np.nan) if known.any() else np.full(count, np.nan)
        stored = shares.astype(object)
        stored[np.isnan(shares)] = None
        return stored.tolist()

    no_listings = {"open_offers": 0, "open_requests": 0, "offers_untaken": 0, "requests_ever": 0}
    counts = [listings.get(membership_id, no_listings) for membership_id in members.ids.tolist()]
    # What is the same in both scopes.
    common = {
        "community_id": [community.pk] * count,
        "membership_id": members.ids.tolist(),
        "period": [period] * count,
        "as_of": [as_of] * count,
        "member_since": list(members.joined),
        "trades_all_time": per_member(standing.trades, 0),
        "balance": per_member(standing.balance, 0),
        "floor": per_member(standing.floor, community.default_floor),
        "ceiling": per_member(standing.ceiling, community.default_ceiling),
        "balance_trend": per_member(standing.trend, 0.0),
        "days_to_floor": per_member(standing.days_to_floor, None),
        "load_30d": per_member(standing.load_30d, 0),
        "load_median": per_member(standing.load_median, 0),
        "last_gave": per_member(standing.last_gave, None),
        "last_received": per_member(standing.last_received, None),
        "last_spent": per_member(standing.last_spent, None),
        **{key: [row[key] for row in counts] for key in no_listings},
    }
    # Both scopes in one write, the values that are the same in both repeated.
    by_scope = [
        {
            **common,
            "scope": [scope] * count,
            "given": per_member(flow.given, 0),
            "received": per_member(flow.received, 0),
            "gives": per_member(flow.gives, 0),
            "receipts": per_member(flow.receipts, 0),
            "partners": per_member(flow.partners, 0),
            "helped": per_member(flow.helped, 0),
            "helped_by": per_member(flow.helped_by, 0),
            "effective_partners": per_member(flow.effective_partners, 0.0),
            "skew": per_member(flow.skew, 0.0),
            "direct_returned_share": share(flow.direct_returned_share),
            "cycle_bin": per_member(flow.cycle_bin, ""),
            "in_giant_scc": per_member(flow.in_giant, False),
        }
        for scope, flow in scopes.items()
    ]
    _rows_store(
        MemberSnapshot,
        rows={field: [v for one in by_scope for v in one[field]] for field in by_scope[0]},
        unique_fields=["membership_id", "period", "scope"],
        within={"community_id": community.pk, "period": period},
    )


def _pairs_store(
    *,
    community: Community,
    period: date,
    as_of: date,
    ledger: CommunityLedger,
    mask: NDArray[np.bool_],
) -> None:
    """The pairs of members with at least PAIR_MIN_PAYMENTS payments in the window."""
    first_of = ledger.membership_ids[ledger.payer[mask]]
    second_of = ledger.membership_ids[ledger.payee[mask]]
    people = (first_of >= 0) & (second_of >= 0) & (first_of != second_of)
    payer, payee = first_of[people], second_of[people]
    amounts, counts = ledger.amount[mask][people], ledger.count[mask][people]
    age = _day_number(as_of) - ledger.day[mask][people].astype(np.int64)
    low, high = np.minimum(payer, payee), np.maximum(payer, payee)
    size = int(ledger.membership_ids.max(initial=0)) + 1
    keys, position = np.unique(low * size + high, return_inverse=True)
    payments = _per_node(position, counts, keys.size)
    # The first (lower id) gave when the second paid them.
    first_gave = _per_node(position, np.where(payee == low, amounts, 0), keys.size)
    second_gave = _per_node(position, np.where(payee == high, amounts, 0), keys.size)
    recent = age < 7 * PAIR_RECENT_WEEKS
    weeks = _distinct(position[recent] * PAIR_RECENT_WEEKS + age[recent] // 7)
    recent_weeks = np.bincount(weeks // PAIR_RECENT_WEEKS, minlength=keys.size)
    kept = np.flatnonzero(payments >= PAIR_MIN_PAYMENTS)
    _rows_store(
        PairSnapshot,
        rows={
            "community_id": [community.pk] * kept.size,
            "period": [period] * kept.size,
            "first_id": (keys[kept] // size).tolist(),
            "second_id": (keys[kept] % size).tolist(),
            "first_gave": first_gave[kept].tolist(),
            "second_gave": second_gave[kept].tolist(),
            "exchanges": payments[kept].tolist(),
            "recent_weeks": recent_weeks[kept].tolist(),
        },
        unique_fields=["first_id", "second_id", "period"],
        within={"community_id": community.pk, "period": period},
    )


def _run_report(run: AnalysisRun | None, *, progress: int, message: str) -> None:
    if run is None:
        return
    run.progress, run.message = progress, message
    run.save(update_fields=["progress", "message"])


def community_backfill(
    *,
    community: Community,
    months: int = 12,
    today: date | None = None,
    run: AnalysisRun | None = None,
) -> None:
    """Analyse every month from ``months`` ago up to the current one, oldest
    first, and evaluate the flags after each.

    A past month whose snapshot was computed after it ended is final and is
    skipped; the current month is always computed again. ``run``, when given,
    shows the progress (0 to 100) and the month being worked on.
    """
    from reciprocity.flags import flags_evaluate

    today = today or timezone.localdate()
    current = today.replace(day=1)
    periods = [current - relativedelta(months=back) for back in range(months, -1, -1)]
    zone = timezone.get_default_timezone()
    final = {
        period
        for period, computed_at in CommunitySnapshot.objects.filter(
            community=community, period__in=periods
        ).values_list("period", "computed_at")
        if period < current and timezone.localtime(computed_at, zone).date() > _month_end(period)
    }
    to_do = [period for period in periods if period not in final]
    ledger = community_ledger_read(community=community) if to_do else None
    for done, period in enumerate(to_do):
        _run_report(
            run,
            progress=100 * done // len(to_do),
            message=_("Working on %(month)s.") % {"month": period.strftime("%Y-%m")},
        )
        _period_analyse(community=community, period=period, today=today, ledger=ledger)
        flags_evaluate(community=community, period=period)
    _run_report(
        run,
        progress=100,
        message=_("%(count)d months analysed, %(skipped)d already final.")
        % {"count": len(to_do), "skipped": len(periods) - len(to_do)},
    )


def _runs_unfinished(community: Community):
    return AnalysisRun.objects.filter(
        community=community,
        status__in=(RunStatus.QUEUED, RunStatus.RUNNING),
        created_at__gte=timezone.now() - RUN_ABANDONED_AFTER,
    ).order_by("-created_at")


def analysis_request(*, actor: User, community: Community) -> AnalysisRun:
    """A coordinator starts an analysis of ``community`` now.

    While one is waiting or running for the community, that one is returned
    and no second one starts. The job is queued once the run is committed.
    Raises NotAllowed for anyone but the community's coordinators.
    """
    if not user_is_coordinator(user=actor, community=community):
        raise NotAllowed(_("Only a coordinator of this community can start an analysis."))
    with transaction.atomic():
        # One request at a time per community: the second waits here, then finds the first.
        Community.objects.select_for_update().filter(pk=community.pk).first()
        running = _runs_unfinished(community).first()
        if running is not None:
            return running
        run = AnalysisRun.objects.create(community=community, requested_by=actor)
        audit_record(
            actor=actor, community=community, action=AuditAction.ANALYSIS_REQUEST, subject=run
        )
        transaction.on_commit(lambda: _run_enqueue(run))
    return run


def _run_enqueue(run: AnalysisRun) -> None:
    from reciprocity.tasks import reciprocity_analyse_community

    enqueue(reciprocity_analyse_community, run.community_id, run.pk)


def analysis_runs_nightly() -> list[AnalysisRun]:
    """A queued run for every community with active members that has none
    waiting or running; the nightly job queues one job per run."""
    communities = Community.objects.filter(
        Exists(Membership.objects.filter(community=OuterRef("pk"), status=Status.ACTIVE))
    ).order_by("pk")
    runs = []
    for community in communities:
        with transaction.atomic():
            Community.objects.select_for_update().filter(pk=community.pk).first()
            if _runs_unfinished(community).exists():
                continue
            runs.append(AnalysisRun.objects.create(community=community))
    return runs


def analysis_perform(*, community: Community, run: AnalysisRun | None = None) -> None:
    """Run the backfill for ``community``, keeping ``run``'s status and times.

    On an error the run is marked failed with a message, and the error is
    raised again for the job's log.
    """
    if run is not None:
        run.status, run.started_at = RunStatus.RUNNING, timezone.now()
        run.save(update_fields=["status", "started_at"])
    try:
        community_backfill(community=community, run=run)
    except Exception as error:
        if run is not None:
            run.status, run.finished_at = RunStatus.FAILED, timezone.now()
            run.message = _("The analysis stopped with an error (%(error)s). Try again later.") % {
                "error": type(error).__name__
            }
            run.save(update_fields=["status", "finished_at", "message"])
        raise
    if run is not None:
        run.status, run.finished_at = RunStatus.DONE, timezone.now()
        run.save(update_fields=["status", "finished_at"])


# -- Flags: the coordinator's workflow ---------------------------------------------
# (reciprocity.flags raises flags; these are the only functions that move a flag
# or change a community's thresholds.)

FLAG_NOTE_MAX = 2000
WINDOW_DAYS_MIN = 30
WINDOW_DAYS_MAX = 1096


def _flag_actor_role(*, actor: User | None, community: Community) -> str:
    """The role ``actor`` takes a step in: the system (None) or a coordinator.
    Members of the community are refused; anyone else does not see the flag."""
    if actor is None:
        return FlagActor.SYSTEM
    if user_is_coordinator(user=actor, community=community):
        return FlagActor.COORDINATOR
    if Membership.objects.filter(user=actor, community=community).exists():
        raise NotAllowed(_("Only a coordinator of this circle can look after signals."))
    raise NotFound(_("This signal does not exist in this community."))


def _flag_text(value: str, *, field: str) -> str:
    text = (value or "").strip()
    if len(text) > FLAG_NOTE_MAX:
        raise InvalidInput(
            _("Keep it under %(max)s characters.") % {"max": FLAG_NOTE_MAX}, field=field
        )
    return text


def flag_step(
    *,
    actor: User | None,
    flag: Flag,
    to_status: str,
    note: str = "",
    assignee: User | None = None,
    snoozed_until: date | None = None,
    outcome: str = "",
) -> Flag:
    """Take one step of ``FLAG_TRANSITIONS`` and record it as a ``FlagEvent``.

    ``actor`` is a coordinator of the flag's community, or None for the system
    (which only wakes a snoozed flag whose date has come). What a step needs:
    - assigned: ``assignee``, an active coordinator of this circle (another one
      than now, when it is assigned already);
    - contacted: a private ``note`` on how the conversation went;
    - snoozed: ``snoozed_until``, a date after today;
    - resolved: an ``outcome``.
    Nothing is sent to the member, and nothing changes for them.

    Raises InvalidInput, NotAllowed (a member, or a step only the system
    takes), TransitionNotAllowed or NotFound (someone outside the community);
    nothing changes then.
    """
    role = _flag_actor_role(actor=actor, community=flag.community)
    if to_status not in FlagStatus.values:
        raise InvalidInput(_("Unknown status."), field="status")
    note = _flag_text(note, field="note")
    outcome = _flag_text(outcome, field="outcome")
    today = timezone.localdate()
    with transaction.atomic():
        locked = Flag.objects.select_for_update().select_related("community").get(pk=flag.pk)
        from_status = locked.status
        allowed = FLAG_TRANSITIONS.get((from_status, to_status))
        if allowed is None:
            raise TransitionNotAllowed(
                _("A signal cannot go from “%(from)s” to “%(to)s”.")
                % {"from": FlagStatus(from_status).label, "to": FlagStatus(to_status).label},
                field="status",
            )
        if role not in allowed:
            raise NotAllowed(
                _("Only %(actors)s can change “%(from)s” to “%(to)s”.")
                % {
                    "actors": _(" or ").join(str(FlagActor(a).label) for a in sorted(allowed)),
                    "from": FlagStatus(from_status).label,
                    "to": FlagStatus(to_status).label,
                },
                field="status",
            )
        if role == FlagActor.SYSTEM and (
            locked.snoozed_until is None or locked.snoozed_until > today
        ):
            raise TransitionNotAllowed(
                _("This signal is snoozed until %(date)s.")
                % {"date": locked.snoozed_until.isoformat() if locked.snoozed_until else "-"},
                field="status",
            )
        if to_status == FlagStatus.ASSIGNED:
            if assignee is None:
                raise InvalidInput(_("Choose a coordinator."), field="assignee")
            if not user_is_coordinator(user=assignee, community=locked.community):
                raise InvalidInput(
                    _("%(name)s is not a coordinator of this circle.")
                    % {"name": assignee.display_name},
                    field="assignee",
                )
            if from_status == FlagStatus.ASSIGNED and locked.assigned_to_id == assignee.pk:
                raise InvalidInput(
                    _("%(name)s already looks after this signal.")
                    % {"name": assignee.display_name},
                    field="assignee",
                )
            locked.assigned_to = assignee
        if to_status == FlagStatus.CONTACTED and not note:
            raise InvalidInput(
                _("Write a few words about the conversation. Only coordinators read it."),
                field="note",
            )
        if to_status == FlagStatus.SNOOZED:
            if not isinstance(snoozed_until, date):
                raise InvalidInput(_("Choose the date to look at it again."), field="snoozed_until")
            if snoozed_until <= today:
                raise InvalidInput(_("Choose a date after today."), field="snoozed_until")
            locked.snoozed_until = snoozed_until
        elif from_status == FlagStatus.SNOOZED:
            locked.snoozed_until = None
        if to_status == FlagStatus.RESOLVED:
            if not outcome:
                raise InvalidInput(
                    _("Say what came of it, for the coordinators after you."), field="outcome"
                )
            locked.outcome = outcome
        locked.status = to_status
        locked.updated_at = timezone.now()
        locked.save()
        FlagEvent.objects.create(
            flag=locked,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            note=note or outcome,
        )
        if role == FlagActor.COORDINATOR:
            # The note and the outcome are about the member: they stay on the
            # flag's own events, which erasure can reach, and out of the log.
            audit_record(
                actor=actor,
                community=locked.community,
                action=AuditAction.FLAG_STEP,
                subject=locked,
                member=locked.membership,
                details={
                    "kind": locked.kind,
                    "from": from_status,
                    "to": to_status,
                    "assignee": locked.assigned_to_id if to_status == FlagStatus.ASSIGNED else None,
                    "snoozed_until": (
                        snoozed_until.isoformat() if to_status == FlagStatus.SNOOZED else None
                    ),
                },
            )
    return locked


def reciprocity_settings_set(
    *, actor: User, community: Community, window_days: int, thresholds: dict
) -> ReciprocitySettings:
    """Set a community's window and thresholds (``reciprocity.flags.THRESHOLD_SPECS``).

    Only values that differ from the defaults are kept, so a later change of a
    default reaches every circle that did not choose otherwise. Shares are
    stored as 0..1. Raises NotAllowed / NotFound (not a coordinator) or
    InvalidInput naming the field; nothing changes then. The next analysis uses
    the new values; flags raised before stay as they are.
    """
    _flag_actor_role(actor=actor, community=community)
    if actor is None:
        raise NotAllowed(_("Only a coordinator of this circle can change this."))
    if isinstance(window_days, bool) or not isinstance(window_days, int):
        raise InvalidInput(_("Enter a whole number of days."), field="window_days")
    if not WINDOW_DAYS_MIN <= window_days <= WINDOW_DAYS_MAX:
        raise InvalidInput(
            _("Choose a window from %(min)s to %(max)s days.")
            % {"min": WINDOW_DAYS_MIN, "max": WINDOW_DAYS_MAX},
            field="window_days",
        )
    chosen = {}
    for key, value in (thresholds or {}).items():
        spec = THRESHOLD_SPECS.get(key)
        if spec is None:
            raise InvalidInput(_("Unknown threshold: %(key)s.") % {"key": key}, field=key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(_("Enter a number."), field=key)
        if spec.kind in ("days", "count") and value != int(value):
            raise InvalidInput(_("Enter a whole number."), field=key)
        if not spec.minimum <= value <= spec.maximum:
            raise InvalidInput(
                _("Choose a value from %(min)s to %(max)s.")
                % {"min": spec.minimum, "max": spec.maximum},
                field=key,
            )
        value = int(value) if spec.kind in ("days", "count") else float(value)
        if value != DEFAULT_THRESHOLDS[key]:
            chosen[key] = value
    with transaction.atomic():
        row, _created = ReciprocitySettings.objects.select_for_update().get_or_create(
            community=community
        )
        before = (row.window_days, row.thresholds)
        row.window_days = window_days
        row.thresholds = chosen
        row.updated_at = timezone.now()
        row.save()
        if before != (window_days, chosen):
            audit_record(
                actor=actor,
                community=community,
                action=AuditAction.SIGNAL_SETTINGS,
                subject=row,
                details={
                    "window_days": [before[0], window_days],
                    "thresholds": [before[1], chosen],
                },
            )
    return row
