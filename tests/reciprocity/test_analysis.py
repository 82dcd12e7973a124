"""The monthly analysis, worked by hand on small circles.

Anna, Bram and Carla trade in minutes. A snapshot for last month is measured
up to its last day; everything after it does not count.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from reciprocity import services
from reciprocity.models import (
    AnalysisRun,
    AreaSnapshot,
    CommunitySnapshot,
    MemberSnapshot,
    PairSnapshot,
    ReciprocitySettings,
    RunStatus,
    Scope,
)
from ruilkring.errors import InvalidInput, NotAllowed
from tests.factories import AreaFactory, MembershipFactory
from tests.reciprocity.analysis_circle import Circle, last_month, last_month_end, month_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle():
    return Circle()


def _analyse(circle, period=None):
    services.community_analyse(community=circle.community, period=period or last_month())


def _community(circle, scope=Scope.WINDOW, period=None):
    return CommunitySnapshot.objects.get(
        community=circle.community, period=period or last_month(), scope=scope
    )


def _member(account, scope=Scope.WINDOW, period=None):
    return MemberSnapshot.objects.get(
        membership_id=account.membership_id, period=period or last_month(), scope=scope
    )


def test_a_pair_returns_part_directly_and_the_rest_goes_one_way(circle):
    anna, bram = circle.member("Anna"), circle.member("Bram")
    day = last_month() + timedelta(days=2)
    # Anna helps Bram for 90 minutes; Bram helps Anna for 30.
    circle.cheques((bram, anna, 90, day), (anna, bram, 30, day))

    _analyse(circle)

    snapshot = _community(circle)
    assert (snapshot.W, snapshot.D, snapshot.C, snapshot.A) == (120, 60, 0, 60)
    assert snapshot.nid == 60
    assert snapshot.transfers == 2
    assert snapshot.weighted_reciprocity == pytest.approx(0.5)
    assert (snapshot.active_members, snapshot.two_sided_members) == (2, 2)
    # The coordinator is a member too, and did not trade.
    assert snapshot.members == 3
    # 60 minutes are outstanding (half the absolute balances): W / 60 = 2.
    assert snapshot.velocity == pytest.approx(2.0)
    member = _member(anna)
    assert (member.given, member.received, member.gives, member.receipts) == (90, 30, 1, 1)
    assert (member.partners, member.helped, member.helped_by) == (1, 1, 1)
    assert member.balance == 60
    assert member.direct_returned_share == pytest.approx(1.0)
    assert member.effective_partners == pytest.approx(1.0)


def test_a_triangle_is_all_circulation(circle):
    anna, bram, carla = circle.member("Anna"), circle.member("Bram"), circle.member("Carla")
    day = last_month() + timedelta(days=5)
    # Anna helps Bram, Bram helps Carla, Carla helps Anna: an hour each.
    circle.cheques((bram, anna, 60, day), (carla, bram, 60, day), (anna, carla, 60, day))

    _analyse(circle)

    snapshot = _community(circle)
    assert (snapshot.W, snapshot.D, snapshot.C, snapshot.A) == (180, 0, 180, 0)
    assert snapshot.giant_scc_share == pytest.approx(1.0)
    assert snapshot.velocity == 0  # every balance is back at zero
    members = MemberSnapshot.objects.filter(period=last_month(), scope=Scope.WINDOW)
    traders = members.exclude(membership=circle.coordinator_membership)
    assert {(m.cycle_bin, m.in_giant_scc) for m in traders} == {("most", True)}
    assert members.get(membership=circle.coordinator_membership).in_giant_scc is False


def test_a_reversed_payment_is_no_exchange(circle):
    anna, bram = circle.member("Anna"), circle.member("Bram")
    (mistake,) = circle.cheques((bram, anna, 600, last_month()))
    circle.reverse(mistake)

    _analyse(circle, period=month_start(timezone.localdate()))

    snapshot = _community(circle, period=month_start(timezone.localdate()))
    assert (snapshot.W, snapshot.transfers, snapshot.active_members) == (0, 0, 0)
    assert _member(anna, period=month_start(timezone.localdate())).balance == 0


def test_the_pot_is_one_node_and_closes_a_circle_without_being_a_member(circle):
    anna, bram = circle.member("Anna"), circle.member("Bram")
    pot = circle.pot()
    # Bram helps Anna; Bram gives to the pot; the pot pays Anna for helping someone.
    circle.pay(anna, bram, 60)
    circle.pay(bram, pot, 60)
    circle.pay(pot, anna, 60)
    this_month = month_start(timezone.localdate())

    _analyse(circle, period=this_month)

    snapshot = _community(circle, period=this_month)
    # Round through the pot: with the pot as one node, this is a circle.
    assert (snapshot.W, snapshot.D, snapshot.C, snapshot.A) == (180, 0, 180, 0)
    assert snapshot.members == 3  # Anna, Bram and the coordinator; not the pot
    assert snapshot.active_members == 2
    bram_snapshot = _member(bram, period=this_month)
    assert (bram_snapshot.given, bram_snapshot.gives, bram_snapshot.helped) == (60, 1, 1)
    # Paying the pot is spending, not being helped by a person.
    assert bram_snapshot.last_spent == timezone.localdate()
    assert bram_snapshot.last_received is None
    assert bram_snapshot.partners == 1


def test_the_window_leaves_out_older_payments_and_all_time_keeps_them(circle):
    ReciprocitySettings.objects.create(community=circle.community, window_days=30)
    anna, bram = circle.member("Anna"), circle.member("Bram")
    as_of = last_month_end()
    circle.cheques((bram, anna, 60, as_of - timedelta(days=45)), (bram, anna, 30, as_of))

    _analyse(circle)

    window, all_time = _community(circle), _community(circle, Scope.ALL_TIME)
    assert (window.W, window.transfers, window.window_start) == (
        30,
        1,
        as_of - timedelta(days=29),
    )
    assert (all_time.W, all_time.transfers, all_time.window_start) == (90, 2, None)
    assert window.as_of == all_time.as_of == as_of
    assert (_member(anna).given, _member(anna, Scope.ALL_TIME).given) == (30, 90)
    # Counted on all time whatever the scope.
    assert _member(anna).trades_all_time == 2


def test_the_balance_is_the_one_at_the_end_of_the_month(circle):
    anna, bram = circle.member("Anna"), circle.member("Bram")
    circle.cheques((bram, anna, 60, last_month_end()))
    circle.pay(bram, anna, 30)  # today: after last month

    _analyse(circle)

    assert (_member(anna).balance, _member(bram).balance) == (60, -60)
    assert (_member(anna).floor, _member(anna).ceiling) == (-1200, 2400)
    assert _member(anna).as_of == last_month_end()


def test_giving_load_and_the_last_days_of_giving_and_receiving(circle):
    anna, bram = circle.member("Anna"), circle.member("Bram")
    as_of = last_month_end()
    circle.cheques(
        (bram, anna, 60, as_of - timedelta(days=40)),  # an earlier 30-day block
        (bram, anna, 45, as_of - timedelta(days=10)),
        (bram, anna, 15, as_of - timedelta(days=3)),
        (anna, bram, 30, as_of - timedelta(days=20)),
    )

    _analyse(circle)

    anna_snapshot = _member(anna)
    assert anna_snapshot.load_30d == 60
    assert anna_snapshot.last_gave == as_of - timedelta(days=3)
    assert anna_snapshot.last_received == as_of - timedelta(days=20)
    assert anna_snapshot.last_spent == as_of - timedelta(days=20)
    # Twelve blocks of the year: 60, 60 and ten empty ones.
    assert anna_snapshot.load_median == 0
    bram_snapshot = _member(bram)
    assert (bram_snapshot.load_30d, bram_snapshot.last_gave) == (30, as_of - timedelta(days=20))


def test_a_member_who_joined_lately_has_a_usual_load_of_their_own_months(circle):
    ReciprocitySettings.objects.create(community=circle.community, window_days=90)
    anna = circle.member(
        "Anna", joined_days_ago=(timezone.localdate() - last_month_end()).days + 40
    )
    bram = circle.member("Bram")
    as_of = last_month_end()
    circle.cheques((bram, anna, 60, as_of - timedelta(days=35)), (bram, anna, 20, as_of))

    _analyse(circle)

    # The two blocks since Anna joined: 20 and 60; the block before does not count.
    assert (_member(anna).load_30d, _member(anna).load_median) == (20, 40)


def test_a_steadily_falling_balance_has_a_trend_and_days_to_the_floor(circle):
    anna, bram = circle.member("Anna"), circle.member("Bram")
    as_of = last_month_end()
    # Bram helps Anna ten minutes every day for the last 90 days.
    circle.cheques(*[(anna, bram, 10, as_of - timedelta(days=d)) for d in range(90)])

    _analyse(circle)

    snapshot = _member(anna)
    assert snapshot.balance == -900
    assert snapshot.balance_trend == pytest.approx(-10.0)
    # 300 minutes left above the floor of -1200, at 10 a day.
    assert snapshot.days_to_floor == 30
    rising = _member(bram)
    assert rising.balance_trend == pytest.approx(10.0)
    assert rising.days_to_floor is None


def test_areas_count_their_members_and_what_they_gave(circle):
    north = AreaFactory(community=circle.community, name="Noord")
    anna = circle.member("Anna", area=north)
    bram = circle.member("Bram", area=north)
    carla = circle.member("Carla", area=north)
    daan = circle.member("Daan")
    day = last_month() + timedelta(days=1)
    # A circle inside Noord (60 each), and Daan helps Anna for 30.
    circle.cheques(
        (bram, anna, 60, day),
        (carla, bram, 60, day),
        (anna, carla, 60, day),
        (anna, daan, 30, day),
    )

    _analyse(circle)

    area = AreaSnapshot.objects.get(area=north, period=last_month(), scope=Scope.WINDOW)
    assert (area.members, area.active_members, area.two_sided_members) == (3, 3, 3)
    assert (area.exchanges, area.volume) == (3, 180)
    assert area.circulation_share == pytest.approx(1.0)
    outside = AreaSnapshot.objects.get(area=None, period=last_month(), scope=Scope.WINDOW)
    # Daan and the coordinator have no area.
    assert (outside.members, outside.active_members, outside.exchanges, outside.volume) == (
        2,
        1,
        1,
        30,
    )
    assert AreaSnapshot.objects.filter(period=last_month()).count() == 4  # 2 areas x 2 scopes


def test_pairs_with_three_payments_are_kept_with_their_recent_weeks(circle):
    anna, bram, carla = circle.member("Anna"), circle.member("Bram"), circle.member("Carla")
    as_of = last_month_end()
    circle.cheques(
        (bram, anna, 60, as_of),  # week 1
        (bram, anna, 60, as_of - timedelta(days=2)),  # week 1 again
        (anna, bram, 30, as_of - timedelta(days=20)),  # week 3
        (bram, anna, 60, as_of - timedelta(days=100)),  # long ago
        (carla, anna, 60, as_of),
        (carla, anna, 60, as_of - timedelta(days=1)),  # only two: not kept
    )

    _analyse(circle)

    (pair,) = PairSnapshot.objects.filter(period=last_month())
    first, second = sorted([anna, bram], key=lambda account: account.membership_id)
    assert (pair.first_id, pair.second_id) == (first.membership_id, second.membership_id)
    gave = {anna.membership_id: 180, bram.membership_id: 30}
    assert (pair.first_gave, pair.second_gave) == (
        gave[first.membership_id],
        gave[second.membership_id],
    )
    assert (pair.exchanges, pair.recent_weeks) == (4, 2)


def test_members_who_left_before_the_month_ended_or_joined_after_are_not_counted(circle):
    circle.member("Anna")
    MembershipFactory(
        community=circle.community, status="left", left_at=timezone.now() - timedelta(days=400)
    )
    MembershipFactory(community=circle.community, joined_at=timezone.now())
    MembershipFactory(community=circle.community, status="applied", joined_at=None)

    _analyse(circle)

    assert _community(circle).members == 2  # Anna and the coordinator


def test_running_twice_gives_the_same_rows(circle):
    anna, bram, carla = circle.member("Anna"), circle.member("Bram"), circle.member("Carla")
    day = last_month() + timedelta(days=4)
    circle.cheques(*[(bram, anna, 30, day), (anna, bram, 30, day), (carla, anna, 20, day)] * 2)

    def rows():
        return [
            list(model.objects.order_by("pk").values_list(*fields))
            for model, fields in (
                (CommunitySnapshot, ("pk", "scope", "W", "D", "C", "A", "members")),
                (MemberSnapshot, ("pk", "membership", "scope", "given", "balance", "skew")),
                (AreaSnapshot, ("pk", "area", "scope", "volume")),
                (PairSnapshot, ("pk", "first", "second", "exchanges")),
            )
        ]

    _analyse(circle)
    first = rows()
    _analyse(circle)

    assert rows() == first
    assert [len(table) for table in first] == [2, 8, 2, 1]


def test_a_late_cheque_or_reversal_in_an_old_month_changes_all_time_when_analysed_again(circle):
    anna, bram = circle.member("Anna"), circle.member("Bram")
    long_ago = last_month() - timedelta(days=500)  # outside the window
    recent = last_month() + timedelta(days=3)
    old_help, *weekly = circle.cheques(
        (bram, anna, 600, long_ago), *[(bram, anna, 30, recent)] * 2, (anna, bram, 30, recent)
    )
    _analyse(circle)
    assert _community(circle, Scope.ALL_TIME).W == 690
    assert PairSnapshot.objects.filter(period=last_month()).count() == 1

    # The coordinator finds out only now that the old cheque was a mistake,
    # and enters a cheque from back then that had been forgotten.
    circle.reverse(old_help)
    circle.reverse(weekly[0])
    circle.cheques((anna, bram, 45, long_ago))
    _analyse(circle)

    everything = _community(circle, Scope.ALL_TIME)
    assert (everything.W, everything.transfers) == (105, 3)
    assert (_member(anna, Scope.ALL_TIME).given, _member(bram, Scope.ALL_TIME).given) == (30, 75)
    assert _community(circle).W == 60
    # Two payments are left in the window: no longer a pair to watch.
    assert not PairSnapshot.objects.filter(period=last_month()).exists()


def test_a_member_who_left_before_the_month_ended_is_dropped_when_analysed_again(circle):
    anna, bram = circle.member("Anna"), circle.member("Bram")
    circle.cheques((bram, anna, 60, last_month() + timedelta(days=1)))
    _analyse(circle)
    ids = set(MemberSnapshot.objects.values_list("pk", flat=True))

    bram.membership.status, bram.membership.left_at = "left", timezone.now() - timedelta(days=400)
    bram.membership.save()
    _analyse(circle)

    assert not MemberSnapshot.objects.filter(membership_id=bram.membership_id).exists()
    # The rows that stay keep their ids.
    assert set(MemberSnapshot.objects.values_list("pk", flat=True)) < ids
    assert _community(circle).members == 2  # Anna and the coordinator


def test_a_period_must_be_the_first_of_a_month_that_has_begun(circle):
    with pytest.raises(InvalidInput):
        services.community_analyse(community=circle.community, period=last_month() + timedelta(1))
    next_month = month_start(month_start(timezone.localdate()) + timedelta(days=32))
    with pytest.raises(InvalidInput):
        services.community_analyse(community=circle.community, period=next_month)
    assert not CommunitySnapshot.objects.exists()


def test_the_backfill_analyses_each_month_and_skips_the_finished_ones(circle):
    anna, bram = circle.member("Anna"), circle.member("Bram")
    circle.cheques((bram, anna, 60, last_month()))
    run = AnalysisRun.objects.create(community=circle.community)

    services.community_backfill(community=circle.community, months=2, run=run)

    periods = sorted(
        set(
            CommunitySnapshot.objects.filter(community=circle.community).values_list(
                "period", flat=True
            )
        )
    )
    this_month = month_start(timezone.localdate())
    assert periods == [month_start(last_month() - timedelta(days=1)), last_month(), this_month]
    run.refresh_from_db()
    assert run.progress == 100
    first = dict(CommunitySnapshot.objects.values_list("pk", "computed_at"))

    services.community_backfill(community=circle.community, months=2)

    again = dict(CommunitySnapshot.objects.values_list("pk", "computed_at"))
    changed = {
        CommunitySnapshot.objects.get(pk=pk).period for pk in first if again[pk] != first[pk]
    }
    assert changed == {this_month}


def test_only_a_coordinator_may_start_an_analysis(circle):
    anna = circle.member("Anna")

    with pytest.raises(NotAllowed):
        services.analysis_request(actor=anna.membership.user, community=circle.community)
    assert not AnalysisRun.objects.exists()


def test_a_second_request_while_one_runs_returns_the_first(
    circle, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        first = services.analysis_request(actor=circle.coordinator, community=circle.community)
        second = services.analysis_request(actor=circle.coordinator, community=circle.community)

    assert first == second
    assert AnalysisRun.objects.count() == 1
    assert len(queued) == 1
    assert first.status == RunStatus.QUEUED


def test_a_run_lost_long_ago_no_longer_blocks_a_new_one(circle, django_capture_on_commit_callbacks):
    lost = AnalysisRun.objects.create(
        community=circle.community,
        status=RunStatus.RUNNING,
        created_at=timezone.now() - timedelta(days=1),
    )
    with django_capture_on_commit_callbacks():
        run = services.analysis_request(actor=circle.coordinator, community=circle.community)

    assert run != lost
