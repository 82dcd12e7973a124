"""The reciprocity engine, told as circles with the arithmetic done by hand.

Every payment is (payer, payee, amount): the payee helped the payer and was
paid for it. W is all flow, D what came straight back within a pair, C what
came back round a circle of three or more after netting each pair, and A the
rest, which went one way.
"""

import math

import numpy as np
import pytest

from reciprocity.engine import (
    CYCLE_MOST,
    CYCLE_MUCH,
    CYCLE_NONE,
    CYCLE_SOME,
    gini_coefficient,
    reciprocity_analyse,
)

ANNA, BRAM, CAS, DIRK, EVA, FEMKE = range(6)


def analyse(payments, **options):
    payer, payee, amount = zip(*payments, strict=True) if payments else ((), (), ())
    return reciprocity_analyse(
        payer=np.array(payer, dtype=np.int64),
        payee=np.array(payee, dtype=np.int64),
        amount=np.array(amount, dtype=np.int64),
        **options,
    )


def split(result):
    return result.W, result.D, result.C, result.A


def test_a_pair_that_helps_each_other_equally_is_all_direct_return():
    # Anna helps Bram for 60 minutes, Bram helps Anna for 60.
    # W = 120; min(60, 60) = 60 each way, so D = 2 * 60 = 120; nothing is left to net.
    result = analyse([(BRAM, ANNA, 60), (ANNA, BRAM, 60)])

    assert split(result) == (120, 120, 0, 0)
    assert result.direct_share == 1.0
    assert result.nid == 0


def test_a_triangle_is_all_circulation():
    # Anna pays Bram 30, Bram pays Cas 30, Cas pays Anna 30: no pair trades both
    # ways (D = 0), and the 30 goes round once: C = 3 * 30 = 90 = W.
    result = analyse([(ANNA, BRAM, 30), (BRAM, CAS, 30), (CAS, ANNA, 30)])

    assert split(result) == (90, 0, 90, 0)
    assert result.circulation_share == 1.0
    assert result.member.cycle_returned_bin == (CYCLE_MOST, CYCLE_MOST, CYCLE_MOST)


def test_a_chain_is_all_one_way_flow():
    # Anna pays Bram 50, Bram pays Cas 20, Cas pays Dirk 10: nothing comes back.
    # W = 80 = A. Balances: Anna -50, Bram +30, Cas +10, Dirk +10, so NID = 50.
    result = analyse([(ANNA, BRAM, 50), (BRAM, CAS, 20), (CAS, DIRK, 10)])

    assert split(result) == (80, 0, 0, 80)
    assert result.one_way_share == 1.0
    assert result.balances.tolist() == [-50, 30, 10, 10]
    assert result.nid == 50
    assert result.nid_share == 50 / 80
    # Nobody can reach anyone who reached them: four components of one member.
    assert result.giant_scc_share == 1 / 4
    assert result.member.cycle_returned_bin == (CYCLE_NONE, CYCLE_NONE, CYCLE_NONE, None)


def test_a_triangle_with_a_back_payment_and_a_tail():
    # Triangle Anna -> Bram -> Cas -> Anna, 5 each; Bram also pays Anna 2; Cas pays Dirk 3.
    # W = 5 + 5 + 5 + 2 + 3 = 20.
    # Pair Anna/Bram: 5 one way, 2 back: D = 2 * 2 = 4.
    # Netted: Anna -> Bram 3, Bram -> Cas 5, Cas -> Anna 5, Cas -> Dirk 3.
    # The one cycle carries its smallest arc, 3, on three arcs: C = 9.
    # A = 20 - 4 - 9 = 7 (Bram -> Cas 2, Cas -> Anna 2, Cas -> Dirk 3 are left).
    result = analyse(
        [(ANNA, BRAM, 5), (BRAM, CAS, 5), (CAS, ANNA, 5), (BRAM, ANNA, 2), (CAS, DIRK, 3)]
    )

    assert split(result) == (20, 4, 9, 7)
    # Balances (in - out): Anna 7 - 5 = 2, Bram 5 - 7 = -2, Cas 5 - 8 = -3, Dirk 3.
    assert result.balances.tolist() == [2, -2, -3, 3]
    assert result.nid == 5
    assert result.members == 4
    # Anna, Bram and Cas reach each other; Dirk reaches nobody.
    assert result.giant_scc_share == 3 / 4


def test_two_triangles_sharing_a_member_with_unequal_amounts():
    # Anna sits in two circles. Anna -> Bram 4, Bram -> Cas 6, Cas -> Anna 5;
    # Anna -> Dirk 7, Dirk -> Eva 2, Eva -> Anna 3. No pair trades both ways: D = 0.
    # W = 4 + 6 + 5 + 7 + 2 + 3 = 27.
    # First circle carries min(4, 6, 5) = 4 on three arcs = 12; the second
    # min(7, 2, 3) = 2 on three arcs = 6. C = 18, A = 27 - 18 = 9.
    result = analyse(
        [
            (ANNA, BRAM, 4),
            (BRAM, CAS, 6),
            (CAS, ANNA, 5),
            (ANNA, DIRK, 7),
            (DIRK, EVA, 2),
            (EVA, ANNA, 3),
        ]
    )

    assert split(result) == (27, 0, 18, 9)
    # Share of each member's outflow carried round:
    # Anna (4 + 2) / 11 = 0.55 much; Bram 4 / 6 = exactly 2/3, still much;
    # Cas 4 / 5 = 0.8 most; Dirk 2 / 2 most; Eva 2 / 3, much.
    assert result.member.cycle_returned_bin == (
        CYCLE_MUCH,
        CYCLE_MUCH,
        CYCLE_MOST,
        CYCLE_MOST,
        CYCLE_MUCH,
    )


def test_a_four_cycle_with_a_chord_takes_the_largest_circulation_not_the_shortest_cycle():
    # Anna -> Bram -> Cas -> Dirk -> Anna, 4 each, and a chord Anna -> Cas of 3.
    # W = 16 + 3 = 19, D = 0. Two cycles share Cas -> Dirk and Dirk -> Anna (4 each):
    # x round the four-cycle and y round Anna -> Cas -> Dirk -> Anna, with
    # x <= 4, y <= 3, x + y <= 4. The circulation is 4x + 3y, largest at
    # x = 4, y = 0: C = 16, A = 3 (the chord). Filling the short cycle first would
    # give y = 3, x = 1: only 13.
    result = analyse(
        [(ANNA, BRAM, 4), (BRAM, CAS, 4), (CAS, DIRK, 4), (DIRK, ANNA, 4), (ANNA, CAS, 3)]
    )

    assert split(result) == (19, 0, 16, 3)


def test_two_circles_joined_by_a_one_way_bridge():
    # Circle one: Anna -> Bram -> Cas -> Anna, 3 each, and Bram pays Anna 1 back.
    # Circle two: Dirk -> Eva -> Femke -> Dirk, 2 each. Cas pays Dirk 10.
    # W = 9 + 1 + 6 + 10 = 26. D = 2 * min(3, 1) = 2.
    # Netted circle one: Anna -> Bram 2, Bram -> Cas 3, Cas -> Anna 3: carries 2 * 3 = 6.
    # Circle two carries 2 * 3 = 6. The bridge lies on no cycle. C = 12, A = 12.
    result = analyse(
        [
            (ANNA, BRAM, 3),
            (BRAM, CAS, 3),
            (CAS, ANNA, 3),
            (BRAM, ANNA, 1),
            (DIRK, EVA, 2),
            (EVA, FEMKE, 2),
            (FEMKE, DIRK, 2),
            (CAS, DIRK, 10),
        ]
    )

    assert split(result) == (26, 2, 12, 12)
    assert result.giant_scc_share == 3 / 6
    # Carried round / outflow: Anna 2 / 3 much; Bram 2 / 4 much; Cas 2 / 13 some;
    # Dirk, Eva, Femke 2 / 2 most.
    assert result.member.cycle_returned_bin == (
        CYCLE_MUCH,
        CYCLE_MUCH,
        CYCLE_SOME,
        CYCLE_MOST,
        CYCLE_MOST,
        CYCLE_MOST,
    )
    # Directly returned / outflow: Anna min(3, 1) / 3; Bram min(1, 3) / 4; Cas 0 / 13.
    assert result.member.direct_returned_share[:3].tolist() == [1 / 3, 1 / 4, 0.0]


def test_parallel_payments_add_up_and_payments_to_oneself_are_left_out():
    # Anna pays Bram 2 and 3 (5 in all), Bram pays Anna 5; Cas pays himself 7.
    # W = 10, all of it direct; Cas had no flow with anyone, so is no member.
    result = analyse([(ANNA, BRAM, 2), (ANNA, BRAM, 3), (BRAM, ANNA, 5), (CAS, CAS, 7)])

    assert split(result) == (10, 10, 0, 0)
    assert result.members == 2
    assert result.member.node.tolist() == [ANNA, BRAM]


def test_no_payments_give_zeros_and_no_division_by_zero():
    result = analyse([], node_count=3)

    assert split(result) == (0, 0, 0, 0)
    assert (result.direct_share, result.circulation_share, result.one_way_share) == (0, 0, 0)
    assert (result.members, result.giant_scc_share, result.nid_share) == (0, 0.0, 0.0)


def test_system_accounts_are_merged_into_one_marked_node_that_is_no_member():
    # Nodes 2 (community account) and 3 (pot) are the circle's own accounts.
    # The community account pays Anna 10, Anna pays Bram 6, Bram pays the pot 6,
    # the pot pays the community account 5, Bram pays Anna 2.
    # Merged into one node S (index 4): S -> Anna 10, Anna -> Bram 6, Bram -> S 6,
    # Bram -> Anna 2; pot -> community account becomes S -> S and is left out.
    # W = 24. D = 2 * min(6, 2) = 4. Netted: S -> Anna 10, Anna -> Bram 4, Bram -> S 6:
    # one cycle carrying 4 on three arcs, C = 12. A = 24 - 4 - 12 = 8.
    payments = [(2, ANNA, 10), (ANNA, BRAM, 6), (BRAM, 3, 6), (3, 2, 5), (BRAM, ANNA, 2)]
    result = analyse(payments, system_nodes=[2, 3])

    assert split(result) == (24, 4, 12, 8)
    assert result.system_node == 4
    assert result.members == 2
    assert result.member.node.tolist() == [ANNA, BRAM]
    # Anna 12 - 6 = 6, Bram 6 - 8 = -2, the merged accounts 0 each, S 6 - 10 = -4.
    assert result.balances.tolist() == [6, -2, 0, 0, -4]
    assert result.nid == 6
    # Anna, Bram and S reach each other; both members are in that component.
    assert result.giant_scc_share == 1.0


def test_without_merging_the_system_accounts_their_own_transfer_counts_as_circulation():
    # The same payments with the pot and the community account as two nodes:
    # W = 29, and community -> Anna -> Bram -> pot -> community carries
    # min(10, 4, 6, 5) = 4 on four arcs: C = 16, so both accounts count as members.
    payments = [(2, ANNA, 10), (ANNA, BRAM, 6), (BRAM, 3, 6), (3, 2, 5), (BRAM, ANNA, 2)]
    result = analyse(payments)

    assert split(result) == (29, 4, 16, 9)
    assert result.members == 4
    assert result.system_node is None


def test_per_member_giving_receiving_and_skew():
    # The triangle with a back payment and a tail again:
    # Anna given 5 + 2 = 7, received 5; Bram given 5, received 7;
    # Cas given 5, received 8; Dirk given 3, received 0.
    # Volumes 12, 12, 13, 3: the median k is 12.
    payments = [(ANNA, BRAM, 5), (BRAM, CAS, 5), (CAS, ANNA, 5), (BRAM, ANNA, 2), (CAS, DIRK, 3)]
    result = analyse(payments)
    member = result.member

    assert member.given.tolist() == [7, 5, 5, 3]
    assert member.received.tolist() == [5, 7, 8, 0]
    assert member.balance.tolist() == [2, -2, -3, 3]
    assert result.skew_k == 12
    # (given - received) / (given + received + k)
    assert member.skew.tolist() == pytest.approx([2 / 24, -2 / 24, -3 / 25, 3 / 15])
    assert analyse(payments, skew_k=0).member.skew.tolist() == pytest.approx(
        [2 / 12, -2 / 12, -3 / 13, 1.0]
    )
    # Anna got back min(5, 2) of the 5 she paid, Bram min(2, 5) of 7, Cas none of
    # 8; Dirk paid nothing, so there is no share.
    assert member.direct_returned_share[:3].tolist() == [2 / 5, 2 / 7, 0.0]
    assert math.isnan(member.direct_returned_share[3])
    # Anna trades 7 with Bram and 5 with Cas: exp of the entropy of (7/12, 5/12).
    anna_entropy = -(7 / 12 * math.log(7 / 12) + 5 / 12 * math.log(5 / 12))
    assert member.effective_partners[0] == pytest.approx(math.exp(anna_entropy))
    assert member.effective_partners[3] == pytest.approx(1.0)


def test_effective_partners_counts_equally_used_partners():
    # Anna pays Bram, Cas and Dirk 4 each: three partners of equal weight.
    result = analyse([(ANNA, BRAM, 4), (ANNA, CAS, 4), (ANNA, DIRK, 4)])

    assert result.member.effective_partners.tolist() == pytest.approx([3.0, 1.0, 1.0, 1.0])


def test_cycle_bins_put_exactly_a_third_in_much_and_less_in_some():
    # Triangle of 1, and Anna also pays Dirk 2: Anna's outflow 3, 1 carried round,
    # exactly one third: much. Adding 1 more to Dirk makes it 1 / 4: some.
    circle = [(ANNA, BRAM, 1), (BRAM, CAS, 1), (CAS, ANNA, 1)]

    third = analyse([*circle, (ANNA, DIRK, 2)])
    quarter = analyse([*circle, (ANNA, DIRK, 3)])

    assert third.member.cycle_returned_bin[ANNA] == CYCLE_MUCH
    assert quarter.member.cycle_returned_bin[ANNA] == CYCLE_SOME


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # Everyone the same: no inequality.
        ([1, 1, 1, 1], 0.0),
        # One has everything: (n - 1) / n. Differences 3 * 4 twice = 24; 2 * 4 * 4 = 32.
        ([0, 0, 0, 4], 0.75),
        # Pair differences 1, 2, 3, 1, 2, 1 = 10, twice = 20; 2 * 4 * 10 = 80.
        ([1, 2, 3, 4], 0.25),
        # Balances: differences 2 twice = 4; 2 * 2 * (1 + 1) = 8.
        ([-1, 1], 0.5),
        # One member -3, three +1: differences 4 three times, twice = 24; 2 * 4 * 6 = 48.
        ([-3, 1, 1, 1], 0.5),
        ([], 0.0),
        ([0, 0], 0.0),
    ],
)
def test_gini_on_known_vectors(values, expected):
    assert gini_coefficient(values=values) == pytest.approx(expected)


def test_gini_does_not_depend_on_scale_or_order():
    assert gini_coefficient(values=[5, -2, 0, 9]) == pytest.approx(
        gini_coefficient(values=[0, 90, -20, 50])
    )


def test_gini_of_balances_and_volume_in_the_result():
    # Chain Anna -> Bram 50 -> Cas 20 -> Dirk 10: balances -50, 30, 10, 10
    # (differences 80, 60, 60, 20, 20, 0 = 240, twice 480; 2 * 4 * 100 = 800: 0.6);
    # volumes 50, 70, 30, 10 (differences 20, 20, 40, 40, 60, 20 = 200, twice 400;
    # 2 * 4 * 160 = 1280: 0.3125).
    result = analyse([(ANNA, BRAM, 50), (BRAM, CAS, 20), (CAS, DIRK, 10)])

    assert result.gini_balance == pytest.approx(0.6)
    assert result.gini_volume == pytest.approx(0.3125)


@pytest.mark.parametrize(
    ("payer", "payee", "amount", "options", "message"),
    [
        ([0], [1], [0], {}, "positive"),
        ([0], [1], [-5], {}, "positive"),
        ([0, 1], [1], [5], {}, "same length"),
        ([0], [3], [5], {"node_count": 3}, "0..node_count-1"),
        ([-1], [1], [5], {}, "0..node_count-1"),
        ([0], [1], [1.5], {}, "integers"),
        ([0], [1], [5], {"system_nodes": [7]}, "system node"),
        ([0], [1], [5], {"skew_k": -1}, "skew_k"),
        ([0, 1], [1, 0], [2**61 + 1, 2**61 + 1], {}, "too large"),
    ],
)
def test_malformed_input_is_refused(payer, payee, amount, options, message):
    with pytest.raises(ValueError, match=message):
        reciprocity_analyse(
            payer=np.array(payer), payee=np.array(payee), amount=np.array(amount), **options
        )
