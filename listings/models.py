"""Offers and requests: what members can do for each other, and what they need.

A **listing** is one member's offer ("I can help") or request ("I need help"),
in one of the community's categories and one of three kinds of help. It is
visible to the members of its own community only, and only while it is
active: its owner can pause it, it expires on a date (renewable), and a
coordinator can remove it with a reason. Every status change is an event row
(``listings.transitions`` holds the allowed steps; ``listing_status_change``
is the only function that takes them).

Members can report a listing; the report waits in the coordinators' queue.

An **exchange** is what two members agree: one helps (the provider), the other
is helped (the receiver). It starts when a member responds to a listing or a
coordinator matches two members, and moves from proposed through accepted and
done to paid (``listings.transitions.EXCHANGE_TRANSITIONS``; the one function
that moves it is ``exchange_step``). Payment runs through the ledger's payment
request: the exchange points at the request and at the transfer that paid it,
never the other way round. A short thread of messages belongs to it, and
after payment the receiver can leave a thank-you note, which moves no credit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Area, Community, Membership
from ledger.models import PaymentRequest, Transfer

TITLE_MAX = 120
DESCRIPTION_MAX = 2000
AVAILABILITY_MAX = 200
REASON_MAX = 1000


class Category(models.Model):
    """A community's own heading for listings, named in both languages."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.CASCADE, related_name="categories"
    )
    name_nl = models.CharField(_("name (Dutch)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # A category with listings is never deleted (PROTECT below); a coordinator
    # retires it instead, and it stops being offered for new listings.
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name_nl"]
        constraints = [
            models.UniqueConstraint(
                "community", Lower("name_nl"), name="listings_category_name_nl_unique"
            ),
            models.UniqueConstraint(
                "community", Lower("name_en"), name="listings_category_name_en_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name_nl

    def name(self, language: str | None) -> str:
        """The name in ``language`` ("en" or anything else for Dutch)."""
        return self.name_en if (language or "").startswith("en") else self.name_nl


class ListingKind(models.TextChoices):
    OFFER = "offer", _("Offer")
    REQUEST = "request", _("Request")


class HelpType(models.TextChoices):
    PRACTICAL = "practical", _("Practical help")
    SOCIAL = "social", _("Company or a listening ear")
    INFORMATION = "information", _("Information and advice")


class ListingStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    EXPIRED = "expired", _("Expired")
    REMOVED = "removed", _("Removed")


class Listing(models.Model):
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="listings"
    )
    # PROTECT: a membership is never deleted (leaving keeps the row), and a
    # listing's history must keep its owner.
    owner = models.ForeignKey(
        Membership, verbose_name=_("member"), on_delete=models.PROTECT, related_name="listings"
    )
    kind = models.CharField(_("offer or request"), max_length=10, choices=ListingKind.choices)
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    description = models.TextField(_("description"), max_length=DESCRIPTION_MAX)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="listings"
    )
    help_type = models.CharField(_("kind of help"), max_length=12, choices=HelpType.choices)
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="listings",
    )
    availability = models.CharField(_("when"), max_length=AVAILABILITY_MAX, blank=True)
    # "1 uur per keer": an amount in the community's minor unit and what it is per.
    indicative_amount = models.BigIntegerField(_("indicative amount"), null=True, blank=True)
    indicative_per = models.CharField(_("per"), max_length=60, blank=True)
    # Many people would rather not help, or be helped by, the people next
    # door: saying no to a neighbour is hard. Matching respects this.
    not_for_neighbours = models.BooleanField(_("not for my direct neighbours"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ListingStatus.choices, default=ListingStatus.ACTIVE
    )
    expires_on = models.DateField(_("visible until"))
    removed_reason = models.TextField(_("reason for removal"), blank=True)
    # Who typed it in: the owner, or a coordinator on the owner's behalf.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)
    # An optional photo, re-encoded on upload (listings.photos) and served only
    # to the community's members by a view, never from a public media URL.
    photo = models.ImageField(_("photo"), upload_to="listings/%Y/%m/", blank=True, max_length=200)
    # Title and description, lower case and without accents, for search (see
    # listings.search); on PostgreSQL a full-text index covers it.
    search_text = models.TextField(editable=False, default="")

    class Meta:
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        constraints = [
            models.CheckConstraint(
                condition=Q(indicative_amount__isnull=True) | Q(indicative_amount__gt=0),
                name="listings_listing_indicative_amount_positive",
            ),
        ]
        indexes = [
            # Browsing a community: the newest active listings first.
            models.Index(
                fields=["community", "-created_at"],
                condition=Q(status="active"),
                name="listings_active_newest",
            ),
            models.Index(fields=["owner", "status"], name="listings_of_owner"),
            # The expiry job.
            models.Index(
                fields=["expires_on"], condition=Q(status="active"), name="listings_to_expire"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ListingEvent(models.Model):
    """One step of a listing's status: who, from, to, why and when."""

    listing = models.ForeignKey(
        Listing, verbose_name=_("listing"), on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    from_status = models.CharField(_("from"), max_length=10, blank=True)
    to_status = models.CharField(_("to"), max_length=10)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("listing event")
        verbose_name_plural = _("listing events")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.from_status or '-'} -> {self.to_status}"


class ListingReport(models.Model):
    """A member's report that a listing does not belong here, for the coordinators."""

    listing = models.ForeignKey(
        Listing, verbose_name=_("listing"), on_delete=models.CASCADE, related_name="reports"
    )
    reporter = models.ForeignKey(
        Membership, verbose_name=_("reported by"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"), max_length=REASON_MAX)
    created_at = models.DateTimeField(_("reported"), default=timezone.now)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            # One open report per member and listing: reporting twice adds nothing.
            models.UniqueConstraint(
                fields=["listing", "reporter"],
                condition=Q(handled_at__isnull=True),
                name="listings_one_open_report_per_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.reason[:40]}"


MESSAGE_MAX = 2000


class ExchangeStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Agreed")
    DECLINED = "declined", _("Declined")
    # Reported done, but the payment waits until a coordinator approves it:
    # above the community's amount, or among a member's first exchanges.
    REVIEW = "review", _("Waiting for a coordinator's approval")
    DONE = "done", _("Done, waiting for payment")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")
    DISPUTED = "disputed", _("With a coordinator")


class Exchange(models.Model):
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="exchanges"
    )
    listing = models.ForeignKey(
        Listing,
        verbose_name=_("listing"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exchanges",
    )
    provider = models.ForeignKey(
        Membership, verbose_name=_("helps"), on_delete=models.PROTECT, related_name="+"
    )
    receiver = models.ForeignKey(
        Membership, verbose_name=_("is helped"), on_delete=models.PROTECT, related_name="+"
    )
    # The member who proposed it; empty when a coordinator matched the two.
    proposer = models.ForeignKey(
        Membership,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.TextField(_("what was agreed"), max_length=DESCRIPTION_MAX)
    # In the community's minor unit; set when the help is reported done.
    amount = models.BigIntegerField(_("amount"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ExchangeStatus.choices,
        default=ExchangeStatus.PROPOSED,
    )
    payment_request = models.OneToOneField(
        PaymentRequest,
        verbose_name=_("payment request"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    transfer = models.ForeignKey(
        Transfer,
        verbose_name=_("payment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("exchange")
        verbose_name_plural = _("exchanges")
        constraints = [
            models.CheckConstraint(
                condition=~Q(provider=F("receiver")), name="listings_exchange_two_members"
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0),
                name="listings_exchange_amount_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "-created_at"], name="listings_exchange_provider"),
            models.Index(fields=["receiver", "-created_at"], name="listings_exchange_receiver"),
            models.Index(
                fields=["community", "status"],
                condition=Q(status__in=["done", "disputed"]),
                name="listings_exchange_open_money",
            ),
        ]

    def __str__(self) -> str:
        return self.description[:60]


class ExchangeEvent(models.Model):
    """One step of an exchange: who, in which role, from, to, why and when."""

    exchange = models.ForeignKey(
        Exchange, verbose_name=_("exchange"), on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    role = models.CharField(_("as"), max_length=12)
    from_status = models.CharField(
        _("from"), max_length=10, blank=True, choices=ExchangeStatus.choices
    )
    to_status = models.CharField(_("to"), max_length=10, choices=ExchangeStatus.choices)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("exchange event")
        verbose_name_plural = _("exchange events")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.exchange_id}: {self.from_status or '-'} -> {self.to_status}"


class ExchangeMessage(models.Model):
    exchange = models.ForeignKey(
        Exchange, verbose_name=_("exchange"), on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("written by"), on_delete=models.PROTECT
    )
    body = models.TextField(_("message"), max_length=MESSAGE_MAX)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.body[:60]


class ThankYou(models.Model):
    """A gift of words from the receiver after payment. It moves no credit."""

    exchange = models.OneToOneField(
        Exchange, verbose_name=_("exchange"), on_delete=models.CASCADE, related_name="thank_you"
    )
    body = models.TextField(_("thank-you note"), max_length=MESSAGE_MAX)
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("thank-you note")
        verbose_name_plural = _("thank-you notes")

    def __str__(self) -> str:
        return self.body[:60]


class ExchangeSettings(models.Model):
    """A community's rules for which exchanges a coordinator approves before payment.

    Without a row nothing needs approval.
    """

    community = models.OneToOneField(
        Community,
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="exchange_settings",
    )
    # In the community's minor unit; empty: no amount needs approval.
    approval_above = models.BigIntegerField(_("approve payments above"), null=True, blank=True)
    # A member's first N exchanges (as provider or receiver) need approval.
    approval_first = models.PositiveSmallIntegerField(
        _("approve a member's first exchanges"), default=0
    )
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("exchange settings")
        verbose_name_plural = _("exchange settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(approval_above__isnull=True) | Q(approval_above__gte=0),
                name="listings_exchange_settings_above_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return str(self.community_id)
