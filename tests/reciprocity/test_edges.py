"""The ledger read as the analysis sees it: who paid whom, how much, on which day."""

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from reciprocity.edges import community_ledger_read
from tests.reciprocity.analysis_circle import Circle, last_month

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle():
    return Circle()


def _edges(ledger):
    """(payer account, payee account, day, total, payments), sorted."""
    return sorted(
        zip(
            ledger.account_ids[ledger.payer].tolist(),
            ledger.account_ids[ledger.payee].tolist(),
            ledger.day.tolist(),
            ledger.amount.tolist(),
            ledger.count.tolist(),
            strict=True,
        )
    )


def test_the_payee_gave_and_payments_of_one_day_add_up(circle):
    anna, bram = circle.member("Anna"), circle.member("Bram")
    day = last_month() + timedelta(days=3)
    # Anna helped Bram twice that day (Bram paid), and Bram once the day after.
    circle.cheques(
        (bram, anna, 60, day), (bram, anna, 30, day), (anna, bram, 45, day + timedelta(1))
    )

    ledger = community_ledger_read(community=circle.community)

    assert _edges(ledger) == sorted(
        [(bram.pk, anna.pk, day, 90, 2), (anna.pk, bram.pk, day + timedelta(1), 45, 1)]
    )


def test_a_cheque_counts_on_its_own_date_and_a_site_payment_on_the_day_it_was_made(circle):
    anna, bram = circle.member("Anna"), circle.member("Bram")
    cheque_day = last_month() + timedelta(days=10)
    circle.cheques((bram, anna, 60, cheque_day))
    circle.pay(anna, bram, 30)

    ledger = community_ledger_read(community=circle.community)

    assert sorted(ledger.day.tolist()) == [cheque_day, timezone.localdate()]


def test_a_reversed_payment_and_its_reversal_are_both_left_out(circle):
    anna, bram = circle.member("Anna"), circle.member("Bram")
    _kept, mistake = circle.cheques(
        (bram, anna, 60, last_month()), (bram, anna, 600, last_month() + timedelta(days=1))
    )
    circle.reverse(mistake)

    ledger = community_ledger_read(community=circle.community)

    assert _edges(ledger) == [(bram.pk, anna.pk, last_month(), 60, 1)]
    # The statement still shows the mistake and its correction on their days.
    assert int(ledger.movement_amount.sum()) == 0
    assert (ledger.movement_amount != 0).sum() >= 4


def test_system_accounts_are_listed_for_merging_and_members_map_to_memberships(circle):
    anna = circle.member("Anna")
    pot = circle.pot()
    circle.pay(anna, pot, 60)  # Anna gives to the pot

    ledger = community_ledger_read(community=circle.community)

    assert ledger.account_ids[ledger.system_nodes].tolist() == [pot.pk]
    node_of_anna = int(np.flatnonzero(ledger.account_ids == anna.pk)[0])
    assert ledger.membership_ids[node_of_anna] == anna.membership_id
    assert ledger.membership_ids[ledger.system_nodes].tolist() == [-1]
    assert _edges(ledger) == [(anna.pk, pot.pk, timezone.localdate(), 60, 1)]


def test_another_circles_payments_are_not_read(circle):
    anna, bram = circle.member("Anna"), circle.member("Bram")
    other = Circle()
    carla, daan = other.member("Carla"), other.member("Daan")
    other.cheques((carla, daan, 60, last_month()))
    circle.cheques((anna, bram, 30, last_month()))

    ledger = community_ledger_read(community=circle.community)

    assert _edges(ledger) == [(anna.pk, bram.pk, last_month(), 30, 1)]
    assert set(ledger.account_ids.tolist()) == {anna.pk, bram.pk}
