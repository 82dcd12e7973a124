"""The ledger: double-entry mutual credit.

How the books of a circle work
------------------------------
- An **Account** belongs to one community and holds that community's unit.
  Each active membership has one (kind ``member``); each community also has a
  **community account** (receives contributions, pays for events) and a
  **community pot** (members give to it; it pays for members who cannot earn).
- A **Transfer** is a header: what happened, who recorded it, when, why. It
  never moves credit itself.
- An **Entry** moves credit on one account: a signed, non-zero integer amount
  in the community's minor unit (minutes or hundredths). A transfer's entries
  sum to zero and there are at least two of them: what one account gives,
  others receive. Nobody mints credit; every community sums to zero.
- Each account keeps a cached ``balance`` and a ``version``: the number of
  entries applied to it. Each entry records the ``balance_after`` it produced
  and the account ``version`` it made, so a statement or a historical balance
  is read, never re-summed, and the chain can be verified end to end
  (``manage.py ledger_verify``).
- Transfers and entries are append-only. A mistake is corrected by a
  **reversal**: a new transfer with the opposite entries that points at the
  original (at most once) and carries a reason and the coordinator who made it.
- **Limits.** An account's ``floor`` (zero or below) is how far it may go
  below zero: how much more its holder may receive than give. Its ``ceiling``
  is how far above zero it may go. ``None`` means "the community's default".
  A transfer that would take an account past a limit is refused, unless it
  moves the account towards its limits (a repayment after a coordinator
  tightened them is always possible). Every change is a ``LimitChange`` row.

Where the invariants are enforced
---------------------------------
The services in ``ledger/services.py`` check everything and explain refusals.
Behind them, on PostgreSQL, triggers and constraints from the migrations
enforce the same rules for any code path, the admin and raw SQL (see
``ledger/database_rules.py``). On SQLite, the embedded default, the triggers
keep transfers and entries append-only; the other rules rest on the services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Community, Membership

# The largest amount one transfer may move: ten billion minutes or hundredths.
# It keeps every sum of balances far inside a 64-bit integer.
MAX_AMOUNT = 10**10
# A system account without a limit on that side.
UNLIMITED = 10**15


class AccountKind(models.TextChoices):
    MEMBER = "member", _("Member")
    COMMUNITY = "community", _("Community account")
    POT = "pot", _("Community pot")


class Account(models.Model):
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="accounts"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=AccountKind.choices)
    # PROTECT: an account and its history outlive the membership's active
    # days; people leave by status change and pseudonymisation, never deletion.
    membership = models.OneToOneField(
        Membership,
        verbose_name=_("membership"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="account",
    )
    balance = models.BigIntegerField(_("balance"), default=0)
    version = models.BigIntegerField(_("version"), default=0)
    floor = models.BigIntegerField(
        _("credit limit"),
        null=True,
        blank=True,
        help_text=_("Zero or below. Empty: the community's default."),
    )
    ceiling = models.BigIntegerField(
        _("maximum"),
        null=True,
        blank=True,
        help_text=_("Zero or above. Empty: the community's default."),
    )
    created_at = models.DateTimeField(_("opened"), default=timezone.now)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(floor__isnull=True) | Q(floor__lte=0), name="ledger_account_floor_le_0"
            ),
            models.CheckConstraint(
                condition=Q(ceiling__isnull=True) | Q(ceiling__gte=0),
                name="ledger_account_ceiling_ge_0",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=0) & (Q(version__gt=0) | Q(balance=0)),
                name="ledger_account_starts_at_zero",
            ),
            models.CheckConstraint(
                condition=(Q(kind=AccountKind.MEMBER) & Q(membership__isnull=False))
                | (~Q(kind=AccountKind.MEMBER) & Q(membership__isnull=True)),
                name="ledger_account_member_has_membership",
            ),
            models.UniqueConstraint(
                fields=["community", "kind"],
                condition=~Q(kind=AccountKind.MEMBER),
                name="ledger_account_one_system_account_per_kind",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == AccountKind.MEMBER and self.membership_id:
            return str(self.membership.user)
        return str(self.get_kind_display())

    @property
    def effective_floor(self) -> int:
        return self.floor if self.floor is not None else self.community.default_floor

    @property
    def effective_ceiling(self) -> int:
        return self.ceiling if self.ceiling is not None else self.community.default_ceiling


class TransferKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REQUESTED_PAYMENT = "requested_payment", _("Accepted payment request")
    COORDINATOR_ENTRY = "coordinator_entry", _("Entered by a coordinator")
    REVERSAL = "reversal", _("Reversal")
    POT_DONATION = "pot_donation", _("Gift to the community pot")
    POT_GRANT = "pot_grant", _("Gift from the community pot")
    COMMUNITY_ENTRY = "community_entry", _("Community account entry")


class Transfer(models.Model):
    """What happened: the header of a set of entries that sum to zero. Append-only."""

    # Every payment would take a share lock on its community's row for this
    # foreign key, and all payments of a circle share that one row. The
    # database rules guarantee it without the lock: each transfer needs two
    # entries, and an entry's account (which has a real foreign key) must be
    # in the transfer's community. The unique (community, key) index serves
    # lookups by community.
    community = models.ForeignKey(
        Community,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="transfers",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TransferKind.choices)
    memo = models.CharField(_("description"), max_length=500, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    # No index of its own: nothing looks transfers up by who recorded them, and
    # every index is written on each of the many inserts.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    # The day the exchange happened, when it was recorded later: the date on a
    # paper cheque typed in after a meeting. Empty means the day it was
    # recorded (created_at), which is every payment made on the site.
    occurred_on = models.DateField(_("date of the exchange"), null=True, blank=True)
    # The client's key for this request: a retry with the same key and the same
    # request returns this transfer instead of making a second one.
    idempotency_key = models.CharField(_("idempotency key"), max_length=100)
    request_fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    # A reversal points at what it corrects, at most once (the partial unique
    # constraint below: most transfers reverse nothing and stay out of it).
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("reverses"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        db_index=False,
    )
    batch = models.ForeignKey(
        "TransferBatch",
        verbose_name=_("batch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers",
        db_index=False,  # see the partial index below: most transfers have no batch
    )

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "idempotency_key"], name="ledger_transfer_key_unique"
            ),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=Q(reverses__isnull=False),
                name="ledger_transfer_reversed_once",
            ),
            models.CheckConstraint(
                condition=Q(kind=TransferKind.REVERSAL, reverses__isnull=False)
                | (~Q(kind=TransferKind.REVERSAL) & Q(reverses__isnull=True)),
                name="ledger_transfer_reversal_has_original",
            ),
        ]
        # Every index is written by every payment: only what a page needs.
        indexes = [
            models.Index(
                fields=["batch"], condition=Q(batch__isnull=False), name="ledger_transfer_batch"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Entry(models.Model):
    """Credit moved on one account by one transfer. Append-only."""

    # Neither relation has a foreign key constraint in the database, because
    # the entry's own insert trigger checks more than one would (on PostgreSQL;
    # see ledger.database_rules): the transfer exists and was written in the
    # same transaction, and the account exists, is in the transfer's community
    # and takes this entry as its next step. Transfers and accounts are never
    # deleted. A foreign key would only add two checks at every commit and a
    # lock on the new transfer's row.
    transfer = models.ForeignKey(
        Transfer,
        verbose_name=_("transfer"),
        on_delete=models.PROTECT,
        related_name="entries",
        db_constraint=False,
    )
    # No separate index: the unique (account, version) index serves every lookup by account.
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,
        db_constraint=False,
    )
    amount = models.BigIntegerField(_("amount"))
    balance_after = models.BigIntegerField(_("balance after"))
    version = models.BigIntegerField(_("account version"))

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_amount_not_zero"),
            models.CheckConstraint(condition=Q(version__gte=1), name="ledger_entry_version_ge_1"),
            # One entry per account version: the statement is a chain.
            models.UniqueConstraint(
                fields=["account", "version"], name="ledger_entry_account_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount:+d}"


class TransferBatch(models.Model):
    """A stack of paper cheques entered together by a coordinator: all or nothing."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    declared_total = models.BigIntegerField(_("total of the stack"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("cheque batch")
        verbose_name_plural = _("cheque batches")

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class LimitChange(models.Model):
    """Who changed an account's limits, from what to what, and why."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="limit_changes"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    old_floor = models.BigIntegerField(_("old credit limit"), null=True, blank=True)
    new_floor = models.BigIntegerField(_("new credit limit"), null=True, blank=True)
    old_ceiling = models.BigIntegerField(_("old maximum"), null=True, blank=True)
    new_ceiling = models.BigIntegerField(_("new maximum"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("limit change")
        verbose_name_plural = _("limit changes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.account}: {self.old_floor} -> {self.new_floor}"


class AutoAccept(models.TextChoices):
    """When a payment request is paid without the payer answering it."""

    NEVER = "never", _("Never: I answer each request myself")
    ALWAYS = "always", _("Always, at once")
    TRUSTED = "trusted", _("At once from members I trust; I answer the others")
    AFTER_DAYS = "after_days", _("After a number of days without an answer")


class LedgerSettings(models.Model):
    """A community's ledger policy: how payment requests are accepted by default."""

    community = models.OneToOneField(
        Community,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="ledger_settings",
    )
    auto_accept = models.CharField(
        _("accept payment requests automatically"),
        max_length=12,
        choices=AutoAccept.choices,
        default=AutoAccept.AFTER_DAYS,
    )
    auto_accept_days = models.PositiveSmallIntegerField(
        _("days before a request is accepted"), default=14
    )

    class Meta:
        verbose_name = _("ledger settings")
        verbose_name_plural = _("ledger settings")

    def __str__(self) -> str:
        return str(self.community)


class AccountRequestPolicy(models.Model):
    """A member's own choice for requests sent to them; overrides the community's."""

    account = models.OneToOneField(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="request_policy"
    )
    auto_accept = models.CharField(
        _("accept payment requests automatically"), max_length=12, choices=AutoAccept.choices
    )
    auto_accept_days = models.PositiveSmallIntegerField(
        _("days before a request is accepted"), default=14
    )
    trusted = models.ManyToManyField(
        Account, verbose_name=_("trusted members"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("payment request policy")
        verbose_name_plural = _("payment request policies")

    def __str__(self) -> str:
        return str(self.account)


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Paid")
    REJECTED = "rejected", _("Declined")
    CANCELLED = "cancelled", _("Withdrawn")


class PaymentRequest(models.Model):
    """Someone who gave help asks the receiver to pay. Moves nothing until accepted."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    payer = models.ForeignKey(
        Account, verbose_name=_("payer"), on_delete=models.PROTECT, related_name="requests_in"
    )
    payee = models.ForeignKey(
        Account, verbose_name=_("payee"), on_delete=models.PROTECT, related_name="requests_out"
    )
    amount = models.BigIntegerField(_("amount"))
    memo = models.CharField(_("description"), max_length=500)
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("asked"), default=timezone.now)
    auto_accept_at = models.DateTimeField(_("accepted automatically at"), null=True, blank=True)
    transfer = models.OneToOneField(
        Transfer,
        verbose_name=_("payment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment_request",
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=100)
    request_fingerprint = models.CharField(_("request fingerprint"), max_length=64)

    class Meta:
        verbose_name = _("payment request")
        verbose_name_plural = _("payment requests")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "idempotency_key"], name="ledger_request_key_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_request_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(status=RequestStatus.ACCEPTED, transfer__isnull=False)
                | (~Q(status=RequestStatus.ACCEPTED) & Q(transfer__isnull=True)),
                name="ledger_request_paid_has_transfer",
            ),
        ]
        indexes = [
            models.Index(fields=["payer", "status"]),
            models.Index(fields=["payee", "status"]),
            models.Index(fields=["status", "auto_accept_at"]),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class PaymentRequestEvent(models.Model):
    """One step of a payment request: who, from, to, when, and a note."""

    request = models.ForeignKey(
        PaymentRequest,
        verbose_name=_("payment request"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    from_status = models.CharField(_("from"), max_length=12, blank=True)
    to_status = models.CharField(_("to"), max_length=12)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("payment request event")
        verbose_name_plural = _("payment request events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status} -> {self.to_status}"
