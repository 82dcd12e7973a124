"""People and tenancy.

- A ``User`` is a person. They sign in with their email address.
- A ``Community`` is one exchange circle (ruilkring) with its own unit
  ("nikse"/"niksen", "ster"/"sterren") and default credit limits.
- A ``Membership`` is a person's place in one community: their role
  (member or coordinator) and status (applied, active, leaving, suspended,
  left, declined). A person can belong to several communities.
- A ``MembershipEvent`` records every change of role or status: who made it,
  from what, to what, and why. Events are never changed or deleted.
- An ``Area`` is an optional neighbourhood within a community.

Every query for community data goes through a selector that takes the
community explicitly, so nobody reads another community's data by accident.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Personal data lives here, never in the ledger."""

    email = models.EmailField(_("email address"), max_length=254, unique=True)
    display_name = models.CharField(
        _("name"),
        max_length=100,
        help_text=_("The name other members of your circles see."),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    is_municipality_observer = models.BooleanField(
        _("municipality observer"),
        default=False,
        help_text=_("May see aggregated, anonymised figures of every circle; never individuals."),
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name


class UnitKind(models.TextChoices):
    # A time unit counts minutes (60 per unit); any other unit counts hundredths.
    TIME = "time", _("Time (counted in minutes)")
    DECIMAL = "decimal", _("Other (counted in hundredths)")


UNIT_SCALES = {UnitKind.TIME: 60, UnitKind.DECIMAL: 100}


class Community(models.Model):
    """One exchange circle. Amounts are integers in its minor unit (see ``unit_scale``)."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(
        _("web address name"),
        max_length=60,
        unique=True,
        help_text=_("Lower-case letters, digits and hyphens; used in the web address."),
    )
    place = models.CharField(_("place"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    unit_singular_nl = models.CharField(_("unit name, singular (Dutch)"), max_length=40)
    unit_plural_nl = models.CharField(_("unit name, plural (Dutch)"), max_length=40)
    unit_singular_en = models.CharField(_("unit name, singular (English)"), max_length=40)
    unit_plural_en = models.CharField(_("unit name, plural (English)"), max_length=40)
    unit_kind = models.CharField(
        _("kind of unit"), max_length=10, choices=UnitKind.choices, default=UnitKind.TIME
    )
    default_floor = models.BigIntegerField(
        _("default credit limit"),
        default=0,
        help_text=_("How far below zero a new account may go, in minor units (zero or below)."),
    )
    default_ceiling = models.BigIntegerField(
        _("default maximum"),
        default=0,
        help_text=_("How far above zero a new account may go, in minor units (zero or above)."),
    )
    requires_approval = models.BooleanField(
        _("new members need approval"),
        default=True,
        help_text=_("When on, a coordinator admits or declines each application."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(default_floor__lte=0),
                name="accounts_community_floor_not_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(default_ceiling__gte=0),
                name="accounts_community_ceiling_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def unit_scale(self) -> int:
        """Minor units per whole unit: 60 for a time unit, 100 otherwise."""
        return UNIT_SCALES[UnitKind(self.unit_kind)]


class Area(models.Model):
    """A neighbourhood within one community, for matching and aggregate reports."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="areas"
    )
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "community", Lower("name"), name="accounts_area_name_unique_per_community"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    MEMBER = "member", _("Member")
    COORDINATOR = "coordinator", _("Coordinator")


class Status(models.TextChoices):
    APPLIED = "applied", _("Applied")
    ACTIVE = "active", _("Active")
    LEAVING = "leaving", _("Leaving")
    SUSPENDED = "suspended", _("Suspended")
    LEFT = "left", _("Left")
    DECLINED = "declined", _("Declined")


# Statuses in which a person belongs to the community and may see its pages.
MEMBER_STATUSES = (Status.ACTIVE, Status.LEAVING, Status.SUSPENDED)


class Membership(models.Model):
    """A person's place in one community. There is at most one per person and community;
    someone who leaves and comes back re-applies on the same membership, so its
    history stays in one place."""

    # PROTECT, not CASCADE: a membership carries history (and later a ledger
    # account). People leave by status change and are pseudonymised, never deleted.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.APPLIED
    )
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
    )
    application_note = models.TextField(_("note with the application"), blank=True)
    applied_at = models.DateTimeField(_("applied"), default=timezone.now)
    joined_at = models.DateTimeField(_("admitted"), null=True, blank=True)
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "community"], name="accounts_membership_one_per_community"
            ),
        ]
        indexes = [models.Index(fields=["community", "status"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.community}"

    @property
    def is_coordinator(self) -> bool:
        return self.role == Role.COORDINATOR and self.status == Status.ACTIVE


class MembershipEventKind(models.TextChoices):
    STATUS = "status", _("Status change")
    ROLE = "role", _("Role change")
    AREA = "area", _("Area change")


class MembershipEvent(models.Model):
    """One recorded change to a membership: who, from, to, when and why. Append-only."""

    membership = models.ForeignKey(
        Membership,
        verbose_name=_("membership"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    community = models.ForeignKey(
        Community, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    # Null when the system made the change (for example automatic admission).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=MembershipEventKind.choices)
    from_value = models.CharField(_("from"), max_length=120, blank=True)
    to_value = models.CharField(_("to"), max_length=120)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("membership event")
        verbose_name_plural = _("membership events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.membership}: {self.from_value} -> {self.to_value}"

    def _label(self, value: str) -> str:
        """A stored status or role code as a word in the reader's language."""
        choices = {MembershipEventKind.STATUS: Status, MembershipEventKind.ROLE: Role}.get(
            self.kind
        )
        if choices is not None and value in choices.values:
            return str(choices(value).label)
        return value

    @property
    def from_label(self) -> str:
        return self._label(self.from_value)

    @property
    def to_label(self) -> str:
        return self._label(self.to_value)


class NotificationChannel(models.TextChoices):
    NOW = "now", _("Mail me straight away")
    DIGEST = "digest", _("Mail me once a week, with the rest")
    NONE = "none", _("No mail; I look on the site")


class Notification(models.Model):
    """Something a person should know, in their inbox on the site; written in
    their language when it happened. Mailed now, in the weekly digest, or not,
    as they chose for its kind."""

    user = models.ForeignKey(
        User, verbose_name=_("for"), on_delete=models.CASCADE, related_name="notifications"
    )
    community = models.ForeignKey(
        Community,
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=40)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # Set once it went out by mail, alone or in a digest; a "none" notification keeps it empty.
    mailed_at = models.DateTimeField(_("mailed"), null=True, blank=True)
    channel = models.CharField(
        _("mail"),
        max_length=10,
        choices=NotificationChannel.choices,
        default=NotificationChannel.NOW,
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="accounts_notification_inbox"),
            models.Index(
                fields=["user"],
                condition=models.Q(channel="digest", mailed_at__isnull=True),
                name="accounts_notification_digest",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class NotificationPreference(models.Model):
    """How one person wants to hear about one kind of notification."""

    user = models.ForeignKey(
        User, verbose_name=_("person"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=40)
    channel = models.CharField(_("mail"), max_length=10, choices=NotificationChannel.choices)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], name="accounts_one_preference_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.channel}"


class ApiToken(models.Model):
    """A personal access token: a person's key to the API, for scripts and apps.

    Only the SHA-256 hash of the secret is stored, so a copy of the database
    does not hand out working keys; the person sees the secret once, when it is
    made. The ``prefix`` (its first characters) lets them tell tokens apart. A
    revoked token stays, with ``revoked_at``, so the list shows what was used.
    """

    # A token is a credential, not history: it goes with its person.
    user = models.ForeignKey(
        User, verbose_name=_("person"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=80)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("prefix"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def hash_of(secret: str) -> str:
        """The SHA-256 hex digest under which a secret is stored and looked up."""
        return hashlib.sha256(secret.encode()).hexdigest()


class AuditRole(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordinator")
    ADMINISTRATOR = "administrator", _("Site administrator")


class AuditAction(models.TextChoices):
    """What a coordinator or site administrator did. The code names the app and the
    operation; ``accounts.selectors.audit_lines`` turns each into a sentence."""

    MEMBERSHIP_STATUS = "membership.status", _("Membership status")
    MEMBERSHIP_ROLE = "membership.role", _("Role")
    MEMBERSHIP_AREA = "membership.area", _("A member's area")
    COMMUNITY_CREATE = "community.create", _("New circle")
    SETTINGS_CHANGE = "settings.change", _("Circle settings")
    AREA_CREATE = "area.create", _("New area")
    LIMITS_SET = "limits.set", _("Limits")
    TRANSFER_ON_BEHALF = "transfer.on_behalf", _("Payment on a member's behalf")
    TRANSFER_REVERSE = "transfer.reverse", _("Reversal")
    BATCH_ENTER = "batch.enter", _("Paper cheques")
    REQUEST_ON_BEHALF = "request.on_behalf", _("Payment request on a member's behalf")
    REQUEST_DECIDE = "request.decide", _("Answer to a payment request")
    REQUEST_SETTINGS = "request_settings.set", _("Paying requests without an answer")
    LISTING_CREATE = "listing.create", _("Listing placed for a member")
    LISTING_UPDATE = "listing.update", _("Listing changed for a member")
    LISTING_MODERATE = "listing.moderate", _("Listing status")
    REPORT_HANDLE = "report.handle", _("Report handled")
    EXCHANGE_MATCH = "exchange.match", _("Match by hand")
    EXCHANGE_STEP = "exchange.step", _("Exchange decision")
    EXCHANGE_SETTINGS = "exchange_settings.set", _("Payments approved first")
    FLAG_STEP = "flag.step", _("Signal")
    SIGNAL_SETTINGS = "signal_settings.set", _("Signal settings")
    ANALYSIS_REQUEST = "analysis.request", _("Analysis started")
    ADMIN_ADD = "admin.add", _("Added in the admin")
    ADMIN_CHANGE = "admin.change", _("Changed in the admin")
    ADMIN_DELETE = "admin.delete", _("Deleted in the admin")


class AuditEntry(models.Model):
    """One action taken with a coordinator's or site administrator's authority:
    who, in which role, what, on what, and why. Append-only: on PostgreSQL and
    SQLite the database refuses UPDATE, DELETE and TRUNCATE (migration
    ``0004_audit_log``), and the admin only shows it.

    No personal data is copied in. The member concerned is referenced by
    ``membership`` (and other members by membership id in ``details``), and the
    log shows their name as it is now: after erasure, their pseudonym. Only the
    coordinator's own ``reason`` is kept as typed. Amounts in ``details`` are
    integers in the community's minor unit.
    """

    # Null for a site-wide action in the admin that belongs to no community.
    # PROTECT throughout: communities, people and memberships are never deleted
    # (a person is pseudonymised), and the log must outlive nothing it names.
    community = models.ForeignKey(
        Community,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    actor_role = models.CharField(_("as"), max_length=20, choices=AuditRole.choices)
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices)
    # The member the action concerns, when there is one.
    membership = models.ForeignKey(
        Membership,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # What was acted on, as "app_label.model" and its id (it may live in any app).
    subject_type = models.CharField(_("subject type"), max_length=100, blank=True)
    subject_id = models.BigIntegerField(_("subject id"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["community", "-created_at"], name="accounts_audit_community"),
            # For "is this in the log already" (``audit_record(once=True)``).
            models.Index(fields=["subject_type", "subject_id"], name="accounts_audit_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} #{self.pk}"
