"""The charts are data: scales, marks and a table with the same numbers. The
scatter plot of members is anonymous, and every chart copes with no data."""

from datetime import date

import pytest
from django.template.loader import render_to_string

from reciprocity import charts
from reciprocity.models import CommunitySnapshot, MemberSnapshot
from tests.factories import CommunityFactory


@pytest.fixture
def circle():
    # Counts in time: minor units are minutes.
    return CommunityFactory.build(unit_plural_en="hours", unit_singular_en="hour")


def _month(month: int, **values) -> CommunitySnapshot:
    return CommunitySnapshot(period=date(2025, month, 1), **values)


@pytest.mark.parametrize(
    ("value", "maximum"), [(0, 1), (3, 4), (7, 8), (10, 10), (99, 100), (1234, 2000)]
)
def test_a_scale_ends_on_a_round_number_at_or_above_the_largest_value(value, maximum):
    assert charts.nice_maximum(value) == maximum


@pytest.mark.parametrize(("value", "maximum"), [(0, 4), (3, 4), (5, 8), (10, 12), (100, 100)])
def test_a_scale_of_members_has_whole_numbers_at_every_tick(value, maximum):
    assert charts.count_maximum(value) == maximum
    assert (maximum / charts.TICKS).is_integer()


def test_the_balance_chart_has_a_bar_and_a_table_row_per_band(circle):
    snapshot = CommunitySnapshot(balance_histogram=[[-600, 2], [0, 8], [600, 4], [None, 1]])
    chart = charts.balance_chart(community=circle, snapshot=snapshot)
    assert not chart.empty
    assert [bar.value for bar in chart.bars] == ["2", "8", "4", "1"]
    # The scale runs to 8: the largest band fills the plot, a band of 4 half of it.
    plot = chart.bottom - chart.top
    assert chart.bars[1].height == pytest.approx(plot)
    assert chart.bars[2].height == pytest.approx(plot / 2)
    assert [row.header for row in chart.table.rows] == [
        "up to \u221210",
        "\u221210 to 0",
        "0 to 10",
        "more than 10",
    ]
    assert [row.cells for row in chart.table.rows] == [["2"], ["8"], ["4"], ["1"]]


def test_the_scatter_has_one_anonymous_point_per_member_on_one_scale(circle):
    snapshots = [
        MemberSnapshot(given=120, received=0),
        MemberSnapshot(given=0, received=240),
        MemberSnapshot(given=60, received=60),
    ]
    chart = charts.given_received_chart(community=circle, snapshots=snapshots)
    assert len(chart.points) == 3
    assert len(chart.table.rows) == 3
    # Sorted by what was given, as the dots run from left to right.
    assert [row.cells for row in chart.table.rows] == [["0", "4"], ["1", "1"], ["2", "0"]]
    # 4 hours is the top of both axes: whoever gave 2 hours sits halfway across, on the floor.
    left_to_right = sorted(chart.points, key=lambda point: point.x)
    assert left_to_right[2].x == pytest.approx((chart.left + chart.right) / 2)
    assert left_to_right[2].y == pytest.approx(chart.bottom)
    assert left_to_right[0].y == pytest.approx(chart.top)
    # Equal giving and receiving lies on the diagonal.
    middle = left_to_right[1]
    across = (middle.x - chart.left) / (chart.right - chart.left)
    up = (chart.bottom - middle.y) / (chart.bottom - chart.top)
    assert across == pytest.approx(up) == pytest.approx(0.25)


def test_the_flow_split_stacks_the_shares_of_each_month(circle):
    chart = charts.flow_split_chart(
        snapshots=[
            _month(4, W=0),
            _month(5, W=200, D=100, C=50, A=50),
        ]
    )
    empty_month, full_month = chart.stacks
    assert empty_month.segments == []
    plot = chart.bottom - chart.top
    assert [segment.part for segment in full_month.segments] == ["direct", "circle", "one-way"]
    assert [segment.height for segment in full_month.segments] == pytest.approx(
        [plot / 2, plot / 4, plot / 4]
    )
    assert full_month.segments[-1].y == pytest.approx(chart.top)
    assert [row.cells for row in chart.table.rows] == [["0%", "0%", "0%"], ["50%", "25%", "25%"]]
    assert [item.part for item in chart.legend] == ["direct", "circle", "one-way"]


def test_the_members_chart_draws_both_lines_through_every_month():
    chart = charts.members_chart(
        snapshots=[
            _month(4, active_members=10, two_sided_members=4),
            _month(5, active_members=20, two_sided_members=6),
            _month(6, active_members=8, two_sided_members=8),
        ]
    )
    active, two_sided = chart.lines
    assert len(active.points) == len(two_sided.points) == 3
    assert active.points[1].y == pytest.approx(chart.top)  # 20 is the top of the scale
    assert two_sided.points[2].y == active.points[2].y
    assert [row.cells for row in chart.table.rows] == [["10", "4"], ["20", "6"], ["8", "8"]]


def test_every_chart_copes_with_no_data(circle):
    made = [
        charts.balance_chart(community=circle, snapshot=None),
        charts.given_received_chart(community=circle, snapshots=[]),
        charts.flow_split_chart(snapshots=[]),
        charts.members_chart(snapshots=[]),
    ]
    for chart in made:
        assert chart.empty
        assert chart.table.rows == []
        assert len(chart.y_ticks) == charts.TICKS + 1


def test_numbers_are_written_for_the_readers_language():
    from django.utils import translation

    with translation.override("nl"):
        assert charts.count_text(1234) == "1.234"
        assert charts.decimal_text(0.456) == "0,46"
    assert charts.count_text(1234) == "1,234"
    assert charts.share_text(0.4286) == "43%"


@pytest.mark.parametrize("template", ["bars", "scatter", "stacked", "lines"])
def test_a_drawn_chart_is_a_titled_image_with_a_table_and_escapes_every_text(template, circle):
    circle.unit_plural_en = "<script>alert(1)</script>"
    snapshots = [_month(5, W=10, D=5, C=5, active_members=3, two_sided_members=2)]
    chart = {
        "bars": charts.balance_chart(
            community=circle, snapshot=CommunitySnapshot(balance_histogram=[[0, 3]])
        ),
        "scatter": charts.given_received_chart(
            community=circle, snapshots=[MemberSnapshot(given=60, received=30)]
        ),
        "stacked": charts.flow_split_chart(snapshots=snapshots),
        "lines": charts.members_chart(snapshots=snapshots),
    }[template]
    html = render_to_string(f"reciprocity/charts/{template}.html", {"chart": chart})
    assert 'role="img"' in html
    assert f'<title id="{chart.id}-title">' in html
    assert f'aria-labelledby="{chart.id}-title {chart.id}-desc"' in html
    assert "<table" in html
    assert "<caption" in html
    assert 'scope="col"' in html
    assert 'scope="row"' in html
    assert "<script>" not in html
