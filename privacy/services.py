"""Writes for privacy: data exports, erasure, retention and the circles' rule for
leaving members' balances.

Every function takes keyword-only arguments and either does the whole thing or
raises a ``ruilkring.errors.DomainError`` having changed nothing.

Erasure follows the ledger's principle that personal data lives on the profile
only. The person's memberships are closed, each balance settled to zero by an
ordinary transfer, and then everything that says who they were goes: the
profile is pseudonymised ("Erased member #N"), and what they wrote is scrubbed
(messages, thank-you notes, listings, notes, and the descriptions of the
transfers they made or received). Amounts, accounts, dates and keys stay, so
every circle's books still add up and ``ledger_verify`` stays clean. The other
apps have no service for scrubbing a person's text, so it is done here, with
one UPDATE per table; the ledger's database rules allow exactly one change to
a transfer: emptying its description (``ledger/migrations/0010_memo_scrub.py``).
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from uuid import uuid4

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import (
    ApiToken,
    Membership,
    MembershipEvent,
    Notification,
    NotificationPreference,
    Status,
    User,
)
from accounts.selectors import user_is_coordinator
from accounts.services import api_token_revoke, membership_status_change
from jobs.services import enqueue
from ledger import services as ledger_services
from ledger.locking import atomic_with_retry
from ledger.models import Account, PaymentRequest, PaymentRequestEvent, Transfer
from listings.models import (
    Exchange,
    ExchangeEvent,
    ExchangeMessage,
    Listing,
    ListingEvent,
    ListingReport,
    ListingStatus,
    ThankYou,
)
from listings.photos import photo_delete_after_commit
from listings.services import listing_status_change
from privacy.archive import archive_write
from privacy.models import (
    EXPORT_IN_PROGRESS,
    DataExport,
    DataExportEvent,
    Erasure,
    ErasureReason,
    ExportStatus,
    PrivacySettings,
    SettleInto,
)
from privacy.selectors import OPEN_STATUSES, privacy_settings_of
from privacy.transitions import EXPORT_TRANSITIONS, ExportActor
from ruilkring.errors import (
    DomainError,
    InvalidInput,
    NotAllowed,
    PaymentRefused,
    TransitionNotAllowed,
)

logger = logging.getLogger(__name__)

# An export still waiting or being made after this long lost its job (a worker
# that stopped): it counts as failed, and the member can ask again.
EXPORT_ABANDONED_AFTER = timedelta(hours=1)
EXPORT_FOLDER = "privacy/exports/"

# -- Data exports ---------------------------------------------------------------


def _export_step(
    *, export: DataExport, to_status: str, actor: User | None = None, note: str = ""
) -> DataExport:
    """Take one step of ``EXPORT_TRANSITIONS`` and record it; the caller holds the
    export's row lock. An export that ends (failed, expired) loses its file once
    the transaction commits."""
    actor_kind = ExportActor.SYSTEM if actor is None else ExportActor.MEMBER
    allowed = EXPORT_TRANSITIONS.get((export.status, to_status))
    if allowed is None or actor_kind not in allowed:
        raise TransitionNotAllowed(
            _("A data export cannot go from “%(from)s” to “%(to)s”.")
            % {
                "from": ExportStatus(export.status).label,
                "to": ExportStatus(to_status).label,
            }
        )
    now = timezone.now()
    from_status = export.status
    export.status = to_status
    if to_status == ExportStatus.BUILDING:
        export.started_at, export.progress = now, 0
    elif to_status == ExportStatus.READY:
        export.finished_at, export.progress = now, 100
        export.expires_at = now + timedelta(days=settings.RUILKRING_RETENTION_EXPORT_DAYS)
    elif to_status == ExportStatus.FAILED:
        export.finished_at, export.message = now, note
    if to_status in (ExportStatus.FAILED, ExportStatus.EXPIRED) and export.file:
        transaction.on_commit(partial(default_storage.delete, export.file.name))
        export.file, export.size = "", None
    export.save()
    DataExportEvent.objects.create(
        export=export, actor=actor, from_status=from_status, to_status=to_status, note=note
    )
    return export


def _export_enqueue(export: DataExport) -> None:
    from privacy.tasks import data_export_build  # the task module imports this one

    enqueue(data_export_build, export.pk)


def data_export_request(*, user: User) -> DataExport:
    """Ask for a copy of all of ``user``'s data; a background job makes it.

    One at a time: while one is waiting or being made, that one is returned and
    nothing new starts. A ready export is replaced by the new one (its file is
    deleted). The job is queued once the request is committed.
    """
    with transaction.atomic():
        # A person's requests one after the other: the second finds the first.
        User.objects.select_for_update().filter(pk=user.pk).first()
        exports = DataExport.objects.select_for_update().filter(user=user)
        current = exports.filter(status__in=EXPORT_IN_PROGRESS).first()
        if current is not None:
            if current.created_at > timezone.now() - EXPORT_ABANDONED_AFTER:
                return current
            _export_step(export=current, to_status=ExportStatus.FAILED, note=_abandoned_note())
        for ready in exports.filter(status=ExportStatus.READY):
            _export_step(
                export=ready,
                to_status=ExportStatus.EXPIRED,
                actor=user,
                note=_("Replaced by a new export."),
            )
        export = DataExport.objects.create(user=user)
        DataExportEvent.objects.create(
            export=export, actor=user, from_status="", to_status=ExportStatus.REQUESTED
        )
        transaction.on_commit(lambda: _export_enqueue(export))
    return export


def _abandoned_note() -> str:
    return _("The export did not finish in time. Ask for a new one.")


def data_export_build(*, export: DataExport) -> DataExport:
    """Make the zip file of a requested export, reporting progress as it goes.

    Runs as a background job. A job delivered twice, or for an export that is no
    longer waiting (its person erased their data meanwhile), changes nothing.
    When making the file fails, the export is marked failed with a message and
    the error is logged; the member can ask again.
    """
    with transaction.atomic():
        locked = DataExport.objects.select_for_update().select_related("user").get(pk=export.pk)
        if locked.status != ExportStatus.REQUESTED:
            return locked
        _export_step(export=locked, to_status=ExportStatus.BUILDING)
    user = locked.user

    def progress(percent: int) -> None:
        DataExport.objects.filter(pk=locked.pk, status=ExportStatus.BUILDING).update(
            progress=percent
        )

    try:
        with tempfile.TemporaryFile() as target, translation.override(user.language):
            archive_write(user=user, target=target, progress=progress)
            size = target.tell()
            target.seek(0)
            name = default_storage.save(
                f"{EXPORT_FOLDER}{uuid4().hex}.zip", File(target, name="export.zip")
            )
    except Exception:
        logger.exception("The data export %s could not be made.", locked.pk)
        with transaction.atomic():
            failed = DataExport.objects.select_for_update().get(pk=locked.pk)
            if failed.status == ExportStatus.BUILDING:
                _export_step(
                    export=failed,
                    to_status=ExportStatus.FAILED,
                    note=_("Something went wrong while making the file. Ask for a new export."),
                )
        return failed
    with transaction.atomic():
        finished = DataExport.objects.select_for_update().get(pk=locked.pk)
        if finished.status != ExportStatus.BUILDING:
            transaction.on_commit(partial(default_storage.delete, name))
            return finished
        finished.file, finished.size = name, size
        return _export_step(export=finished, to_status=ExportStatus.READY)


def data_exports_expire(*, now: datetime | None = None) -> tuple[int, int]:
    """End every export whose download period has passed (its file is deleted),
    and fail every one whose job was lost. Returns (expired, failed)."""
    now = now or timezone.now()
    expired = failed = 0
    due = DataExport.objects.filter(status=ExportStatus.READY, expires_at__lte=now)
    for export_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            export = DataExport.objects.select_for_update().get(pk=export_id)
            if export.status == ExportStatus.READY:
                _export_step(export=export, to_status=ExportStatus.EXPIRED)
                expired += 1
    lost = DataExport.objects.filter(
        status__in=EXPORT_IN_PROGRESS, created_at__lte=now - EXPORT_ABANDONED_AFTER
    )
    for export_id in list(lost.values_list("pk", flat=True)):
        with transaction.atomic():
            export = DataExport.objects.select_for_update().get(pk=export_id)
            if export.status in EXPORT_IN_PROGRESS:
                _export_step(export=export, to_status=ExportStatus.FAILED, note=_abandoned_note())
                failed += 1
    return expired, failed


# -- A circle's rule -----------------------------------------------------------------


def privacy_settings_set(*, actor: User, community, settle_into: str) -> PrivacySettings:
    """A coordinator chooses where the balance of a member who erases their data goes."""
    if not user_is_coordinator(user=actor, community=community):
        raise NotAllowed(_("Only a coordinator of this community can change this."))
    if settle_into not in SettleInto.values:
        raise InvalidInput(_("Choose where the balance goes."), field="settle_into")
    row, _created = PrivacySettings.objects.update_or_create(
        community=community, defaults={"settle_into": settle_into, "updated_at": timezone.now()}
    )
    return row


# -- Erasure ---------------------------------------------------------------------------


def member_erase(*, actor: User | None, user: User) -> Erasure:
    """Erase ``user``'s personal data, keeping the books whole.

    ``actor`` is the person themself, or None for the retention job. In one
    transaction:

    1. every open membership is closed: its balance is settled to zero by a
       transfer into or out of the community pot or the community account (the
       circle's ``PrivacySettings``), with the reason "Balance settled on
       leaving", and the membership becomes "left";
    2. the profile becomes "Erased member #N" with an address that receives no
       mail; the person can no longer sign in (no password, not active, no
       e-mail addresses, no authenticator app, API tokens revoked, and every
       session of theirs stops being valid because the password changed);
       their notifications and notification choices are deleted;
    3. what they wrote is scrubbed (see the module's description).

    Raises NotAllowed when someone else asks, TransitionNotAllowed when the
    data was erased already or the person is a circle's only coordinator, and
    PaymentRefused when the ledger refuses a settlement (for example a pot
    without enough in it); then nothing has changed.
    """
    if actor is not None and actor.pk != user.pk:
        raise NotAllowed(_("You can only erase your own data."))

    def work() -> Erasure:
        locked = User.objects.select_for_update().get(pk=user.pk)
        if Erasure.objects.filter(user=locked).exists():
            raise TransitionNotAllowed(_("This person's data has already been erased."))
        texts = _erasure_texts()
        memberships = Membership.objects.filter(user=locked, status__in=OPEN_STATUSES)
        for membership in memberships.select_related("community").order_by("community_id"):
            _membership_close(membership=membership, actor=actor, texts=texts)
        erasure = Erasure.objects.create(
            user=locked,
            reason=ErasureReason.REQUEST if actor is not None else ErasureReason.RETENTION,
        )
        _texts_scrub(user=locked, actor=actor, removed=texts.removed)
        _exports_end(user=locked)
        _profile_pseudonymise(
            user=locked, erasure=erasure, name=texts.pseudonym % {"number": erasure.number}
        )
        return erasure

    return atomic_with_retry(work)


@dataclass(frozen=True)
class _ErasureTexts:
    """What erasure stores for everyone to read: in the site's language, not the
    language of the person who asked (messages to them stay in theirs)."""

    removed: str
    pseudonym: str
    settled: str


def _erasure_texts() -> _ErasureTexts:
    with translation.override(settings.LANGUAGE_CODE):
        return _ErasureTexts(
            removed=_("(removed)"),
            pseudonym=_("Erased member #%(number)d"),
            settled=_("Balance settled on leaving"),
        )


def _membership_close(*, membership: Membership, actor: User | None, texts: _ErasureTexts) -> None:
    """Settle the membership's balance and mark it left (as the system: the step
    is part of the erasure, not one a member may take on the membership page).
    Without a reason: the member's mail about the step would present one as
    written by a coordinator, and the placeholder name says enough."""
    if membership.status != Status.APPLIED:
        _balance_settle(membership=membership, actor=actor, reason=texts.settled)
    membership_status_change(actor=None, membership=membership, to_status=Status.LEFT)


def _balance_settle(*, membership: Membership, actor: User | None, reason: str) -> Transfer | None:
    """Bring the member's balance to zero with one transfer to or from the pot or
    the community account, as the circle's rule says (the ledger's
    ``account_settle_on_leaving``). If the ledger refuses (a pot with too little
    in it), the whole erasure is refused with the reason."""
    account = Account.objects.filter(membership=membership).first()
    if account is None:
        return None
    community = membership.community
    try:
        return ledger_services.account_settle_on_leaving(
            actor=actor,
            account=account,
            into=privacy_settings_of(community=community).settle_into,
            key=f"erasure:{membership.pk}",
            reason=reason,
        )
    except PaymentRefused as error:
        raise PaymentRefused(
            _(
                "Your balance in %(community)s cannot be settled now: %(problem)s "
                "Ask a coordinator of the circle for help; nothing has been erased."
            )
            % {"community": community.name, "problem": error},
            code=error.code,
        ) from error


def _texts_scrub(*, user: User, actor: User | None, removed: str) -> None:
    """Take out what the person wrote; keep every row, date and amount."""
    listings = Listing.objects.filter(owner__user=user)
    if actor is not None:
        # Taken down as the owner would. For the retention job the expiry job
        # took them down long ago: a listing is up for ninety days at most.
        taken_up = listings.filter(
            status__in=(ListingStatus.ACTIVE, ListingStatus.PAUSED, ListingStatus.EXPIRED)
        )
        for listing in taken_up.select_related("owner", "community"):
            listing_status_change(actor=actor, listing=listing, to_status=ListingStatus.REMOVED)
    for name in listings.exclude(photo="").values_list("photo", flat=True):
        photo_delete_after_commit(name=name)
    listings.update(
        title=removed,
        description=removed,
        availability="",
        indicative_per="",
        removed_reason="",
        photo="",
        search_text="",
    )
    ListingEvent.objects.filter(actor=user).exclude(note="").update(note="")
    ListingReport.objects.filter(reporter__user=user).update(reason=removed)
    Exchange.objects.filter(proposer__user=user).update(description=removed)
    ExchangeEvent.objects.filter(actor=user).exclude(note="").update(note="")
    ExchangeMessage.objects.filter(author=user).update(body=removed)
    ThankYou.objects.filter(exchange__receiver__user=user).update(body=removed)
    Membership.objects.filter(user=user).exclude(application_note="").update(application_note="")
    MembershipEvent.objects.filter(actor=user).exclude(reason="").update(reason="")
    own_accounts = Account.objects.filter(membership__user=user)
    PaymentRequest.objects.filter(Q(payer__in=own_accounts) | Q(payee__in=own_accounts)).update(
        memo=""
    )
    PaymentRequestEvent.objects.filter(actor=user).exclude(note="").update(note="")
    # Only the description changes: the database refuses any other change to a transfer.
    Transfer.objects.filter(entries__account__in=own_accounts).exclude(memo="").update(memo="")
    Notification.objects.filter(user=user).delete()
    NotificationPreference.objects.filter(user=user).delete()


def _exports_end(*, user: User) -> None:
    """No copy of the person's data outlives the erasure."""
    for export in DataExport.objects.select_for_update().filter(
        user=user, status__in=(*EXPORT_IN_PROGRESS, ExportStatus.READY)
    ):
        if export.status == ExportStatus.READY:
            _export_step(export=export, to_status=ExportStatus.EXPIRED)
        else:
            _export_step(
                export=export,
                to_status=ExportStatus.FAILED,
                note=_("The person's data was erased."),
            )


def _profile_pseudonymise(*, user: User, erasure: Erasure, name: str) -> None:
    number = erasure.number
    email = f"erased-{number}@invalid"
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        email = f"erased-{number}-{secrets.token_hex(4)}@invalid"
    user.display_name = name
    user.email = email
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = user.is_superuser = user.is_municipality_observer = False
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    for token_id in ApiToken.objects.filter(user=user, revoked_at__isnull=True).values_list(
        "pk", flat=True
    ):
        api_token_revoke(user=user, token_id=token_id)


# -- Retention ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionReport:
    """What one run of the retention job did."""

    exports_expired: int
    exports_failed: int
    notifications_deleted: int
    application_notes_scrubbed: int
    members_pseudonymised: int


def _days_ago(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def notifications_delete_old(*, now: datetime | None = None) -> int:
    """Delete notifications older than ``RUILKRING_RETENTION_NOTIFICATIONS_DAYS``."""
    cutoff = _days_ago(now or timezone.now(), settings.RUILKRING_RETENTION_NOTIFICATIONS_DAYS)
    deleted, _per_model = Notification.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def application_notes_scrub(*, now: datetime | None = None) -> int:
    """Empty the application notes of memberships that were declined or ended
    more than ``RUILKRING_RETENTION_APPLICATION_DAYS`` ago."""
    cutoff = _days_ago(now or timezone.now(), settings.RUILKRING_RETENTION_APPLICATION_DAYS)
    return (
        Membership.objects.filter(
            status__in=(Status.DECLINED, Status.LEFT), status_changed_at__lt=cutoff
        )
        .exclude(application_note="")
        .update(application_note="")
    )


def left_members_due(*, now: datetime | None = None):
    """People who left every circle, and neither signed in nor had a membership
    change for ``RUILKRING_RETENTION_LEFT_MEMBER_DAYS``. Site administrators and
    municipality observers are never among them, nor anyone erased already."""
    cutoff = _days_ago(now or timezone.now(), settings.RUILKRING_RETENTION_LEFT_MEMBER_DAYS)
    memberships = Membership.objects.filter(user=OuterRef("pk"))
    return (
        User.objects.filter(Exists(memberships))
        .exclude(Exists(memberships.filter(status__in=OPEN_STATUSES)))
        .exclude(Exists(memberships.filter(status_changed_at__gte=cutoff)))
        .exclude(Exists(Erasure.objects.filter(user=OuterRef("pk"))))
        .filter(is_staff=False, is_superuser=False, is_municipality_observer=False)
        .filter(Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
        .order_by("pk")
    )


def left_members_pseudonymise(*, now: datetime | None = None) -> int:
    """Erase the data of everyone ``left_members_due`` finds; returns how many."""
    erased = 0
    for user in left_members_due(now=now):
        try:
            member_erase(actor=None, user=user)
        except DomainError:
            logger.exception("Retention could not erase the data of person %s.", user.pk)
            continue
        erased += 1
    return erased


def retention_apply(*, now: datetime | None = None) -> RetentionReport:
    """Apply every retention period once (the daily job). Ledger rows are never
    deleted; running it twice changes nothing more."""
    now = now or timezone.now()
    expired, failed = data_exports_expire(now=now)
    return RetentionReport(
        exports_expired=expired,
        exports_failed=failed,
        notifications_deleted=notifications_delete_old(now=now),
        application_notes_scrubbed=application_notes_scrub(now=now),
        members_pseudonymised=left_members_pseudonymise(now=now),
    )
