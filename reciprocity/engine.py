"""The numbers behind reciprocity: how a community's flow splits into direct
returns, circulation through cycles and one-way flow.

Pure functions over numpy arrays, with no database and no Django models, so
the same engine serves a snapshot job over the ledger and a report over another
system's export. One call analyses one community.

An edge is one payment: money flows from the ``payer`` to the ``payee``, and
the payee is the member who *gave* help. Nodes are integer indices ``0..n-1``;
amounts are positive integers in minor units, and every total is an exact
integer.

The split (see DOMAIN.md, "Reciprocity"). Let ``F[i, j]`` be everything ``i``
paid ``j``, with parallel payments added up and payments to oneself left out:

- ``W`` is the total flow, the sum of ``F``;
- ``D``, the direct return, is ``sum(min(F[i, j], F[j, i]))`` over ordered
  pairs, that is twice the matched part of every pair that trades both ways;
- netting each pair leaves ``N[i, j] = max(F[i, j] - F[j, i], 0)``. ``C`` is the
  largest circulation ``g`` inside ``N`` (``0 <= g <= N`` and, at every node,
  as much in as out): credit that comes back round through cycles of three or
  more members. It is found as a minimum-cost flow, never by enumerating cycles;
- ``A = W - D - C`` is the flow that goes one way and does not come back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from ortools.graph.python import min_cost_flow
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

CYCLE_NONE: Final = "none"
CYCLE_SOME: Final = "some"
CYCLE_MUCH: Final = "much"
CYCLE_MOST: Final = "most"

# Every total must stay exact in int64, with room for the solver's costs.
_LARGEST_TOTAL: Final = 2**62


@dataclass(frozen=True)
class MemberReciprocity:
    """Per-member measures, one array entry per member, in the order of ``node``.

    A member is a node with any flow that is not the merged system node.
    ``given`` is what the member was paid (help given), ``received`` what the
    member paid out (help received). Shares of the outflow are NaN, and the
    cycle bin is None, for a member who never paid anything.
    """

    node: NDArray[np.int64]
    given: NDArray[np.int64]
    received: NDArray[np.int64]
    balance: NDArray[np.int64]
    direct_returned_share: NDArray[np.float64]
    cycle_returned_bin: tuple[str | None, ...]
    effective_partners: NDArray[np.float64]
    skew: NDArray[np.float64]


@dataclass(frozen=True)
class ReciprocityResult:
    """One community's reciprocity measures. ``D + C + A == W`` holds exactly.

    ``W``, ``D``, ``C``, ``A`` and ``nid`` are integers in minor units; the
    shares are parts of ``W`` (0 when ``W`` is 0). ``nid``, the net internal
    debt, is the sum of the positive balances over every node, the merged system
    node included, so it equals the sum of the negative ones; it never exceeds
    ``A``. ``members`` counts the nodes with any flow except the system node;
    ``giant_scc_share`` is the share of them in the largest strongly connected
    component of the flow graph (paths through the system node count, the system
    node itself does not). ``gini_balance`` and ``gini_volume`` are
    ``gini_coefficient`` of the members' balances and of given + received;
    ``skew_k`` is the damping the member skews used.

    ``balances`` (in - out) has one entry per node of the analysed graph: the
    original nodes, and last the merged system node when there is one
    (``system_node``). System accounts that were merged keep a balance of zero
    at their own index.
    """

    W: int
    D: int
    C: int
    A: int
    direct_share: float
    circulation_share: float
    one_way_share: float
    nid: int
    nid_share: float
    members: int
    giant_scc_share: float
    gini_balance: float
    gini_volume: float
    skew_k: float
    balances: NDArray[np.int64]
    system_node: int | None
    member: MemberReciprocity


def gini_coefficient(*, values: ArrayLike) -> float:
    """The Gini coefficient, in a form that also holds for negative values.

    ``G = sum_i sum_j |x_i - x_j| / (2 * n * sum_i |x_i|)``: half the mean
    absolute difference, divided by the mean absolute value. For non-negative
    values this is the usual Gini (0 when everyone has the same, towards 1 when
    one has everything). Balances in a mutual-credit circle sum to about zero,
    so the usual division by the mean would be meaningless; dividing by the mean
    absolute value keeps the measure scale-free and between 0 and 1. Zero for no
    values or when every value is zero.
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = x.size
    scale = np.abs(x).sum()
    if n == 0 or scale == 0:
        return 0.0
    # With x sorted, sum_i sum_j |x_i - x_j| = 2 * sum_i (2i - n + 1) * x_i (0-based).
    ranks = 2 * np.arange(n, dtype=np.float64) - n + 1
    return float(2 * (ranks * x).sum() / (2 * n * scale))


def _sum_by_node(*, index: NDArray[np.int64], values: NDArray, size: int) -> NDArray:
    """Add ``values`` up per node, exactly in the dtype of ``values``."""
    totals = np.zeros(size, dtype=values.dtype)
    np.add.at(totals, index, values)
    return totals


def _edges_checked(
    *, payer: ArrayLike, payee: ArrayLike, amount: ArrayLike, node_count: int | None
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], int]:
    """The edges as int64 arrays and the number of nodes; ValueError on bad input."""
    tails = np.asarray(payer)
    heads = np.asarray(payee)
    amounts = np.asarray(amount)
    if not (tails.ndim == heads.ndim == amounts.ndim == 1):
        raise ValueError("payer, payee and amount must be one-dimensional")
    if not (tails.size == heads.size == amounts.size):
        raise ValueError("payer, payee and amount must have the same length")
    for name, array in (("payer", tails), ("payee", heads), ("amount", amounts)):
        if array.size and not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"{name} must hold integers")
    tails, heads, amounts = (a.astype(np.int64, copy=False) for a in (tails, heads, amounts))
    if amounts.size and amounts.min() <= 0:
        raise ValueError("every amount must be positive")
    if amounts.size and int(amounts.max()) > _LARGEST_TOTAL // amounts.size:
        raise ValueError("the amounts are too large to add up exactly")
    largest = int(max(tails.max(), heads.max())) if tails.size else -1
    if node_count is None:
        node_count = largest + 1
    if (tails.size and min(tails.min(), heads.min()) < 0) or largest >= node_count:
        raise ValueError("node indices must lie in 0..node_count-1")
    return tails, heads, amounts, node_count


def _aggregate(
    *, tails: NDArray[np.int64], heads: NDArray[np.int64], amounts: NDArray[np.int64], n: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """``F`` as arrays of its non-zero entries: tail, head, amount, and the key
    ``tail * n + head``, sorted by key. Payments to oneself are left out."""
    keep = tails != heads
    keys = tails[keep] * n + heads[keep]
    unique_keys, position = np.unique(keys, return_inverse=True)
    flow = np.zeros(unique_keys.size, dtype=np.int64)
    np.add.at(flow, position, amounts[keep])
    return unique_keys // n, unique_keys % n, flow, unique_keys


def _reverse_flow(
    *, keys: NDArray[np.int64], tails: NDArray, heads: NDArray, flow: NDArray, n: int
) -> NDArray[np.int64]:
    """``F[j, i]`` for every entry ``F[i, j]`` (zero when nothing went back)."""
    reverse = heads * n + tails
    at = np.searchsorted(keys, reverse)
    at_clipped = np.minimum(at, max(keys.size - 1, 0))
    found = (at < keys.size) & (keys[at_clipped] == reverse)
    return np.where(found, flow[at_clipped], 0)


def _strong_components(
    *, tails: NDArray[np.int64], heads: NDArray[np.int64], n: int
) -> NDArray[np.int32]:
    """The strongly connected component label of every node."""
    graph = csr_array((np.ones(tails.size, dtype=np.int8), (tails, heads)), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="strong")
    return labels


def _circulation(
    *, tails: NDArray[np.int64], heads: NDArray[np.int64], netted: NDArray[np.int64], n: int
) -> NDArray[np.int64]:
    """The largest circulation ``g`` in the netted graph, per arc of ``netted``.

    A circulation only uses arcs inside a strongly connected component, so only
    those go to the solver; the components are disjoint, so one solve over all of
    them is the same as one solve per component. Write ``g = N - h``: then ``h``
    is a flow with capacities ``N`` and node supplies ``out_N(v) - in_N(v)``, and
    the smallest total ``h`` (unit cost 1, all costs non-negative) gives the
    largest total ``g``. ``h = N`` is always feasible, so the solve cannot fail on
    valid input.
    """
    circulation = np.zeros(netted.size, dtype=np.int64)
    labels = _strong_components(tails=tails, heads=heads, n=n)
    inside = labels[tails] == labels[heads]
    if not inside.any():
        return circulation
    arc_tails, arc_heads, capacity = tails[inside], heads[inside], netted[inside]
    nodes, compact = np.unique(np.concatenate([arc_tails, arc_heads]), return_inverse=True)
    solver_tails = compact[: arc_tails.size].astype(np.int32)
    solver_heads = compact[arc_tails.size :].astype(np.int32)
    supplies = _sum_by_node(index=solver_tails, values=capacity, size=nodes.size)
    supplies -= _sum_by_node(index=solver_heads, values=capacity, size=nodes.size)

    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        solver_tails, solver_heads, capacity, np.ones(capacity.size, dtype=np.int64)
    )
    solver.set_nodes_supplies(np.arange(nodes.size, dtype=np.int32), supplies)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"the minimum-cost flow solver stopped with status {status}")
    remainder = np.asarray(solver.flows(arcs), dtype=np.int64)
    circulation[inside] = capacity - remainder
    return circulation


def _cycle_bins(
    *, carried: NDArray[np.int64], outflow: NDArray[np.int64]
) -> tuple[str | None, ...]:
    """Coarse bins of ``carried / outflow``, compared exactly in integers.

    How the circulation splits over members is not unique (several maximum
    circulations can exist), so only the bin is reported: none (0), some (under
    a third), much (a third to two thirds) or most (over two thirds).
    """
    bins = np.full(carried.size, CYCLE_MOST, dtype=object)
    bins[3 * carried <= 2 * outflow] = CYCLE_MUCH
    bins[3 * carried < outflow] = CYCLE_SOME
    bins[carried == 0] = CYCLE_NONE
    bins[outflow == 0] = None
    return tuple(bins.tolist())


def _effective_partners(
    *, tails: NDArray[np.int64], heads: NDArray[np.int64], flow: NDArray[np.int64], n: int
) -> NDArray[np.float64]:
    """``exp`` of the Shannon entropy of each node's volume shares per partner.

    A partner's volume is everything paid either way between the two. One
    partner gives 1; k partners with equal volume give k.
    """
    low, high = np.minimum(tails, heads), np.maximum(tails, heads)
    pair_keys, position = np.unique(low * n + high, return_inverse=True)
    pair_volume = np.zeros(pair_keys.size, dtype=np.float64)
    np.add.at(pair_volume, position, flow.astype(np.float64))
    ends = np.concatenate([pair_keys // n, pair_keys % n])
    volumes = np.concatenate([pair_volume, pair_volume])
    total = _sum_by_node(index=ends, values=volumes, size=n)
    weighted_logs = _sum_by_node(index=ends, values=volumes * np.log(volumes), size=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = np.where(total > 0, np.log(total) - weighted_logs / total, 0.0)
    return np.where(total > 0, np.exp(entropy), 0.0)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def reciprocity_analyse(
    *,
    payer: ArrayLike,
    payee: ArrayLike,
    amount: ArrayLike,
    node_count: int | None = None,
    system_nodes: ArrayLike = (),
    skew_k: float | None = None,
) -> ReciprocityResult:
    """Analyse one community's payments.

    ``payer``, ``payee`` and ``amount`` are equally long integer arrays, one
    entry per payment; ``node_count`` defaults to the largest index plus one.
    ``system_nodes`` are the community's own accounts (the community account, a
    pot): they are merged into one marked node before the analysis, appended
    after the last original node, so that payments through the pot count as
    flow without the pot counting as a member. Payments among system accounts
    become payments to oneself and are left out. ``skew_k`` damps the skew of
    members with little volume; by default it is the median volume
    (given + received) of the members.

    Raises ValueError on malformed input (lengths, non-integer or non-positive
    amounts, indices out of range, totals too large to add up exactly).
    """
    tails, heads, amounts, n = _edges_checked(
        payer=payer, payee=payee, amount=amount, node_count=node_count
    )
    if skew_k is not None and skew_k < 0:
        raise ValueError("skew_k must not be negative")
    system = np.unique(np.asarray(system_nodes, dtype=np.int64))
    if system.size and (system.min() < 0 or system.max() >= n):
        raise ValueError("system node indices must lie in 0..node_count-1")
    is_system = np.zeros(n, dtype=bool)
    is_system[system] = True
    system_node = n if system.size else None
    if system_node is not None:
        tails = np.where(is_system[tails], system_node, tails)
        heads = np.where(is_system[heads], system_node, heads)
        n += 1
        is_system = np.append(is_system, True)

    f_tails, f_heads, flow, keys = _aggregate(tails=tails, heads=heads, amounts=amounts, n=n)
    back = _reverse_flow(keys=keys, tails=f_tails, heads=f_heads, flow=flow, n=n)
    matched = np.minimum(flow, back)
    netted = flow - matched
    total = int(flow.sum())
    direct = int(matched.sum())

    arc = netted > 0
    circulation = _circulation(tails=f_tails[arc], heads=f_heads[arc], netted=netted[arc], n=n)
    circulating = int(circulation.sum())
    one_way = total - direct - circulating
    # The solver's answer must be a circulation inside N: as much in as out at
    # every node, never more than N on an arc. Then A = W - D - C >= 0.
    circulation_out = _sum_by_node(index=f_tails[arc], values=circulation, size=n)
    circulation_in = _sum_by_node(index=f_heads[arc], values=circulation, size=n)
    assert np.array_equal(circulation_out, circulation_in)
    assert ((circulation >= 0) & (circulation <= netted[arc])).all()
    assert one_way >= 0
    assert direct + circulating + one_way == total

    outflow = _sum_by_node(index=f_tails, values=flow, size=n)
    inflow = _sum_by_node(index=f_heads, values=flow, size=n)
    balances = inflow - outflow
    nid = int(balances[balances > 0].sum())
    assert nid == -int(balances[balances < 0].sum())

    is_member = ((inflow + outflow) > 0) & ~is_system
    members = np.flatnonzero(is_member)
    labels = _strong_components(tails=f_tails, heads=f_heads, n=n)
    giant = int(np.bincount(labels[members]).max()) if members.size else 0

    volume = (inflow + outflow)[members]
    if skew_k is None:
        skew_k = float(np.median(volume)) if members.size else 0.0
    given, received = inflow[members], outflow[members]
    returned_directly = _sum_by_node(index=f_tails, values=matched, size=n)[members]
    carried = circulation_out[members]
    with np.errstate(divide="ignore", invalid="ignore"):
        direct_returned = np.where(received > 0, returned_directly / received, np.nan)
        skew = (given - received) / (given + received + skew_k)

    member = MemberReciprocity(
        node=members.astype(np.int64),
        given=given,
        received=received,
        balance=balances[members],
        direct_returned_share=direct_returned,
        cycle_returned_bin=_cycle_bins(carried=carried, outflow=received),
        effective_partners=_effective_partners(tails=f_tails, heads=f_heads, flow=flow, n=n)[
            members
        ],
        skew=skew,
    )
    return ReciprocityResult(
        W=total,
        D=direct,
        C=circulating,
        A=one_way,
        direct_share=_share(direct, total),
        circulation_share=_share(circulating, total),
        one_way_share=_share(one_way, total),
        nid=nid,
        nid_share=_share(nid, total),
        members=int(members.size),
        giant_scc_share=_share(giant, int(members.size)),
        gini_balance=gini_coefficient(values=balances[members]),
        gini_volume=gini_coefficient(values=volume),
        skew_k=float(skew_k),
        balances=balances,
        system_node=system_node,
        member=member,
    )
