"""The pages that show reciprocity: a circle's health for its coordinators, the
municipality's figures, and a member's own picture. Thin: they read stored
snapshots with ``reciprocity.selectors``, draw with ``reciprocity.charts``,
and format numbers for the reader's language."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import selectors as accounts_selectors
from accounts.units import amount_format, amount_number, unit_name
from listings.models import HelpType
from reciprocity import charts, selectors
from reciprocity.flags import window_days_of
from reciprocity.models import CommunitySnapshot, Scope
from ruilkring.errors import NotFound

# Measure kinds: how a value is written, and so when two values read the same.
SHARE, COUNT, DECIMAL = "share", "count", "decimal"


@dataclass(frozen=True)
class MeasureSpec:
    key: str
    label: str
    kind: str
    value: Callable[[CommunitySnapshot], float]
    explain: Callable[[CommunitySnapshot, str], str]


def _measure_specs() -> list[MeasureSpec]:
    """The measures of the health page, each with one plain sentence for coordinators."""
    return [
        MeasureSpec(
            "direct",
            _("Returned directly"),
            SHARE,
            lambda s: s.share(s.D),
            lambda s, text: (
                _(
                    "Of everything that was given, %(value)s came straight back to the giver "
                    "from the same person."
                )
                % {"value": text}
            ),
        ),
        MeasureSpec(
            "circle",
            _("Returned round a circle"),
            SHARE,
            lambda s: s.share(s.C),
            lambda s, text: (
                _(
                    "Of everything that was given, %(value)s came back to the giver round a "
                    "circle of three or more members."
                )
                % {"value": text}
            ),
        ),
        MeasureSpec(
            "one_way",
            _("One way"),
            SHARE,
            lambda s: s.share(s.A),
            lambda s, text: (
                _("%(value)s of everything that was given went one way and has not come back yet.")
                % {"value": text}
            ),
        ),
        MeasureSpec(
            "active",
            _("Members who gave or received"),
            COUNT,
            lambda s: s.active_members,
            lambda s, text: (
                _("%(value)s of the %(members)s members gave or received something.")
                % {"value": text, "members": charts.count_text(s.members)}
            ),
        ),
        MeasureSpec(
            "two_sided",
            _("Members who gave and received"),
            COUNT,
            lambda s: s.two_sided_members,
            lambda s, text: (
                _("%(value)s members both gave and received something.") % {"value": text}
            ),
        ),
        MeasureSpec(
            "giant",
            _("In the largest circle of mutual reach"),
            SHARE,
            lambda s: s.giant_scc_share,
            lambda s, text: (
                _(
                    "%(value)s of the members can reach each other through a chain of help, "
                    "so what they give can come back to them."
                )
                % {"value": text}
            ),
        ),
        MeasureSpec(
            "gini",
            _("Spread of balances (Gini)"),
            DECIMAL,
            lambda s: s.gini_balance,
            lambda s, text: (
                _(
                    "How unevenly balances are spread, from 0 (everyone the same) to 1 "
                    "(one member holds it all). Now %(value)s."
                )
                % {"value": text}
            ),
        ),
        MeasureSpec(
            "velocity",
            _("Velocity"),
            DECIMAL,
            lambda s: s.velocity,
            lambda s, text: (
                _(
                    "Everything given is %(value)s times the balances still open: the higher, "
                    "the more the units keep moving."
                )
                % {"value": text}
            ),
        ),
        MeasureSpec(
            "near_limit",
            _("Near a limit"),
            SHARE,
            lambda s: s.near_limit_members / s.members if s.members else 0.0,
            lambda s, text: (
                _("%(value)s of the members are close to their credit limit or their maximum.")
                % {"value": text}
            ),
        ),
        MeasureSpec(
            "open_balances",
            _("Open balances"),
            SHARE,
            lambda s: s.share(s.nid),
            lambda s, text: (
                _("The balances still open add up to %(value)s of everything that was given.")
                % {"value": text}
            ),
        ),
    ]


def _measure_text(kind: str, value: float) -> str:
    if kind == SHARE:
        return charts.share_text(value)
    if kind == COUNT:
        return charts.count_text(int(value))
    return charts.decimal_text(value)


@dataclass(frozen=True)
class Trend:
    """A measure now against an earlier month: "up", "down" or "same" in words,
    or no earlier figure at all (direction empty)."""

    direction: str
    words: str


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    text: str
    explanation: str
    month_before: Trend
    quarter_before: Trend


def _trend(spec: MeasureSpec, now: CommunitySnapshot, before: CommunitySnapshot | None) -> Trend:
    if before is None:
        return Trend(direction="", words=_("not known"))
    now_value, before_value = spec.value(now), spec.value(before)
    before_text = _measure_text(spec.kind, before_value)
    # Two values that read the same are the same: a change too small to show is no change.
    if before_text == _measure_text(spec.kind, now_value):
        return Trend(direction="same", words=_("the same (%(before)s)") % {"before": before_text})
    if now_value > before_value:
        return Trend(direction="up", words=_("up from %(before)s") % {"before": before_text})
    return Trend(direction="down", words=_("down from %(before)s") % {"before": before_text})


def health_measures(
    *,
    now: CommunitySnapshot,
    month_before: CommunitySnapshot | None,
    quarter_before: CommunitySnapshot | None,
) -> list[Measure]:
    measures = []
    for spec in _measure_specs():
        text = _measure_text(spec.kind, spec.value(now))
        measures.append(
            Measure(
                key=spec.key,
                label=spec.label,
                text=text,
                explanation=spec.explain(now, text),
                month_before=_trend(spec, now, month_before),
                quarter_before=_trend(spec, now, quarter_before),
            )
        )
    return measures


@login_required
def health(request: HttpRequest, slug: str) -> HttpResponse:
    community = accounts_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    language = translation.get_language()
    snapshot = selectors.community_snapshot_latest(community=community)
    context = {
        "community": community,
        "snapshot": snapshot,
        "alerts": [
            (alert, alert.sentence(language))
            for alert in selectors.community_alerts_recent(community=community)
        ],
        "flags": [
            (flag, flag.sentence(language)) for flag in selectors.flags_open(community=community)
        ],
    }
    if snapshot is not None:
        series = selectors.community_snapshot_series(community=community)
        context.update(
            {
                "measures": health_measures(
                    now=snapshot,
                    month_before=selectors.community_snapshot_at(
                        community=community, period=snapshot.period - relativedelta(months=1)
                    ),
                    quarter_before=selectors.community_snapshot_at(
                        community=community, period=snapshot.period - relativedelta(months=3)
                    ),
                ),
                "period_text": charts.month_text(snapshot.period),
                "balance_chart": charts.balance_chart(community=community, snapshot=snapshot),
                "scatter_chart": charts.given_received_chart(
                    community=community,
                    snapshots=selectors.member_snapshots_latest(community=community),
                ),
                "flow_chart": charts.flow_split_chart(snapshots=series),
                "members_chart": charts.members_chart(snapshots=series),
            }
        )
    return render(request, "reciprocity/health.html", context)


# The municipality's figures -------------------------------------------------


def _observer_headings() -> list[str]:
    return [
        _("Members who gave or received"),
        _("Payments"),
        _("Units exchanged"),
        _("Kinds of help"),
        _("Share returned round a circle"),
        _("Share of members who gave and received"),
    ]


def _help_types_text(counts: dict) -> str:
    labels = dict(HelpType.choices)
    parts = [
        f"{labels.get(kind, kind)}: {charts.count_text(int(count))}"
        for kind, count in sorted(counts.items())
        if count
    ]
    return "; ".join(parts) or "–"


def _hidden_text() -> str:
    return _("fewer than %(threshold)s") % {"threshold": accounts_selectors.SMALL_CELL_THRESHOLD}


def _cell_texts(row: selectors.FiguresRow, community, *, for_csv: bool) -> list[str]:
    """The figures of a row as the reader sees them; a hidden figure reads "fewer than 5"."""
    texts = []
    for column, cell in zip(selectors.OBSERVER_COLUMNS, row.cells, strict=True):
        if cell.hidden:
            texts.append(_hidden_text())
        elif column in ("active_members", "payments"):
            texts.append(charts.count_text(cell.value))
        elif column == "volume":
            # The CSV keeps the number and names the unit in the heading.
            texts.append(
                amount_number(community=community, amount=cell.value)
                if for_csv
                else amount_format(community=community, amount=cell.value)
            )
        elif column == "help_types":
            texts.append(_help_types_text(cell.value))
        else:
            texts.append(charts.share_text(cell.value))
    return texts


def _require_observer(request: HttpRequest) -> None:
    accounts_selectors.observer_check(
        user=request.user, message=_("These figures are for the municipality's observers.")
    )


@login_required
def observer(request: HttpRequest) -> HttpResponse:
    _require_observer(request)
    communities = [
        {
            "community": figures.community,
            "period_text": charts.month_text(figures.period),
            "unit": unit_name(community=figures.community),
            "rows": [
                (row, _cell_texts(row, figures.community, for_csv=False))
                for row in [*figures.areas, figures.total]
            ],
        }
        for figures in selectors.observer_figures()
    ]
    return render(
        request,
        "reciprocity/observer.html",
        {
            "communities": communities,
            "headings": _observer_headings(),
            "threshold": accounts_selectors.SMALL_CELL_THRESHOLD,
        },
    )


@login_required
def observer_csv(request: HttpRequest) -> HttpResponse:
    """The municipality page's figures as CSV: the same rows and the same hidden
    cells, one row per community and area, never a person."""
    _require_observer(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="reciprocity-municipality.csv"'
    writer = csv.writer(response)
    headings = _observer_headings()
    headings[2] = _("Units exchanged (in the unit of the circle)")
    writer.writerow([_("Circle"), _("Area"), _("Month"), _("Unit"), *headings])
    for figures in selectors.observer_figures():
        community = figures.community
        for row in [*figures.areas, figures.total]:
            writer.writerow(
                [
                    community.name,
                    row.label,
                    figures.period.strftime("%Y-%m"),
                    unit_name(community=community),
                    *_cell_texts(row, community, for_csv=True),
                ]
            )
    return response


# A member's own picture -----------------------------------------------------


@login_required
def mine(request: HttpRequest, slug: str) -> HttpResponse:
    community, membership = accounts_selectors.community_for_member_get(
        user=request.user, slug=slug
    )
    if membership is None:
        raise NotFound(_("This community does not exist."))
    window_days = window_days_of(community=community)
    return render(
        request,
        "reciprocity/mine.html",
        {
            "community": community,
            "window": selectors.member_snapshot_own(membership=membership, scope=Scope.WINDOW),
            "all_time": selectors.member_snapshot_own(membership=membership, scope=Scope.ALL_TIME),
            "window_months": max(1, round(window_days / 30.4)),
        },
    )
