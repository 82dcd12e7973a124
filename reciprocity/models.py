"""Where reciprocity has broken down: stored measures, flags and their workflow.

The analysis runs per community, as a background job, and stores what it
finds as **snapshots**: one per calendar month (``period``, its first day),
computed as of that month's last day, or as of the day of the run for the
current month. Each snapshot exists for two **scopes**: the community's window
(by default the twelve months up to ``as_of``) and all time. Dashboards read
only these rows; nothing on a page recomputes the graph.

**Flags** are raised on the stored snapshots (``reciprocity.flags``), only when
a condition held in two consecutive periods, and never for a member who is new
or has traded little. They are prompts for a conversation, for coordinators
only: nothing a member sees, and nothing that acts on its own. A flag moves
through ``FLAG_TRANSITIONS``, and every step is a ``FlagEvent`` with who and when.

**Community alerts** say when the whole circle changes: circulation or the giant
component falling quarter on quarter, or more members near their limits.

Amounts are integers in the community's minor unit; shares are floats in 0..1.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Area, Community, Membership


class Scope(models.TextChoices):
    WINDOW = "window", _("The window")
    ALL_TIME = "all", _("All time")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ReciprocitySettings(models.Model):
    """A community's own window and thresholds. Without a row the defaults in
    ``reciprocity.flags.DEFAULT_THRESHOLDS`` hold; ``thresholds`` keeps only
    the values a coordinator changed."""

    community = models.OneToOneField(
        Community,
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="reciprocity_settings",
    )
    window_days = models.PositiveSmallIntegerField(_("window in days"), default=365)
    thresholds = models.JSONField(_("thresholds"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("reciprocity settings")
        verbose_name_plural = _("reciprocity settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(window_days__gte=30), name="reciprocity_window_at_least_a_month"
            ),
        ]

    def __str__(self) -> str:
        return str(self.community_id)


class AnalysisRun(models.Model):
    """One analysis of one community: the nightly job's, or one a coordinator
    started. Its progress is shown while it runs."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.CASCADE, related_name="+"
    )
    # Empty for the nightly job.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("analysis")
        verbose_name_plural = _("analyses")
        indexes = [models.Index(fields=["community", "-created_at"], name="reciprocity_run_latest")]

    def __str__(self) -> str:
        return f"{self.community_id} {self.created_at:%Y-%m-%d %H:%M} {self.status}"


class CommunitySnapshot(models.Model):
    """A community's measures for one period and scope."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.CASCADE, related_name="+"
    )
    period = models.DateField(_("month"))  # the first day of the month
    scope = models.CharField(_("scope"), max_length=6, choices=Scope.choices)
    as_of = models.DateField(_("computed up to"))
    window_start = models.DateField(_("from"), null=True, blank=True)  # empty for all time
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)
    # The split of the flow between members (system accounts as one node), in
    # the standard names W = D + C + A.
    W = models.BigIntegerField(_("total flow"), default=0)
    D = models.BigIntegerField(_("returned directly"), default=0)
    C = models.BigIntegerField(_("returned round a circle"), default=0)
    A = models.BigIntegerField(_("one way"), default=0)
    nid = models.BigIntegerField(_("net open balances"), default=0)
    transfers = models.PositiveIntegerField(_("payments"), default=0)
    exchanges = models.PositiveIntegerField(_("paid exchanges"), default=0)
    # Members of the community at as_of (active or leaving), and of those the
    # ones who traded in the scope, and who both gave and received.
    members = models.PositiveIntegerField(_("members"), default=0)
    active_members = models.PositiveIntegerField(_("members who traded"), default=0)
    two_sided_members = models.PositiveIntegerField(_("members who gave and received"), default=0)
    near_limit_members = models.PositiveIntegerField(_("members near a limit"), default=0)
    giant_scc_share = models.FloatField(_("share in the largest circle of mutual reach"), default=0)
    gini_balance = models.FloatField(_("Gini coefficient of balances"), default=0)
    gini_volume = models.FloatField(_("Gini coefficient of volume"), default=0)
    weighted_reciprocity = models.FloatField(_("weighted reciprocity"), default=0)
    velocity = models.FloatField(_("velocity"), default=0)  # W over the sum of |balance| / 2
    # Counts of paid exchanges per help type: {"practical": 12, ...}.
    help_types = models.JSONField(_("exchanges per kind of help"), default=dict, blank=True)
    # The balance distribution for the health page: [[upper bound, count], ...].
    balance_histogram = models.JSONField(_("balance distribution"), default=list, blank=True)

    class Meta:
        verbose_name = _("community snapshot")
        verbose_name_plural = _("community snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "period", "scope"], name="reciprocity_community_snapshot_once"
            ),
        ]
        ordering = ["community", "period"]

    def __str__(self) -> str:
        return f"{self.community_id} {self.period:%Y-%m} {self.scope}"

    def share(self, part: int) -> float:
        return part / self.W if self.W else 0.0


class AreaSnapshot(models.Model):
    """Per area (empty: members without an area), for the municipality's page.
    Aggregates only; the page hides any cell based on fewer than 5 members."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.CASCADE, related_name="+"
    )
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.CASCADE, null=True, blank=True
    )
    period = models.DateField(_("month"))
    scope = models.CharField(_("scope"), max_length=6, choices=Scope.choices)
    members = models.PositiveIntegerField(_("members"), default=0)
    active_members = models.PositiveIntegerField(_("members who traded"), default=0)
    two_sided_members = models.PositiveIntegerField(_("members who gave and received"), default=0)
    exchanges = models.PositiveIntegerField(_("payments"), default=0)
    volume = models.BigIntegerField(_("amount exchanged"), default=0)
    # Payments between members of this area that came back round a circle,
    # as a share of the area's flow (given by its members).
    circulation_share = models.FloatField(_("share returned round a circle"), default=0)
    help_types = models.JSONField(_("exchanges per kind of help"), default=dict, blank=True)

    class Meta:
        verbose_name = _("area snapshot")
        verbose_name_plural = _("area snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "area", "period", "scope"],
                name="reciprocity_area_snapshot_once",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.area_id} {self.period:%Y-%m} {self.scope}"


class MemberSnapshot(models.Model):
    """One member's measures for one period and scope. For coordinators and
    the analysis only: a member sees their own counts in friendly words, and
    nobody ever sees a ranking."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.CASCADE, related_name="+"
    )
    membership = models.ForeignKey(
        Membership, verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
    )
    period = models.DateField(_("month"))
    scope = models.CharField(_("scope"), max_length=6, choices=Scope.choices)
    as_of = models.DateField(_("computed up to"))
    member_since = models.DateField(_("member since"), null=True, blank=True)
    # Help given is what the member was paid; help received is what they paid.
    given = models.BigIntegerField(_("given"), default=0)
    received = models.BigIntegerField(_("received"), default=0)
    gives = models.PositiveIntegerField(_("times given"), default=0)
    receipts = models.PositiveIntegerField(_("times received"), default=0)
    # All time, whatever the scope: what "fewer than 5 trades" is counted on.
    trades_all_time = models.PositiveIntegerField(_("trades, all time"), default=0)
    partners = models.PositiveIntegerField(_("people traded with"), default=0)
    helped = models.PositiveIntegerField(_("people helped"), default=0)
    helped_by = models.PositiveIntegerField(_("people helped by"), default=0)
    effective_partners = models.FloatField(_("effective number of partners"), default=0)
    skew = models.FloatField(_("skew"), default=0)  # (given - received) / (given + received + k)
    direct_returned_share = models.FloatField(_("share returned directly"), null=True, blank=True)
    cycle_bin = models.CharField(_("returned round a circle"), max_length=4, blank=True)
    in_giant_scc = models.BooleanField(_("in the largest circle of mutual reach"), default=False)
    # The account at as_of, with the limits then in force.
    balance = models.BigIntegerField(_("balance"), default=0)
    floor = models.BigIntegerField(_("credit limit"), default=0)
    ceiling = models.BigIntegerField(_("maximum"), default=0)
    # Units per day over the last 90 days (negative: falling), and the days
    # left to the floor at that pace (empty when not falling).
    balance_trend = models.FloatField(_("balance trend per day"), default=0)
    days_to_floor = models.IntegerField(_("days to the credit limit"), null=True, blank=True)
    # Giving load: what the member gave in the 30 days up to as_of, and the
    # median of their own 30-day loads over the window.
    load_30d = models.BigIntegerField(_("given in the last 30 days"), default=0)
    load_median = models.BigIntegerField(_("usual 30-day giving"), default=0)
    last_gave = models.DateField(_("last gave"), null=True, blank=True)
    last_received = models.DateField(_("last received"), null=True, blank=True)
    last_spent = models.DateField(_("last paid anyone"), null=True, blank=True)
    # Listings as they stand on the day of the analysis.
    open_offers = models.PositiveSmallIntegerField(_("open offers"), default=0)
    open_requests = models.PositiveSmallIntegerField(_("open requests"), default=0)
    # Offers open for at least 90 days that nobody ever responded to.
    offers_untaken = models.PositiveSmallIntegerField(_("offers never taken up"), default=0)
    requests_ever = models.PositiveIntegerField(_("requests ever placed"), default=0)

    class Meta:
        verbose_name = _("member snapshot")
        verbose_name_plural = _("member snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "period", "scope"], name="reciprocity_member_snapshot_once"
            ),
        ]
        indexes = [
            models.Index(fields=["community", "period", "scope"], name="reciprocity_member_period"),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.period:%Y-%m} {self.scope}"


class PairSnapshot(models.Model):
    """Two members who traded in the window: only pairs with at least a few
    exchanges are kept, for the one-way and weekly-help flags."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.CASCADE, related_name="+"
    )
    period = models.DateField(_("month"))
    # first.pk < second.pk
    first = models.ForeignKey(
        Membership, verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
    )
    second = models.ForeignKey(
        Membership, verbose_name=_("other member"), on_delete=models.CASCADE, related_name="+"
    )
    first_gave = models.BigIntegerField(_("first gave"), default=0)
    second_gave = models.BigIntegerField(_("second gave"), default=0)
    exchanges = models.PositiveIntegerField(_("payments"), default=0)
    # Of the last 8 weeks up to as_of, in how many one helped the other.
    recent_weeks = models.PositiveSmallIntegerField(_("weeks with help, of the last 8"), default=0)

    class Meta:
        verbose_name = _("pair snapshot")
        verbose_name_plural = _("pair snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["first", "second", "period"], name="reciprocity_pair_snapshot_once"
            ),
            models.CheckConstraint(
                condition=Q(first__lt=models.F("second")), name="reciprocity_pair_ordered"
            ),
        ]
        indexes = [models.Index(fields=["community", "period"], name="reciprocity_pair_period")]

    def __str__(self) -> str:
        return f"{self.first_id}-{self.second_id} {self.period:%Y-%m}"


class FlagKind(models.TextChoices):
    NEAR_LIMIT = "near_limit", _("Near the credit limit")
    OVERLOAD = "overload", _("Gives a lot, receives little")
    WITHDRAWAL = "withdrawal", _("Receives, and has gone quiet")
    LATENT_NEED = "latent_need", _("Never asks for anything")
    LATENT_OFFER = "latent_offer", _("Offers that nobody takes up")
    ONE_WAY_PAIR = "one_way_pair", _("A pair where help goes one way")
    WEEKLY_PAIR = "weekly_pair", _("Help within a pair has become weekly")
    LARGE_BALANCE = "large_balance", _("Much given, nothing spent for a long time")
    OUTSIDE_CIRCLE = "outside", _("Outside the circle")


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ASSIGNED = "assigned", _("Assigned")
    CONTACTED = "contacted", _("Contacted")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")


class Flag(models.Model):
    """A prompt for a coordinator to talk with a member. Never shown to members,
    and never acted on automatically."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.CASCADE, related_name="+"
    )
    membership = models.ForeignKey(
        Membership, verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
    )
    # The other member, for a pair's flag.
    other = models.ForeignKey(
        Membership,
        verbose_name=_("other member"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("reason"), max_length=14, choices=FlagKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN
    )
    # The numbers behind it, as computed when it was raised or last confirmed.
    numbers = models.JSONField(_("the numbers"), default=dict)
    sentence_nl = models.TextField(_("why (Dutch)"))
    sentence_en = models.TextField(_("why (English)"))
    period = models.DateField(_("raised for the month"))
    last_seen_period = models.DateField(_("still so in the month"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("coordinator"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    created_at = models.DateTimeField(_("raised"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        constraints = [
            # One flag of a kind per member (and pair) until it is resolved.
            models.UniqueConstraint(
                fields=["membership", "kind", "other"],
                condition=~Q(status="resolved"),
                name="reciprocity_one_unresolved_flag",
                nulls_distinct=False,
            ),
        ]
        indexes = [models.Index(fields=["community", "status"], name="reciprocity_flag_status")]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.kind} {self.status}"

    def sentence(self, language: str | None) -> str:
        return self.sentence_en if (language or "").startswith("en") else self.sentence_nl


class FlagEvent(models.Model):
    """One step of a flag: who, from, to, when, and a private note."""

    flag = models.ForeignKey(
        Flag, verbose_name=_("flag"), on_delete=models.CASCADE, related_name="events"
    )
    # Empty when the analysis raised it.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    from_status = models.CharField(_("from"), max_length=10, blank=True, choices=FlagStatus.choices)
    to_status = models.CharField(_("to"), max_length=10, choices=FlagStatus.choices)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("flag event")
        verbose_name_plural = _("flag events")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.flag_id}: {self.from_status or '-'} -> {self.to_status}"


class AlertKind(models.TextChoices):
    CIRCULATION_FALLING = "circulation", _("Less comes back round the circle")
    GIANT_FALLING = "giant", _("Fewer members reach each other")
    NEAR_LIMIT_RISING = "near_limit", _("More members near their limits")


class CommunityAlert(models.Model):
    """A change in the whole circle, quarter on quarter, for its coordinators."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("what"), max_length=12, choices=AlertKind.choices)
    period = models.DateField(_("month"))
    numbers = models.JSONField(_("the numbers"), default=dict)
    sentence_nl = models.TextField(_("why (Dutch)"))
    sentence_en = models.TextField(_("why (English)"))
    created_at = models.DateTimeField(_("raised"), default=timezone.now)

    class Meta:
        verbose_name = _("community alert")
        verbose_name_plural = _("community alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "kind", "period"], name="reciprocity_alert_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.kind} {self.period:%Y-%m}"

    def sentence(self, language: str | None) -> str:
        return self.sentence_en if (language or "").startswith("en") else self.sentence_nl
