"""Properties of the engine on random small circles, checked against an
independent reference: the pairs netted by hand in plain Python, and the
circulation as a linear programme solved by scipy's ``linprog`` (HiGHS), which
knows nothing of minimum-cost flows or strongly connected components.
"""

from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from reciprocity.engine import reciprocity_analyse

MAX_NODES = 8


@st.composite
def circles(draw, max_nodes: int = MAX_NODES, max_payments: int = 30):
    """A node count and payments (payer, payee, amount), self-payments included."""
    nodes = draw(st.integers(min_value=2, max_value=max_nodes))
    index = st.integers(min_value=0, max_value=nodes - 1)
    payments = draw(
        st.lists(
            st.tuples(index, index, st.integers(min_value=1, max_value=20)),
            max_size=max_payments,
        )
    )
    return nodes, payments


def analyse(nodes, payments, **options):
    columns = list(zip(*payments, strict=True)) if payments else [(), (), ()]
    payer, payee, amount = (np.array(column, dtype=np.int64) for column in columns)
    return reciprocity_analyse(payer=payer, payee=payee, amount=amount, node_count=nodes, **options)


def reference_split(nodes, payments):
    """W, D and the netted arcs, added up pair by pair in plain Python."""
    flow = defaultdict(int)
    for payer, payee, amount in payments:
        if payer != payee:
            flow[payer, payee] += amount
    total = sum(flow.values())
    direct = sum(min(amount, flow.get((j, i), 0)) for (i, j), amount in flow.items())
    netted = {
        (i, j): amount - flow.get((j, i), 0)
        for (i, j), amount in flow.items()
        if amount > flow.get((j, i), 0)
    }
    return total, direct, netted


def reference_circulation(nodes, netted):
    """The largest circulation in the netted arcs as a linear programme:
    maximise the sum of g with 0 <= g <= N and, at every node, in = out."""
    if not netted:
        return 0.0
    arcs = list(netted)
    conservation = np.zeros((nodes, len(arcs)))
    for column, (i, j) in enumerate(arcs):
        conservation[i, column] += 1
        conservation[j, column] -= 1
    solution = linprog(
        c=-np.ones(len(arcs)),
        A_eq=conservation,
        b_eq=np.zeros(nodes),
        bounds=[(0, netted[arc]) for arc in arcs],
        method="highs",
    )
    assert solution.status == 0
    return -solution.fun


@settings(max_examples=300, deadline=None)
@given(circles())
def test_the_split_adds_up_and_matches_the_linear_programme(circle):
    nodes, payments = circle
    result = analyse(nodes, payments)
    total, direct, netted = reference_split(nodes, payments)

    assert result.D + result.C + result.A == result.W == total
    assert direct == result.D
    assert 0 <= result.C <= sum(netted.values())
    assert pytest.approx(reference_circulation(nodes, netted), abs=1e-6) == result.C
    # What stays open after all returns can never exceed the one-way flow.
    assert 0 <= result.nid <= result.A


@settings(max_examples=200, deadline=None)
@given(circles(), st.randoms(use_true_random=False))
def test_renaming_members_and_reordering_payments_changes_no_community_measure(circle, random):
    nodes, payments = circle
    names = list(range(nodes))
    random.shuffle(names)
    renamed = [(names[payer], names[payee], amount) for payer, payee, amount in payments]
    random.shuffle(renamed)

    before, after = analyse(nodes, payments), analyse(nodes, renamed)

    for measure in ("W", "D", "C", "A", "nid", "members"):
        assert getattr(after, measure) == getattr(before, measure), measure
    for measure in ("giant_scc_share", "gini_balance", "gini_volume", "skew_k"):
        assert getattr(after, measure) == pytest.approx(getattr(before, measure)), measure
    assert after.balances[names].tolist() == before.balances.tolist()


@settings(max_examples=100, deadline=None)
@given(circles(), st.integers(min_value=2, max_value=1000))
def test_counting_in_smaller_units_scales_every_amount_alike(circle, factor):
    nodes, payments = circle
    scaled = [(payer, payee, amount * factor) for payer, payee, amount in payments]

    before, after = analyse(nodes, payments), analyse(nodes, scaled)

    assert tuple(factor * value for value in (before.W, before.D, before.C, before.A)) == (
        after.W,
        after.D,
        after.C,
        after.A,
    )


@settings(max_examples=100, deadline=None)
@given(circles(), st.data())
def test_merging_system_accounts_is_the_same_as_paying_one_account(circle, data):
    nodes, payments = circle
    system = data.draw(st.sets(st.integers(min_value=0, max_value=nodes - 1), min_size=1))
    # By hand: every system account becomes node ``nodes``.
    relabelled = [
        (nodes if payer in system else payer, nodes if payee in system else payee, amount)
        for payer, payee, amount in payments
    ]

    merged = analyse(nodes, payments, system_nodes=sorted(system))
    by_hand = analyse(nodes + 1, relabelled)

    assert (merged.W, merged.D, merged.C, merged.A) == (by_hand.W, by_hand.D, by_hand.C, by_hand.A)
    assert merged.system_node == nodes
    assert not set(merged.member.node.tolist()) & (system | {nodes})


def test_a_larger_random_circle_matches_the_linear_programme():
    rng = np.random.default_rng(20250301)
    nodes = 60
    payments = [
        (int(i), int(j), int(a))
        for i, j, a in zip(
            rng.integers(0, nodes, 400),
            rng.integers(0, nodes, 400),
            rng.integers(1, 500, 400),
            strict=True,
        )
    ]
    result = analyse(nodes, payments)
    total, direct, netted = reference_split(nodes, payments)

    assert (total, direct) == (result.W, result.D)
    assert pytest.approx(reference_circulation(nodes, netted), abs=1e-6) == result.C
    assert result.C > 0
