"""Reads for the reciprocity pages. They read stored snapshots, flags and
alerts only; nothing here recomputes the graph.

Every read takes its community (or membership) explicitly, so one circle's
figures never reach another's pages. The municipality's figures are
aggregates with small cells hidden (see ``observer_figures``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Area, Community, Membership
from accounts.selectors import SMALL_CELL_THRESHOLD
from reciprocity.models import (
    AreaSnapshot,
    CommunityAlert,
    CommunitySnapshot,
    Flag,
    FlagStatus,
    MemberSnapshot,
    Scope,
)

SERIES_MONTHS = 24
ALERT_MONTHS = 6


def community_snapshot_latest(
    *, community: Community, scope: str = Scope.WINDOW
) -> CommunitySnapshot | None:
    """The community's most recent snapshot of ``scope``; None before the first analysis."""
    return (
        CommunitySnapshot.objects.filter(community=community, scope=scope)
        .order_by("-period")
        .first()
    )


def community_snapshot_at(
    *, community: Community, period: date, scope: str = Scope.WINDOW
) -> CommunitySnapshot | None:
    return CommunitySnapshot.objects.filter(community=community, scope=scope, period=period).first()


def community_snapshot_series(
    *, community: Community, scope: str = Scope.WINDOW, months: int = SERIES_MONTHS
) -> list[CommunitySnapshot]:
    """The last ``months`` snapshots of ``scope``, oldest first."""
    latest = list(
        CommunitySnapshot.objects.filter(community=community, scope=scope).order_by("-period")[
            :months
        ]
    )
    return latest[::-1]


def member_snapshots_latest(
    *, community: Community, scope: str = Scope.WINDOW
) -> QuerySet[MemberSnapshot]:
    """Every member's snapshot of the community's latest period, for the anonymous
    scatter plot: one row per member, with no names loaded."""
    latest = MemberSnapshot.objects.filter(community=community, scope=scope).aggregate(
        latest=Max("period")
    )["latest"]
    if latest is None:
        return MemberSnapshot.objects.none()
    return MemberSnapshot.objects.filter(community=community, scope=scope, period=latest).only(
        "given", "received"
    )


def member_snapshot_own(*, membership: Membership, scope: str) -> MemberSnapshot | None:
    """A member's own latest snapshot of ``scope``, for their own page only."""
    return (
        MemberSnapshot.objects.filter(membership=membership, scope=scope)
        .order_by("-period")
        .first()
    )


def flags_open(*, community: Community) -> QuerySet[Flag]:
    """The community's unresolved flags, oldest first, without those snoozed
    until a later day."""
    today = timezone.localdate()
    return (
        Flag.objects.filter(community=community)
        .exclude(status=FlagStatus.RESOLVED)
        .exclude(status=FlagStatus.SNOOZED, snoozed_until__gt=today)
        .select_related("membership__user", "other__user", "assigned_to")
        .order_by("created_at", "pk")
    )


def community_alerts_recent(
    *, community: Community, months: int = ALERT_MONTHS
) -> QuerySet[CommunityAlert]:
    """The community's alerts of the last ``months`` months, newest first."""
    since = timezone.localdate().replace(day=1) - relativedelta(months=months)
    return CommunityAlert.objects.filter(community=community, period__gte=since).order_by(
        "-period", "kind"
    )


# The municipality's figures -------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One figure: its value, or None when hidden ("fewer than 5")."""

    value: object | None

    @property
    def hidden(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class FiguresRow:
    """One community's or one area's figures for the municipality. The cells
    follow ``OBSERVER_COLUMNS``."""

    label: str
    area: Area | None
    is_total: bool
    active_members: Cell
    payments: Cell
    volume: Cell
    help_types: Cell
    circulation_share: Cell
    two_sided_share: Cell

    @property
    def cells(self) -> list[Cell]:
        return [getattr(self, column) for column in OBSERVER_COLUMNS]


@dataclass(frozen=True)
class CommunityFigures:
    community: Community
    period: date
    total: FiguresRow
    areas: list[FiguresRow]


OBSERVER_COLUMNS = (
    "active_members",
    "payments",
    "volume",
    "help_types",
    "circulation_share",
    "two_sided_share",
)


@dataclass(frozen=True)
class _Raw:
    """Figures before suppression, with the number of members they rest on."""

    label: str
    area: Area | None
    basis: int
    active_members: int
    payments: int
    volume: int
    help_types: dict
    circulation_share: float
    two_sided_share: float

    def size(self, column: str) -> float:
        value = getattr(self, column)
        return sum(value.values()) if isinstance(value, dict) else value


def _too_small(basis: int) -> bool:
    """A figure resting on 1 to 4 members could point at a person; on none it cannot."""
    return 0 < basis < SMALL_CELL_THRESHOLD


def suppressed_rows(raws: Sequence[_Raw], *, is_total: bool) -> list[FiguresRow]:
    """Hide every figure of a row resting on fewer than 5 members, and, per
    column, when exactly one row is hidden, the smallest visible non-zero
    figure too: otherwise the community's total minus the visible rows would
    give the hidden one away (complementary suppression, as in
    ``accounts.selectors.observer_overview``)."""
    hidden = {column: [_too_small(raw.basis) for raw in raws] for column in OBSERVER_COLUMNS}
    for column, flags in hidden.items():
        if sum(flags) == 1:
            # On a tie, the row resting on fewer members goes.
            visible = [
                (raw.size(column), raw.basis, index)
                for index, raw in enumerate(raws)
                if not flags[index] and raw.size(column)
            ]
            if visible:
                flags[min(visible)[2]] = True
    return [
        FiguresRow(
            label=raw.label,
            area=raw.area,
            is_total=is_total,
            **{
                column: Cell(None if hidden[column][index] else getattr(raw, column))
                for column in OBSERVER_COLUMNS
            },
        )
        for index, raw in enumerate(raws)
    ]


def _latest_periods(model, *, scope: str) -> dict[int, date]:
    rows = model.objects.filter(scope=scope).values("community_id").annotate(latest=Max("period"))
    return {row["community_id"]: row["latest"] for row in rows.order_by()}


def _latest_filter(periods: dict[int, date]) -> Q:
    condition = Q(pk__in=[])
    for community_id, period in periods.items():
        condition |= Q(community_id=community_id, period=period)
    return condition


def observer_figures(*, scope: str = Scope.WINDOW) -> list[CommunityFigures]:
    """Per community with an analysis, its latest period's figures as a whole and
    per area (members without an area as one more row), small cells hidden.
    Aggregates only: no names, no member's figures."""
    periods = _latest_periods(CommunitySnapshot, scope=scope)
    if not periods:
        return []
    snapshots = (
        CommunitySnapshot.objects.filter(_latest_filter(periods), scope=scope)
        .select_related("community")
        .order_by("community__name", "community_id")
    )
    areas_by_community: dict[int, list[AreaSnapshot]] = {}
    area_rows = (
        AreaSnapshot.objects.filter(_latest_filter(periods), scope=scope)
        .select_related("area")
        .order_by("community_id", "area__name", "pk")
    )
    for area_snapshot in area_rows:
        areas_by_community.setdefault(area_snapshot.community_id, []).append(area_snapshot)
    figures = []
    for snapshot in snapshots:
        total = _Raw(
            label=_("The whole circle"),
            area=None,
            basis=snapshot.active_members,
            active_members=snapshot.active_members,
            payments=snapshot.transfers,
            volume=snapshot.W,
            help_types=snapshot.help_types or {},
            circulation_share=snapshot.share(snapshot.C),
            two_sided_share=(
                snapshot.two_sided_members / snapshot.active_members
                if snapshot.active_members
                else 0.0
            ),
        )
        areas = [
            _Raw(
                label=area.area.name if area.area else _("No area given"),
                area=area.area,
                basis=area.active_members,
                active_members=area.active_members,
                payments=area.exchanges,
                volume=area.volume,
                help_types=area.help_types or {},
                circulation_share=area.circulation_share,
                two_sided_share=(
                    area.two_sided_members / area.active_members if area.active_members else 0.0
                ),
            )
            for area in areas_by_community.get(snapshot.community_id, [])
        ]
        figures.append(
            CommunityFigures(
                community=snapshot.community,
                period=snapshot.period,
                total=suppressed_rows([total], is_total=True)[0],
                areas=suppressed_rows(areas, is_total=False),
            )
        )
    return figures
