"""Flags and community alerts, raised on the stored snapshots.

A flag is a prompt for a coordinator to have a conversation, never a verdict
and never an action: nothing here writes to a member, changes a limit or
blocks anyone. Each rule below is a pure function over one period's snapshot
rows of the **window** scope, returning the numbers behind it, or None.

``flags_evaluate`` applies every rule to a period and to the month before it:
a flag is raised only when its condition held in both (two consecutive
periods, so that one unusual month raises nothing). A flag that is already
there is kept up to date while its condition holds, and otherwise left as it
is for a coordinator to resolve: flags never disappear on their own.

New members (fewer than ``new_member_days`` since they joined) and members
with few trades (fewer than ``min_trades`` all time) are never flagged; a
pair's flag needs both members past those marks.

Thresholds have defaults here; a community overrides single values in
``ReciprocitySettings.thresholds`` (``reciprocity_settings_set``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Community, Membership
from accounts.units import amount_format
from reciprocity.models import (
    AlertKind,
    CommunityAlert,
    CommunitySnapshot,
    Flag,
    FlagEvent,
    FlagKind,
    FlagStatus,
    MemberSnapshot,
    PairSnapshot,
    ReciprocitySettings,
    Scope,
)
from ruilkring.errors import NotFound

# A member whose credit never came back round a circle (engine.CYCLE_NONE);
# empty when the analysis had nothing to say.
NO_CYCLE = ("none", "")


@dataclass(frozen=True)
class ThresholdSpec:
    """One threshold: its default, the values a coordinator may choose, and
    how the settings page shows it. ``kind`` is one of days, count, percent
    (stored as a share 0..1, shown as 0..100), percentile (0..100) or
    share (a plain number 0..1)."""

    default: float | int
    kind: str
    minimum: float
    maximum: float
    label: str | Promise
    help_text: str | Promise


THRESHOLD_SPECS: dict[str, ThresholdSpec] = {
    "new_member_days": ThresholdSpec(
        90,
        "days",
        0,
        730,
        gettext_lazy("New members: days before any signal"),
        gettext_lazy("Members who joined less than this many days ago are never flagged."),
    ),
    "min_trades": ThresholdSpec(
        5,
        "count",
        0,
        100,
        gettext_lazy("Fewest exchanges before any signal"),
        gettext_lazy("Members with fewer exchanges than this, all time, are never flagged."),
    ),
    "near_limit_share": ThresholdSpec(
        0.8,
        "percent",
        0.5,
        1,
        gettext_lazy("Near the limit: share of the credit limit used (%)"),
        gettext_lazy(
            "A member who has received this share of their credit limit more than they "
            "gave. 80 means: 16 hours of a limit of 20."
        ),
    ),
    "near_limit_days": ThresholdSpec(
        60,
        "days",
        0,
        365,
        gettext_lazy("Near the limit: days left at the current pace"),
        gettext_lazy(
            "Or a member who, at the pace of the last three months, reaches their credit "
            "limit within this many days."
        ),
    ),
    "overload_skew": ThresholdSpec(
        0.8,
        "share",
        0.3,
        1,
        gettext_lazy("Gives a lot: how one-sided (0 to 1)"),
        gettext_lazy(
            "What a member gave minus what they received, over all they exchanged. "
            "1 means they only gave; 0.8 means they gave about nine times as much as they "
            "received."
        ),
    ),
    "overload_percentile": ThresholdSpec(
        90,
        "percentile",
        50,
        100,
        gettext_lazy("Gives a lot: compared with the other givers (percentile)"),
        gettext_lazy(
            "And gave at least as much in the last 30 days as this share of the members "
            "who gave in that time. 90 means: more than nine in ten of them."
        ),
    ),
    "withdrawal_skew": ThresholdSpec(
        0.8,
        "share",
        0.3,
        1,
        gettext_lazy("Receives and went quiet: how one-sided (0 to 1)"),
        gettext_lazy(
            "What a member received minus what they gave, over all they exchanged. "
            "1 means they only received."
        ),
    ),
    "withdrawal_receipts": ThresholdSpec(
        3,
        "count",
        1,
        100,
        gettext_lazy("Receives and went quiet: times received"),
        gettext_lazy("And received at least this many times in the window."),
    ),
    "quiet_days": ThresholdSpec(
        180,
        "days",
        30,
        730,
        gettext_lazy("Receives and went quiet: days without giving"),
        gettext_lazy("And has not given anything for this many days, and has no open offers."),
    ),
    "latent_need_days": ThresholdSpec(
        365,
        "days",
        90,
        3650,
        gettext_lazy("Never asks: days of membership"),
        gettext_lazy(
            "A member for at least this many days who gives, but has never received "
            "anything and never placed a request."
        ),
    ),
    "latent_need_gives": ThresholdSpec(
        5,
        "count",
        1,
        100,
        gettext_lazy("Never asks: times given"),
        gettext_lazy("And gave at least this many times in the window."),
    ),
    "latent_offer_untaken": ThresholdSpec(
        1,
        "count",
        1,
        20,
        gettext_lazy("Offers nobody takes up: offers"),
        gettext_lazy(
            "A member with at least this many offers that were open for three months "
            "without a response, who gave nothing in the window."
        ),
    ),
    "one_way_share": ThresholdSpec(
        0.8,
        "percent",
        0.5,
        1,
        gettext_lazy("A pair going one way: share given by one side (%)"),
        gettext_lazy("Two members where one gave more than this share of all help between them."),
    ),
    "pair_payments": ThresholdSpec(
        5,
        "count",
        2,
        100,
        gettext_lazy("A pair going one way: exchanges"),
        gettext_lazy("Only for pairs with at least this many exchanges in the window."),
    ),
    "weekly_weeks": ThresholdSpec(
        6,
        "count",
        1,
        8,
        gettext_lazy("Weekly help in a pair: weeks of the last 8"),
        gettext_lazy(
            "Two members where one helped the other in at least this many of the last "
            "eight weeks: a favour that may have become care."
        ),
    ),
    "large_balance_share": ThresholdSpec(
        0.8,
        "percent",
        0.3,
        1,
        gettext_lazy("Much given, nothing spent: share of the maximum (%)"),
        gettext_lazy("A member who gave this share of their maximum more than they received ..."),
    ),
    "large_balance_percentile": ThresholdSpec(
        95,
        "percentile",
        50,
        100,
        gettext_lazy("Much given, nothing spent: compared with all balances (percentile)"),
        gettext_lazy("... or whose balance is above this share of all members' balances ..."),
    ),
    "unspent_days": ThresholdSpec(
        180,
        "days",
        30,
        730,
        gettext_lazy("Much given, nothing spent: days without asking for help"),
        gettext_lazy("... and who has not paid anyone for this many days."),
    ),
    "alert_circulation_drop": ThresholdSpec(
        0.05,
        "percent",
        0.01,
        0.5,
        gettext_lazy("Circle alert: fall in what comes back round (percentage points)"),
        gettext_lazy(
            "Tell coordinators when the share of help that comes back round the circle "
            "is this much lower than three months before."
        ),
    ),
    "alert_giant_drop": ThresholdSpec(
        0.05,
        "percent",
        0.01,
        0.5,
        gettext_lazy("Circle alert: fall in members who reach each other (percentage points)"),
        gettext_lazy(
            "Tell coordinators when the share of members in the largest group that reaches "
            "each other is this much lower than three months before."
        ),
    ),
    "alert_near_limit_rise": ThresholdSpec(
        0.05,
        "percent",
        0.01,
        0.5,
        gettext_lazy("Circle alert: rise in members near their limit (percentage points)"),
        gettext_lazy(
            "Tell coordinators when the share of members near a limit is this much higher "
            "than three months before."
        ),
    ),
}

DEFAULT_THRESHOLDS: dict[str, float | int] = {
    key: spec.default for key, spec in THRESHOLD_SPECS.items()
}


def _settings_of(community: Community) -> ReciprocitySettings | None:
    return ReciprocitySettings.objects.filter(community=community).first()


def thresholds_of(*, community: Community) -> dict:
    """The defaults, with the values this community changed."""
    thresholds = dict(DEFAULT_THRESHOLDS)
    chosen = _settings_of(community)
    if chosen is not None:
        thresholds.update({k: v for k, v in chosen.thresholds.items() if k in thresholds})
    return thresholds


def window_days_of(*, community: Community) -> int:
    """The community's window in days, or the model's default without a row."""
    chosen = _settings_of(community)
    if chosen is None:
        return ReciprocitySettings._meta.get_field("window_days").default
    return chosen.window_days


# -- The rules --------------------------------------------------------------------


@dataclass(frozen=True)
class RuleContext:
    """What the rules know besides one row: the day the period was computed up
    to, the thresholds, and the community's marks for that period."""

    as_of: date
    thresholds: dict
    # The community's percentile (overload_percentile) of load_30d among the
    # members who gave in the 30 days; None when nobody gave.
    load_mark: float | None = None
    # The community's percentile (large_balance_percentile) of balances.
    balance_mark: float | None = None
    # All-time snapshots by membership id, for "never received".
    all_time: dict[int, MemberSnapshot] = field(default_factory=dict)


def _days_before(as_of: date, days: int) -> date:
    return as_of - timedelta(days=int(days))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def exempt(member: MemberSnapshot, ctx: RuleContext) -> bool:
    """New members and members who traded little are never flagged. A member
    whose joining date the analysis does not know is treated as new."""
    t = ctx.thresholds
    if member.member_since is None:
        return True
    if member.member_since > _days_before(ctx.as_of, t["new_member_days"]):
        return True
    return member.trades_all_time < t["min_trades"]


def rule_near_limit(member: MemberSnapshot, ctx: RuleContext) -> dict | None:
    t = ctx.thresholds
    used = member.floor < 0 and member.balance <= t["near_limit_share"] * member.floor
    heading = member.days_to_floor is not None and member.days_to_floor <= t["near_limit_days"]
    if not (used or heading):
        return None
    return {
        "balance": member.balance,
        "floor": member.floor,
        "limit_used": round(member.balance / member.floor, 3) if member.floor < 0 else None,
        "days_to_floor": member.days_to_floor,
        "trend_per_30_days": round(member.balance_trend * 30),
    }


def rule_overload(member: MemberSnapshot, ctx: RuleContext) -> dict | None:
    t = ctx.thresholds
    if member.skew < t["overload_skew"] or ctx.load_mark is None:
        return None
    if member.load_30d <= 0 or member.load_30d < ctx.load_mark:
        return None
    return {
        "load_30d": member.load_30d,
        "load_mark": round(ctx.load_mark),
        "percentile": t["overload_percentile"],
        "load_median": member.load_median,
        "given": member.given,
        "received": member.received,
        "receipts": member.receipts,
        "skew": round(member.skew, 2),
    }


def rule_withdrawal(member: MemberSnapshot, ctx: RuleContext) -> dict | None:
    t = ctx.thresholds
    if member.skew > -t["withdrawal_skew"] or member.receipts < t["withdrawal_receipts"]:
        return None
    quiet_since = _days_before(ctx.as_of, t["quiet_days"])
    if member.last_gave is not None and member.last_gave >= quiet_since:
        return None
    if member.open_offers > 0:
        return None
    return {
        "received": member.received,
        "receipts": member.receipts,
        "given": member.given,
        "last_gave": _iso(member.last_gave),
        "last_received": _iso(member.last_received),
        "skew": round(member.skew, 2),
    }


def rule_latent_need(member: MemberSnapshot, ctx: RuleContext) -> dict | None:
    t = ctx.thresholds
    if member.member_since is None or member.member_since > _days_before(
        ctx.as_of, t["latent_need_days"]
    ):
        return None
    if member.gives < t["latent_need_gives"] or member.requests_ever > 0:
        return None
    all_time = ctx.all_time.get(member.membership_id)
    receipts_ever = all_time.receipts if all_time is not None else member.receipts
    if receipts_ever > 0 or member.receipts > 0:
        return None
    return {
        "gives": member.gives,
        "given": member.given,
        "member_since": _iso(member.member_since),
        "requests_ever": member.requests_ever,
    }


def rule_latent_offer(member: MemberSnapshot, ctx: RuleContext) -> dict | None:
    if member.offers_untaken < ctx.thresholds["latent_offer_untaken"] or member.gives > 0:
        return None
    return {"offers_untaken": member.offers_untaken, "gives": member.gives}


def rule_large_balance(member: MemberSnapshot, ctx: RuleContext) -> dict | None:
    t = ctx.thresholds
    near_ceiling = (
        member.ceiling > 0 and member.balance >= t["large_balance_share"] * member.ceiling
    )
    above_most = (
        ctx.balance_mark is not None and member.balance > 0 and member.balance > ctx.balance_mark
    )
    if not (near_ceiling or above_most):
        return None
    if member.last_spent is not None and member.last_spent >= _days_before(
        ctx.as_of, t["unspent_days"]
    ):
        return None
    return {
        "balance": member.balance,
        "ceiling": member.ceiling,
        "balance_mark": round(ctx.balance_mark) if ctx.balance_mark is not None else None,
        "last_spent": _iso(member.last_spent),
    }


def rule_outside(member: MemberSnapshot, ctx: RuleContext) -> dict | None:
    if member.gives + member.receipts == 0:
        return None
    if member.cycle_bin not in NO_CYCLE or member.in_giant_scc:
        return None
    return {
        "gives": member.gives,
        "receipts": member.receipts,
        "partners": member.partners,
    }


def _pair_sides(pair: PairSnapshot) -> tuple[int, int, int, int]:
    """(giver id, other id, what the giver gave, what the other gave): the
    side that gave more first."""
    if pair.first_gave >= pair.second_gave:
        return pair.first_id, pair.second_id, pair.first_gave, pair.second_gave
    return pair.second_id, pair.first_id, pair.second_gave, pair.first_gave


def rule_one_way_pair(pair: PairSnapshot, ctx: RuleContext) -> dict | None:
    t = ctx.thresholds
    total = pair.first_gave + pair.second_gave
    if pair.exchanges < t["pair_payments"] or total <= 0:
        return None
    _giver, _other, gave, got = _pair_sides(pair)
    if gave / total <= t["one_way_share"]:
        return None
    return {
        "gave": gave,
        "gave_back": got,
        "share": round(gave / total, 3),
        "exchanges": pair.exchanges,
    }


def rule_weekly_pair(pair: PairSnapshot, ctx: RuleContext) -> dict | None:
    if pair.recent_weeks < ctx.thresholds["weekly_weeks"]:
        return None
    _giver, _other, gave, got = _pair_sides(pair)
    return {
        "recent_weeks": pair.recent_weeks,
        "gave": gave,
        "gave_back": got,
        "exchanges": pair.exchanges,
    }


MEMBER_RULES: dict[str, Callable[[MemberSnapshot, RuleContext], dict | None]] = {
    FlagKind.NEAR_LIMIT: rule_near_limit,
    FlagKind.OVERLOAD: rule_overload,
    FlagKind.WITHDRAWAL: rule_withdrawal,
    FlagKind.LATENT_NEED: rule_latent_need,
    FlagKind.LATENT_OFFER: rule_latent_offer,
    FlagKind.LARGE_BALANCE: rule_large_balance,
    FlagKind.OUTSIDE_CIRCLE: rule_outside,
}
PAIR_RULES: dict[str, Callable[[PairSnapshot, RuleContext], dict | None]] = {
    FlagKind.ONE_WAY_PAIR: rule_one_way_pair,
    FlagKind.WEEKLY_PAIR: rule_weekly_pair,
}


# -- Finding them in one period ---------------------------------------------------


@dataclass(frozen=True)
class Finding:
    kind: str
    membership_id: int
    other_id: int | None
    numbers: dict

    @property
    def key(self) -> tuple:
        return _flag_key(self.kind, self.membership_id, self.other_id)


def _flag_key(kind: str, membership_id: int, other_id: int | None) -> tuple:
    """A pair's flag is the same flag whichever side gave more this month."""
    if other_id is None:
        return (kind, membership_id, None)
    return (kind, *sorted((membership_id, other_id)))


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else None


def period_context(
    *, members: list[MemberSnapshot], thresholds: dict, as_of: date, all_time=None
) -> RuleContext:
    """The rules' context for one period's window snapshots."""
    loads = [m.load_30d for m in members if m.load_30d > 0]
    return RuleContext(
        as_of=as_of,
        thresholds=thresholds,
        load_mark=_percentile(loads, thresholds["overload_percentile"]),
        balance_mark=_percentile(
            [m.balance for m in members], thresholds["large_balance_percentile"]
        ),
        all_time=all_time or {},
    )


def period_findings(
    *, members: list[MemberSnapshot], pairs: list[PairSnapshot], ctx: RuleContext
) -> dict[tuple, Finding]:
    """Every flag condition that holds in one period, by flag key."""
    found: dict[tuple, Finding] = {}
    eligible: set[int] = set()
    for member in members:
        if exempt(member, ctx):
            continue
        eligible.add(member.membership_id)
        for kind, rule in MEMBER_RULES.items():
            numbers = rule(member, ctx)
            if numbers is not None:
                finding = Finding(kind, member.membership_id, None, numbers)
                found[finding.key] = finding
    for pair in pairs:
        if pair.first_id not in eligible or pair.second_id not in eligible:
            continue
        giver, other, _gave, _got = _pair_sides(pair)
        for kind, rule in PAIR_RULES.items():
            numbers = rule(pair, ctx)
            if numbers is not None:
                finding = Finding(kind, giver, other, numbers)
                found[finding.key] = finding
    return found


def _findings_for(*, community: Community, period: date, thresholds: dict):
    """(findings, as_of) for a stored period, or None when the analysis stored
    nothing for it."""
    members = list(
        MemberSnapshot.objects.filter(community=community, period=period, scope=Scope.WINDOW)
    )
    if not members:
        return None
    as_of = max(m.as_of for m in members)
    # Of all time the rules only read what a member ever received.
    all_time = {
        m.membership_id: m
        for m in MemberSnapshot.objects.filter(
            community=community, period=period, scope=Scope.ALL_TIME
        ).only("membership_id", "receipts")
    }
    pairs = list(PairSnapshot.objects.filter(community=community, period=period))
    ctx = period_context(members=members, thresholds=thresholds, as_of=as_of, all_time=all_time)
    return period_findings(members=members, pairs=pairs, ctx=ctx), as_of


# -- Sentences ----------------------------------------------------------------------


def _number(value: float, decimals: int = 0) -> str:
    return number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def _percent(share: float) -> str:
    return f"{_number(share * 100)}%"


def _day(value: str | None) -> str:
    return date_format(date.fromisoformat(value), "j F Y") if value else ""


def flag_sentence(*, community: Community, kind: str, numbers: dict, name: str, other: str) -> str:
    """Why a flag was raised, for coordinators, in the active language. In the
    words of giving and thanks: what someone gave or received, never what they owe."""

    def amount(key: str) -> str:
        # Sizes of giving and receiving: the direction is in the words.
        return amount_format(
            community=community,
            amount=abs(int(numbers.get(key) or 0)),
            language=translation.get_language(),
        )

    values = {"name": name, "other": other}
    if kind == FlagKind.NEAR_LIMIT:
        values |= {"balance": amount("balance"), "floor": amount("floor")}
        if numbers.get("limit_used") is not None and numbers["limit_used"] >= 0:
            values["share"] = _percent(numbers["limit_used"])
            text = (
                _(
                    "%(name)s has received %(balance)s more than they gave, %(share)s of the "
                    "room the circle gives (%(floor)s)."
                )
                % values
            )
        else:
            text = _("%(name)s has received %(balance)s more than they gave.") % values
        if numbers.get("days_to_floor") is not None:
            text += " " + _(
                "At the pace of the last three months they reach that limit in about %(days)s days."
            ) % {"days": numbers["days_to_floor"]}
        return (
            text
            + " "
            + _("Perhaps ask how things are going, and what they would like to give to others.")
        )
    if kind == FlagKind.OVERLOAD:
        values |= {
            "load": amount("load_30d"),
            "percentile": _number(numbers["percentile"]),
            "receipts": numbers["receipts"],
        }
        return (
            _(
                "%(name)s gave %(load)s in the last 30 days, more than %(percentile)s%% of the "
                "members who gave, and received something %(receipts)s times in the window. "
                "Perhaps it is time to ask how they are doing."
            )
            % values
        )
    if kind == FlagKind.WITHDRAWAL:
        values |= {"received": amount("received"), "receipts": numbers["receipts"]}
        if numbers.get("last_gave"):
            values["last"] = _day(numbers["last_gave"])
            text = (
                _(
                    "%(name)s received help %(receipts)s times in the window (%(received)s) and "
                    "last gave something on %(last)s. They have no open offers."
                )
                % values
            )
        else:
            text = (
                _(
                    "%(name)s received help %(receipts)s times in the window (%(received)s) and "
                    "has not given anything yet. They have no open offers."
                )
                % values
            )
        return (
            text
            + " "
            + _("Asking can feel awkward. Perhaps find together something they would like to give.")
        )
    if kind == FlagKind.LATENT_NEED:
        values |= {"gives": numbers["gives"], "since": _day(numbers["member_since"])}
        return (
            _(
                "%(name)s has been a member since %(since)s, gave %(gives)s times in the window "
                "and has never received anything or asked for help. Perhaps invite them to "
                "ask for something."
            )
            % values
        )
    if kind == FlagKind.LATENT_OFFER:
        values |= {"offers": numbers["offers_untaken"]}
        return (
            _(
                "%(name)s has %(offers)s offers that have been open for three months without "
                "a response, and gave nothing in the window. Perhaps you know someone who "
                "could use their help."
            )
            % values
        )
    if kind == FlagKind.ONE_WAY_PAIR:
        values |= {
            "gave": amount("gave"),
            "got": amount("gave_back"),
            "share": _percent(numbers["share"]),
            "exchanges": numbers["exchanges"],
        }
        return (
            _(
                "In %(exchanges)s exchanges between %(name)s and %(other)s, %(name)s gave "
                "%(share)s of the help (%(gave)s, against %(got)s). Perhaps ask both how it "
                "feels."
            )
            % values
        )
    if kind == FlagKind.WEEKLY_PAIR:
        values |= {"weeks": numbers["recent_weeks"]}
        return (
            _(
                "%(name)s helped %(other)s in %(weeks)s of the last 8 weeks. "
                "A favour can grow into weekly care that is hard to say no to; perhaps ask "
                "whether it still feels right."
            )
            % values
        )
    if kind == FlagKind.LARGE_BALANCE:
        values |= {"balance": amount("balance")}
        if numbers.get("last_spent"):
            values["last"] = _day(numbers["last_spent"])
            text = (
                _(
                    "%(name)s gave %(balance)s more than they received and last asked for help "
                    "on %(last)s."
                )
                % values
            )
        else:
            text = (
                _("%(name)s gave %(balance)s more than they received and has never asked for help.")
                % values
            )
        return text + " " + _("Perhaps invite them to enjoy some help in return.")
    values |= {"gives": numbers["gives"], "receipts": numbers["receipts"]}
    return (
        _(
            "%(name)s gave %(gives)s times and received %(receipts)s times in the window, but "
            "nothing came back to them round the wider circle. Perhaps introduce them to "
            "members they do not know yet."
        )
        % values
    )


def _sentences(*, community: Community, kind: str, numbers: dict, name: str, other: str):
    texts = []
    for language in ("nl", "en"):
        with translation.override(language):
            texts.append(
                flag_sentence(
                    community=community, kind=kind, numbers=numbers, name=name, other=other
                )
            )
    return texts


# -- Evaluating a period ------------------------------------------------------------


def _resolved_block(*, community: Community, period: date) -> set[tuple]:
    """Keys resolved too recently to be raised again for ``period``: after a
    coordinator resolves a flag, its condition must hold in two whole months
    that both began after that day. Without this the nightly run of the
    current month would raise a flag again the day after it was resolved."""
    earliest_first_month = period - relativedelta(months=1)
    blocked = set()
    resolved = Flag.objects.filter(community=community, status=FlagStatus.RESOLVED).values_list(
        "kind", "membership_id", "other_id", "updated_at"
    )
    for kind, membership_id, other_id, resolved_at in resolved:
        resolved_on = timezone.localdate(resolved_at)
        if earliest_first_month <= resolved_on:
            blocked.add(_flag_key(kind, membership_id, other_id))
    return blocked


def _reopen_snoozed(*, community: Community, today: date) -> None:
    from reciprocity.services import flag_step  # services calls this module

    for flag in Flag.objects.filter(
        community=community, status=FlagStatus.SNOOZED, snoozed_until__lte=today
    ):
        flag_step(actor=None, flag=flag, to_status=FlagStatus.OPEN)


def flags_evaluate(*, community: Community, period: date) -> None:
    """Apply every rule and the community alerts to ``period`` (a month's first day).

    Guarantees: a flag is raised (OPEN, with a FlagEvent by the system) only
    when its condition holds in ``period`` and in the month before, both
    analysed. An unresolved flag whose condition still holds gets its numbers,
    sentences and ``last_seen_period`` updated; one whose condition no longer
    holds is left as it is. A snoozed flag whose date has come goes back to
    open. Nothing is sent to, or changed for, any member. Safe to run again
    for the same period.
    """
    thresholds = thresholds_of(community=community)
    with transaction.atomic():
        _reopen_snoozed(community=community, today=timezone.localdate())
        now = _findings_for(community=community, period=period, thresholds=thresholds)
        if now is not None:
            before = _findings_for(
                community=community, period=period - relativedelta(months=1), thresholds=thresholds
            )
            _flags_apply(
                community=community,
                period=period,
                current=now[0],
                previous=before[0] if before is not None else {},
            )
        alerts_evaluate(community=community, period=period, thresholds=thresholds)


def _flags_apply(
    *,
    community: Community,
    period: date,
    current: dict[tuple, Finding],
    previous: dict[tuple, Finding],
) -> None:
    open_flags = {
        _flag_key(f.kind, f.membership_id, f.other_id): f
        for f in Flag.objects.filter(community=community).exclude(status=FlagStatus.RESOLVED)
    }
    blocked = _resolved_block(community=community, period=period)
    # An older month evaluated again leaves a flag's newer numbers as they are.
    applied = {
        key: finding
        for key, finding in current.items()
        if (key in open_flags and period >= open_flags[key].last_seen_period)
        or (key not in open_flags and key in previous and key not in blocked)
    }
    involved = {f.membership_id for f in applied.values()} | {
        f.other_id for f in applied.values() if f.other_id
    }
    names = dict(Membership.objects.filter(pk__in=involved).values_list("pk", "user__display_name"))
    now = timezone.now()
    changed, raised = [], []
    for key, finding in applied.items():
        sentence_nl, sentence_en = _sentences(
            community=community,
            kind=finding.kind,
            numbers=finding.numbers,
            name=names[finding.membership_id],
            other=names.get(finding.other_id, ""),
        )
        flag = open_flags.get(key)
        if flag is not None:
            flag.numbers = finding.numbers
            flag.sentence_nl, flag.sentence_en = sentence_nl, sentence_en
            flag.last_seen_period = period
            changed.append(flag)
            continue
        raised.append(
            Flag(
                community=community,
                membership_id=finding.membership_id,
                other_id=finding.other_id,
                kind=finding.kind,
                status=FlagStatus.OPEN,
                numbers=finding.numbers,
                sentence_nl=sentence_nl,
                sentence_en=sentence_en,
                period=period,
                last_seen_period=period,
                created_at=now,
                updated_at=now,
            )
        )
    _flags_update(changed)
    FlagEvent.objects.bulk_create(
        FlagEvent(flag=flag, actor=None, from_status="", to_status=FlagStatus.OPEN)
        for flag in Flag.objects.bulk_create(raised)
    )


def _flags_update(flags: list[Flag]) -> None:
    """Write the numbers, sentences and month of ``flags``, one statement per
    flag sent as one batch. A large circle keeps hundreds of flags up to date
    every night: saving 300 one by one took a quarter of a second, and
    ``bulk_update`` (a CASE with a branch per flag for every field) longer."""
    meta, quote = Flag._meta, connection.ops.quote_name
    numbers = meta.get_field("numbers")
    fields = ("numbers", "sentence_nl", "sentence_en", "last_seen_period")
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in fields)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s",  # noqa: S608
            [
                (
                    numbers.get_db_prep_save(flag.numbers, connection),
                    flag.sentence_nl,
                    flag.sentence_en,
                    flag.last_seen_period,
                    flag.pk,
                )
                for flag in flags
            ],
        )


# -- Community alerts -------------------------------------------------------------


def _circulation(snapshot: CommunitySnapshot) -> float:
    return snapshot.share(snapshot.C)


def _near_limit_share(snapshot: CommunitySnapshot) -> float:
    return snapshot.near_limit_members / snapshot.members if snapshot.members else 0.0


# kind -> (measure, threshold key, +1 when a rise is the alarm, -1 for a fall)
ALERT_RULES: dict[str, tuple[Callable[[CommunitySnapshot], float], str, int]] = {
    AlertKind.CIRCULATION_FALLING: (_circulation, "alert_circulation_drop", -1),
    AlertKind.GIANT_FALLING: (lambda s: s.giant_scc_share, "alert_giant_drop", -1),
    AlertKind.NEAR_LIMIT_RISING: (_near_limit_share, "alert_near_limit_rise", +1),
}


def _alert_sentence(kind: str, before: float, now: float) -> str:
    values = {"before": _percent(before), "now": _percent(now)}
    if kind == AlertKind.CIRCULATION_FALLING:
        return (
            _(
                "Three months ago %(before)s of the help came back round the circle; now "
                "%(now)s. More help goes one way. Perhaps introduce members who have not met."
            )
            % values
        )
    if kind == AlertKind.GIANT_FALLING:
        return (
            _(
                "Three months ago %(before)s of the members could reach each other through "
                "the circle; now %(now)s. Groups are trading more among themselves."
            )
            % values
        )
    return (
        _(
            "Three months ago %(before)s of the members were near a limit; now %(now)s. "
            "Perhaps look together at what members could give, or at the community pot."
        )
        % values
    )


def alerts_evaluate(*, community: Community, period: date, thresholds: dict) -> None:
    """One alert per kind and period when the window's measure moved the wrong
    way by more than its threshold since three months earlier. When a period is
    analysed again and the change is gone, its alert goes too."""
    snapshots = {
        s.period: s
        for s in CommunitySnapshot.objects.filter(
            community=community,
            scope=Scope.WINDOW,
            period__in=[period, period - relativedelta(months=3)],
        )
    }
    now, before = snapshots.get(period), snapshots.get(period - relativedelta(months=3))
    if now is None or before is None:
        return
    for kind, (measure, key, direction) in ALERT_RULES.items():
        then_value, now_value = measure(before), measure(now)
        # Rounded, so that 0.80 − 0.75 counts as the 5 points it is.
        change = round((now_value - then_value) * direction, 9)
        if change <= thresholds[key]:
            CommunityAlert.objects.filter(community=community, kind=kind, period=period).delete()
            continue
        texts = []
        for language in ("nl", "en"):
            with translation.override(language):
                texts.append(_alert_sentence(kind, then_value, now_value))
        CommunityAlert.objects.update_or_create(
            community=community,
            kind=kind,
            period=period,
            defaults={
                "numbers": {
                    "before": round(then_value, 4),
                    "now": round(now_value, 4),
                    "before_period": before.period.isoformat(),
                },
                "sentence_nl": texts[0],
                "sentence_en": texts[1],
            },
        )


# -- What other apps ask ---------------------------------------------------------


def overloaded_memberships(*, community: Community) -> set[int]:
    """Members under an unresolved overload flag, for matching to leave out
    (``RUILKRING_MATCHING_EXCLUDE``): a hand the coordinator may give them
    some rest, without telling or blocking anyone."""
    return set(
        Flag.objects.filter(community=community, kind=FlagKind.OVERLOAD)
        .exclude(status=FlagStatus.RESOLVED)
        .values_list("membership_id", flat=True)
    )


# -- Showing the numbers ----------------------------------------------------------

# key -> (label, how to show it)
NUMBER_LABELS: dict[str, tuple[str | Promise, str]] = {
    "balance": (gettext_lazy("Balance"), "amount"),
    "floor": (gettext_lazy("Credit limit"), "amount"),
    "ceiling": (gettext_lazy("Maximum"), "amount"),
    "limit_used": (gettext_lazy("Share of the credit limit used"), "percent"),
    "days_to_floor": (gettext_lazy("Days to the credit limit at this pace"), "count"),
    "trend_per_30_days": (gettext_lazy("Change in balance per 30 days"), "amount"),
    "load_30d": (gettext_lazy("Given in the last 30 days"), "amount"),
    "load_mark": (gettext_lazy("What most givers stay below in 30 days"), "amount"),
    "percentile": (gettext_lazy("Compared with the givers (percentile)"), "count"),
    "load_median": (gettext_lazy("Usual 30-day giving"), "amount"),
    "given": (gettext_lazy("Given"), "amount"),
    "received": (gettext_lazy("Received"), "amount"),
    "gave": (gettext_lazy("Given by the member who gave most"), "amount"),
    "gave_back": (gettext_lazy("Given back by the other member"), "amount"),
    "receipts": (gettext_lazy("Times received"), "count"),
    "gives": (gettext_lazy("Times given"), "count"),
    "skew": (gettext_lazy("How one-sided (−1 to 1)"), "decimal"),
    "last_gave": (gettext_lazy("Last gave"), "date"),
    "last_received": (gettext_lazy("Last received"), "date"),
    "last_spent": (gettext_lazy("Last paid anyone"), "date"),
    "member_since": (gettext_lazy("Member since"), "date"),
    "requests_ever": (gettext_lazy("Requests ever placed"), "count"),
    "offers_untaken": (gettext_lazy("Offers never taken up"), "count"),
    "share": (gettext_lazy("Share of the help given by the member who gave most"), "percent"),
    "exchanges": (gettext_lazy("Exchanges"), "count"),
    "recent_weeks": (gettext_lazy("Weeks with help, of the last 8"), "count"),
    "balance_mark": (gettext_lazy("What most balances stay below"), "amount"),
    "partners": (gettext_lazy("People traded with"), "count"),
}


def flag_numbers_display(*, community: Community, numbers: dict) -> list[tuple[str, str]]:
    """(label, value) for each number behind a flag, in the active language."""
    rows = []
    for key, value in numbers.items():
        if value is None or key not in NUMBER_LABELS:
            continue
        label, how = NUMBER_LABELS[key]
        if how == "amount":
            text = amount_format(community=community, amount=int(value))
        elif how == "percent":
            text = _percent(float(value))
        elif how == "date":
            text = _day(value)
        elif how == "decimal":
            text = _number(Decimal(str(value)), 2)
        else:
            text = _number(value)
        rows.append((str(label), text))
    return rows


# -- Reading flags, for the coordinators' pages --------------------------------------


def flags_of_community(*, community: Community, status: str = "", kind: str = ""):
    """A community's flags, newest first. ``status`` empty: every flag not yet
    resolved; "all": every flag."""
    flags = Flag.objects.filter(community=community).select_related(
        "membership__user", "other__user", "assigned_to"
    )
    if status == "":
        flags = flags.exclude(status=FlagStatus.RESOLVED)
    elif status != "all":
        flags = flags.filter(status=status)
    if kind:
        flags = flags.filter(kind=kind)
    return flags.order_by("-last_seen_period", "-created_at", "-pk")


def flag_of_community_get(*, community: Community, flag_id) -> Flag:
    """One flag of this community; NotFound for any other (no hint that it exists)."""
    try:
        return Flag.objects.select_related(
            "community", "membership__user", "other__user", "assigned_to"
        ).get(community=community, pk=flag_id)
    except (Flag.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("This signal does not exist in this community.")) from exc
