"""Charts for the reciprocity pages, as plain data that a template draws as SVG.

Every chart is computed here, in Python: its scales, the position of every
bar, point and line, and the labels, already formatted for the reader's
language. The templates in ``templates/reciprocity/charts/`` only place these
numbers in an ``<svg>``, so every text passes Django's escaping, and no page
needs JavaScript.

Each chart carries a table with the same numbers, for people who do not see
the picture and for anyone who wants the figures. The scatter plot of members
is anonymous: a point has no name, no title and no link, and its table rows
follow the chart from left to right, never a ranking.

Scales cope with empty data: without any figure a chart has a scale of 0 to 1
and no marks, and ``empty`` is true so the page can say so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from accounts.models import Community
from accounts.units import amount_number, unit_name
from reciprocity.models import CommunitySnapshot, MemberSnapshot

# The drawing area of every chart, in SVG user units; CSS scales it to the column.
WIDTH = 640
HEIGHT = 320
MARGIN_LEFT = 64
MARGIN_RIGHT = 16
MARGIN_TOP = 16
MARGIN_BOTTOM = 64
TICKS = 4


def count_text(value: int) -> str:
    """A whole number in the reader's locale: "1.234" in Dutch, "1,234" in English."""
    return number_format(value, use_l10n=True, force_grouping=True)


def share_text(share: float) -> str:
    """A share of 0..1 as a whole percentage: "43%"."""
    return f"{number_format(round(share * 100), use_l10n=True)}%"


def decimal_text(value: float, decimals: int = 2) -> str:
    # number_format cuts a float off at decimal_pos; round first so 0.456 reads 0,46.
    return number_format(round(value, decimals), decimal_pos=decimals, use_l10n=True)


def month_text(period: date) -> str:
    """A month as a reader says it: "mrt 2025" or "Mar 2025"."""
    return date_format(period, "M Y")


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class TableRow:
    header: str
    cells: list[str]


@dataclass(frozen=True)
class ChartTable:
    """The numbers behind a chart: a caption, column headings and rows with a row heading."""

    caption: str
    row_heading: str
    columns: list[str]
    rows: list[TableRow]


@dataclass
class Chart:
    """What every chart has: an id for its title and description, its size,
    its axes and its table. Subclasses add the marks."""

    id: str
    title: str
    description: str
    table: ChartTable
    x_label: str = ""
    y_label: str = ""
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    empty: bool = True
    width: int = WIDTH
    height: int = HEIGHT
    left: int = MARGIN_LEFT
    right: int = WIDTH - MARGIN_RIGHT
    top: int = MARGIN_TOP
    bottom: int = HEIGHT - MARGIN_BOTTOM

    @property
    def x_label_y(self) -> int:
        return self.height - 8

    @property
    def y_label_x(self) -> int:
        return 14

    @property
    def middle_x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def middle_y(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    label_x: float
    label_y: float
    value_y: float


@dataclass
class BarChart(Chart):
    bars: list[Bar] = field(default_factory=list)


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass
class ScatterChart(Chart):
    points: list[Point] = field(default_factory=list)
    # The line where given equals received, from the origin to the top right.
    diagonal: tuple[float, float, float, float] = (0, 0, 0, 0)


@dataclass(frozen=True)
class Segment:
    part: str  # "direct", "circle" or "one-way": the pattern the template fills it with
    y: float
    height: float


@dataclass(frozen=True)
class Stack:
    x: float
    width: float
    segments: list[Segment]


@dataclass(frozen=True)
class LegendItem:
    part: str
    label: str


@dataclass
class StackedChart(Chart):
    stacks: list[Stack] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)


@dataclass(frozen=True)
class Line:
    part: str  # "active" or "two-sided": the dash and marker the template draws
    label: str
    points: list[Point]

    @property
    def polyline(self) -> str:
        return " ".join(f"{point.x:.1f},{point.y:.1f}" for point in self.points)


@dataclass
class LineChart(Chart):
    lines: list[Line] = field(default_factory=list)


def nice_maximum(value: float) -> float:
    """The smallest round number (1, 2, 2.5 or 5 times a power of ten, times
    the tick count) at or above ``value``; 1 for nothing, so an empty chart
    still has a scale."""
    if value <= 0:
        return 1
    raw_step = value / TICKS
    magnitude = 10 ** math.floor(math.log10(raw_step))
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * magnitude
        if step * TICKS >= value:
            return step * TICKS
    return 10 * magnitude * TICKS  # pragma: no cover - the loop always ends at 10


def count_maximum(value: int) -> int:
    """The top of a scale of whole members, so that every tick is a whole number."""
    return math.ceil(nice_maximum(value) / TICKS) * TICKS


def _scale(value: float, maximum: float, low: float, high: float) -> float:
    """Map 0..maximum to low..high (high may be smaller than low, as for the y axis)."""
    return low + (high - low) * (value / maximum if maximum else 0)


def _y_ticks(chart: Chart, maximum: float, label) -> list[Tick]:
    return [
        Tick(position=_scale(maximum * i / TICKS, maximum, chart.bottom, chart.top), label=label(i))
        for i in range(TICKS + 1)
    ]


def _histogram_labels(*, community: Community, histogram: Sequence) -> list[str]:
    """One label per bin of ``[[upper bound, count], ...]``: a bin holds the
    balances above the previous bound up to and including its own. An empty
    bound on the last bin means "no upper bound"."""
    labels = []
    previous = None
    for upper, _count in histogram:
        if upper is None:
            labels.append(
                _("more than %(amount)s")
                % {"amount": amount_number(community=community, amount=previous or 0)}
            )
        elif previous is None:
            labels.append(
                _("up to %(amount)s") % {"amount": amount_number(community=community, amount=upper)}
            )
        else:
            labels.append(
                _("%(low)s to %(high)s")
                % {
                    "low": amount_number(community=community, amount=previous),
                    "high": amount_number(community=community, amount=upper),
                }
            )
        previous = upper
    return labels


def balance_chart(*, community: Community, snapshot: CommunitySnapshot | None) -> BarChart:
    """How many members have a balance in each band, from the latest snapshot."""
    histogram = [
        (bound, int(count))
        for bound, count in ((snapshot.balance_histogram or []) if snapshot else [])
    ]
    units = unit_name(community=community)
    labels = _histogram_labels(community=community, histogram=histogram)
    chart = BarChart(
        id="chart-balances",
        title=_("How balances are spread"),
        description=_(
            "Bars: the number of members whose balance, in %(unit)s, lies in each band. "
            "Left of zero: received more than given; right of zero: given more than received."
        )
        % {"unit": units},
        x_label=_("Balance in %(unit)s") % {"unit": units},
        y_label=_("Members"),
        table=ChartTable(
            caption=_("Members per balance band"),
            row_heading=_("Balance in %(unit)s") % {"unit": units},
            columns=[_("Members")],
            rows=[
                TableRow(header=label, cells=[count_text(count)])
                for label, (_bound, count) in zip(labels, histogram, strict=True)
            ],
        ),
    )
    maximum = count_maximum(max((count for _bound, count in histogram), default=0))
    chart.empty = not any(count for _bound, count in histogram)
    chart.y_ticks = _y_ticks(chart, maximum, lambda i: count_text(round(maximum * i / TICKS)))
    if histogram:
        slot = (chart.right - chart.left) / len(histogram)
        for index, ((_bound, count), label) in enumerate(zip(histogram, labels, strict=True)):
            top = _scale(count, maximum, chart.bottom, chart.top)
            x = chart.left + slot * index + slot * 0.1
            chart.bars.append(
                Bar(
                    x=x,
                    y=top,
                    width=slot * 0.8,
                    height=chart.bottom - top,
                    label=label,
                    value=count_text(count),
                    label_x=x + slot * 0.4,
                    label_y=chart.bottom + 16 + (14 if index % 2 else 0),
                    value_y=top - 4,
                )
            )
    return chart


def given_received_chart(
    *, community: Community, snapshots: Sequence[MemberSnapshot]
) -> ScatterChart:
    """One anonymous point per member: what they gave (across) against what
    they received (up), on the same scale, with the line where both are equal."""
    pairs = sorted((snapshot.given, snapshot.received) for snapshot in snapshots)
    units = unit_name(community=community)
    chart = ScatterChart(
        id="chart-given-received",
        title=_("Given and received per member"),
        description=_(
            "One dot per member, without names. Across: what they gave, in %(unit)s; "
            "up: what they received. Dots on the diagonal line gave as much as they received."
        )
        % {"unit": units},
        x_label=_("Given, in %(unit)s") % {"unit": units},
        y_label=_("Received, in %(unit)s") % {"unit": units},
        table=ChartTable(
            caption=_(
                "Given and received, one row per member, without names, "
                "in the order of the chart from left to right"
            ),
            row_heading=_("Dot"),
            columns=[_("Given"), _("Received")],
            rows=[
                TableRow(
                    header=count_text(index),
                    cells=[
                        amount_number(community=community, amount=given),
                        amount_number(community=community, amount=received),
                    ],
                )
                for index, (given, received) in enumerate(pairs, start=1)
            ],
        ),
    )
    chart.empty = not pairs
    # Round in whole units, so the ticks read 0, 5, 10 hours rather than minutes.
    scale = community.unit_scale or 1
    maximum = nice_maximum(max((max(pair) for pair in pairs), default=0) / scale) * scale

    def label(i: int) -> str:
        return amount_number(community=community, amount=round(maximum * i / TICKS))

    chart.y_ticks = _y_ticks(chart, maximum, label)
    chart.x_ticks = [
        Tick(position=_scale(maximum * i / TICKS, maximum, chart.left, chart.right), label=label(i))
        for i in range(TICKS + 1)
    ]
    chart.points = [
        Point(
            x=_scale(given, maximum, chart.left, chart.right),
            y=_scale(received, maximum, chart.bottom, chart.top),
        )
        for given, received in pairs
    ]
    chart.diagonal = (chart.left, chart.bottom, chart.right, chart.top)
    return chart


def _period_slots(chart: Chart, periods: Sequence[date]) -> list[float]:
    """The centre of each period's slot across the chart, and its month labels below."""
    if not periods:
        return []
    slot = (chart.right - chart.left) / len(periods)
    centres = [chart.left + slot * (index + 0.5) for index in range(len(periods))]
    # At most about eight month labels fit under the chart; the table has them all.
    every = max(1, math.ceil(len(periods) / 8))
    chart.x_ticks = [
        Tick(position=centre, label=month_text(period))
        for index, (centre, period) in enumerate(zip(centres, periods, strict=True))
        if (len(periods) - 1 - index) % every == 0
    ]
    return centres


FLOW_PARTS = ("direct", "circle", "one-way")


def flow_split_chart(*, snapshots: Sequence[CommunitySnapshot]) -> StackedChart:
    """Per month, how the flow of the window split: returned directly (D), round a
    circle (C) and one way (A), as shares of everything given (W)."""
    labels = {
        "direct": _("Returned directly (D)"),
        "circle": _("Returned round a circle (C)"),
        "one-way": _("One way (A)"),
    }
    chart = StackedChart(
        id="chart-flow-split",
        title=_("Where giving went, month by month"),
        description=_(
            "One bar per month, each over the circle's window up to it. From the bottom: the share "
            "returned directly within a pair (filled), the share returned round a circle of "
            "three or more (striped), and the share that went one way (dotted)."
        ),
        x_label=_("Month"),
        y_label=_("Share of everything given"),
        legend=[LegendItem(part=part, label=labels[part]) for part in FLOW_PARTS],
        table=ChartTable(
            caption=_("Shares of everything given, per month"),
            row_heading=_("Month"),
            columns=[labels[part] for part in FLOW_PARTS],
            rows=[
                TableRow(
                    header=month_text(snapshot.period),
                    cells=[
                        share_text(snapshot.share(snapshot.D)),
                        share_text(snapshot.share(snapshot.C)),
                        share_text(snapshot.share(snapshot.A)),
                    ],
                )
                for snapshot in snapshots
            ],
        ),
    )
    chart.empty = not any(snapshot.W for snapshot in snapshots)
    chart.y_ticks = _y_ticks(chart, 1, lambda i: share_text(i / TICKS))
    centres = _period_slots(chart, [snapshot.period for snapshot in snapshots])
    if snapshots:
        width = (chart.right - chart.left) / len(snapshots) * 0.7
    for centre, snapshot in zip(centres, snapshots, strict=True):
        segments = []
        base = chart.bottom
        for part, amount in zip(FLOW_PARTS, (snapshot.D, snapshot.C, snapshot.A), strict=True):
            height = (chart.bottom - chart.top) * snapshot.share(amount)
            if height > 0:
                segments.append(Segment(part=part, y=base - height, height=height))
                base -= height
        chart.stacks.append(Stack(x=centre - width / 2, width=width, segments=segments))
    return chart


def members_chart(*, snapshots: Sequence[CommunitySnapshot]) -> LineChart:
    """Per month: the members who traded in the window, and those who both gave and received."""
    active_label = _("Members who gave or received")
    two_sided_label = _("Members who gave and received")
    chart = LineChart(
        id="chart-members",
        title=_("Members taking part, month by month"),
        description=_(
            "Two lines, one point per month, each over the circle's window up to it. "
            "Solid line with round dots: members who gave or received. "
            "Dashed line with squares: members who both gave and received."
        ),
        x_label=_("Month"),
        y_label=_("Members"),
        table=ChartTable(
            caption=_("Members taking part, per month"),
            row_heading=_("Month"),
            columns=[active_label, two_sided_label],
            rows=[
                TableRow(
                    header=month_text(snapshot.period),
                    cells=[
                        count_text(snapshot.active_members),
                        count_text(snapshot.two_sided_members),
                    ],
                )
                for snapshot in snapshots
            ],
        ),
    )
    chart.empty = not any(snapshot.active_members for snapshot in snapshots)
    maximum = count_maximum(max((snapshot.active_members for snapshot in snapshots), default=0))
    chart.y_ticks = _y_ticks(chart, maximum, lambda i: count_text(round(maximum * i / TICKS)))
    centres = _period_slots(chart, [snapshot.period for snapshot in snapshots])

    def points(values: list[int]) -> list[Point]:
        return [
            Point(x=centre, y=_scale(value, maximum, chart.bottom, chart.top))
            for centre, value in zip(centres, values, strict=True)
        ]

    chart.lines = [
        Line(
            part="active",
            label=active_label,
            points=points([snapshot.active_members for snapshot in snapshots]),
        ),
        Line(
            part="two-sided",
            label=two_sided_label,
            points=points([snapshot.two_sided_members for snapshot in snapshots]),
        ),
    ]
    return chart
