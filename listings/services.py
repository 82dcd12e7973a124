"""Everything that can happen to a listing. Views, API views and tasks call these.

Each function checks who may do it and what was typed, and raises a domain
error with a message in the reader's language when it cannot be done; then
nothing has changed.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Area, AuditAction, Community, Membership, Status, User
from accounts.selectors import user_is_coordinator
from accounts.services import audit_record
from ledger.models import MAX_AMOUNT, RequestStatus, TransferKind
from ledger.services import (
    account_open,
    payment_request_create,
    payment_request_decide,
    transfer_create,
    transfer_reverse,
)
from listings import notifications, selectors
from listings.categories import DEFAULT_CATEGORIES
from listings.models import (
    AVAILABILITY_MAX,
    DESCRIPTION_MAX,
    MESSAGE_MAX,
    REASON_MAX,
    TITLE_MAX,
    Category,
    Exchange,
    ExchangeEvent,
    ExchangeMessage,
    ExchangeSettings,
    ExchangeStatus,
    HelpType,
    Listing,
    ListingEvent,
    ListingKind,
    ListingReport,
    ListingStatus,
    ThankYou,
)
from listings.photos import photo_delete_after_commit, photo_prepare
from listings.search import search_text_of
from listings.transitions import (
    EXCHANGE_TRANSITIONS,
    LISTING_TRANSITIONS,
    NOT_ON_OWN_EXCHANGE,
    ExchangeParty,
    ListingActor,
    exchange_step_roles,
)
from ruilkring.errors import InvalidInput, NotAllowed, NotFound, TransitionNotAllowed

# How long a listing stays up before it asks to be renewed.
LISTING_LIFETIME = timedelta(days=90)
# Members who may place listings: a leaving member can still offer help to
# settle their balance.
PLACING_STATUSES = (Status.ACTIVE, Status.LEAVING)


def categories_ensure(*, community: Community) -> list[Category]:
    """The community's categories; a community without any gets the defaults first."""
    with transaction.atomic():
        if not Category.objects.filter(community=community).exists():
            Category.objects.bulk_create(
                Category(community=community, name_nl=nl, name_en=en, position=number)
                for number, (nl, en) in enumerate(DEFAULT_CATEGORIES, start=1)
            )
    return list(Category.objects.filter(community=community))


def _text(value: str, *, field: str, label: str, limit: int, required: bool) -> str:
    """Trim; refuse empty (when required) and over-long text. Markup is kept as
    typed: every page shows it as text."""
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("Fill in the %(label)s.") % {"label": label}, field=field)
    if len(value) > limit:
        raise InvalidInput(
            _("The %(label)s can be at most %(limit)s characters; now it is %(length)s.")
            % {"label": label, "limit": limit, "length": len(value)},
            field=field,
        )
    return value


def _positive_amount(amount: object, *, field: str, message: str) -> int:
    """A whole number of minor units above zero and within the ledger's maximum."""
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidInput(message, field=field)
    return amount


def _listing_fields(
    *,
    community: Community,
    title: str,
    description: str,
    category: Category,
    help_type: str,
    area: Area | None,
    availability: str,
    indicative_amount: int | None,
    indicative_per: str,
) -> dict:
    if category.community_id != community.pk or not category.is_active:
        raise InvalidInput(_("Choose one of this circle's categories."), field="category")
    if help_type not in HelpType.values:
        raise InvalidInput(_("Choose what kind of help this is."), field="help_type")
    if area is not None and area.community_id != community.pk:
        raise InvalidInput(_("Choose one of this circle's areas."), field="area")
    if indicative_amount is not None:
        _positive_amount(
            indicative_amount,
            field="indicative_amount",
            message=_("The indicative amount must be more than zero, or left empty."),
        )
    title = _text(title, field="title", label=_("title"), limit=TITLE_MAX, required=True)
    description = _text(
        description,
        field="description",
        label=_("description"),
        limit=DESCRIPTION_MAX,
        required=True,
    )
    return {
        "title": title,
        "description": description,
        "search_text": search_text_of(title, description),
        "category": category,
        "help_type": help_type,
        "area": area,
        "availability": _text(
            availability,
            field="availability",
            label=_("availability"),
            limit=AVAILABILITY_MAX,
            required=False,
        ),
        "indicative_amount": indicative_amount,
        "indicative_per": _text(
            indicative_per if indicative_amount is not None else "",
            field="indicative_per",
            label=_("“per”"),
            limit=60,
            required=False,
        ),
    }


def _may_act_for(*, actor: User, owner: Membership) -> bool:
    return owner.user_id == actor.pk or user_is_coordinator(user=actor, community=owner.community)


def listing_create(
    *,
    actor: User,
    owner: Membership,
    kind: str,
    title: str,
    description: str,
    category: Category,
    help_type: str,
    area: Area | None = None,
    availability: str = "",
    indicative_amount: int | None = None,
    indicative_per: str = "",
    not_for_neighbours: bool = False,
    photo: File | None = None,
) -> Listing:
    """Place an offer or a request for ``owner``: by the member, or by a
    coordinator on their behalf. It is active for ``LISTING_LIFETIME``. An
    uploaded ``photo`` is stored as ``listings.photos.photo_prepare`` makes it.

    Raises NotAllowed (someone else's listing, or a member who cannot trade
    now) or InvalidInput (what was typed, or a photo that is not usable).
    """
    community = owner.community
    if not _may_act_for(actor=actor, owner=owner):
        raise NotAllowed(_("You can only place listings for yourself."))
    if owner.status not in PLACING_STATUSES:
        raise NotAllowed(
            _("%(name)s cannot place listings now.") % {"name": owner.user.display_name}
        )
    if kind not in ListingKind.values:
        raise InvalidInput(_("Choose an offer or a request."), field="kind")
    fields = _listing_fields(
        community=community,
        title=title,
        description=description,
        category=category,
        help_type=help_type,
        area=area,
        availability=availability,
        indicative_amount=indicative_amount,
        indicative_per=indicative_per,
    )
    prepared = photo_prepare(upload=photo) if photo is not None else None
    now = timezone.now()
    with transaction.atomic():
        listing = Listing.objects.create(
            community=community,
            owner=owner,
            kind=kind,
            not_for_neighbours=bool(not_for_neighbours),
            photo=prepared or "",
            expires_on=timezone.localdate(now) + LISTING_LIFETIME,
            created_by=actor,
            created_at=now,
            updated_at=now,
            **fields,
        )
        ListingEvent.objects.create(
            listing=listing, actor=actor, from_status="", to_status=ListingStatus.ACTIVE
        )
        if owner.user_id != actor.pk:
            audit_record(
                actor=actor,
                community=community,
                action=AuditAction.LISTING_CREATE,
                subject=listing,
                member=owner,
                details={"kind": kind},
            )
    return listing


def listing_update(
    *,
    actor: User,
    listing: Listing,
    title: str,
    description: str,
    category: Category,
    help_type: str,
    area: Area | None = None,
    availability: str = "",
    indicative_amount: int | None = None,
    indicative_per: str = "",
    not_for_neighbours: bool = False,
    photo: File | None = None,
    photo_remove: bool = False,
) -> Listing:
    """Change what a listing says. Its kind and owner stay; a removed listing
    cannot be changed. A new ``photo`` replaces the old one, ``photo_remove``
    takes it away; the old file is deleted once the change is committed.
    Raises like ``listing_create``."""
    if not _may_act_for(actor=actor, owner=listing.owner):
        raise NotAllowed(_("You can only change your own listings."))
    fields = _listing_fields(
        community=listing.community,
        title=title,
        description=description,
        category=category,
        help_type=help_type,
        area=area,
        availability=availability,
        indicative_amount=indicative_amount,
        indicative_per=indicative_per,
    )
    prepared = photo_prepare(upload=photo) if photo is not None else None
    with transaction.atomic():
        locked = Listing.objects.select_for_update().get(pk=listing.pk)
        if locked.status == ListingStatus.REMOVED:
            raise TransitionNotAllowed(_("A removed listing cannot be changed."))
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.not_for_neighbours = bool(not_for_neighbours)
        old_photo = locked.photo.name
        if prepared is not None:
            locked.photo = prepared
        elif photo_remove:
            locked.photo = ""
        locked.updated_at = timezone.now()
        locked.save()
        if old_photo and locked.photo.name != old_photo:
            photo_delete_after_commit(name=old_photo)
        if listing.owner.user_id != actor.pk:
            audit_record(
                actor=actor,
                community=listing.community,
                action=AuditAction.LISTING_UPDATE,
                subject=locked,
                member=listing.owner,
                details={"kind": locked.kind},
            )
    return locked


def _actor_kinds(*, actor: User | None, listing: Listing) -> set[str]:
    """What ``actor`` is to this listing: its owner, a coordinator, or the system."""
    if actor is None:
        return {ListingActor.SYSTEM}
    kinds = set()
    if listing.owner.user_id == actor.pk:
        kinds.add(ListingActor.OWNER)
    if user_is_coordinator(user=actor, community=listing.community):
        kinds.add(ListingActor.COORDINATOR)
    if not kinds:
        raise NotFound(_("This listing does not exist in this community."))
    return kinds


def listing_status_change(
    *, actor: User | None, listing: Listing, to_status: str, note: str = ""
) -> Listing:
    """Take one step of ``LISTING_TRANSITIONS`` and record it as an event.

    The owner pauses, resumes, renews and removes their own listing; a
    coordinator can do the same for them, and removes or restores someone
    else's listing only with a reason, which the owner can read. ``actor=None``
    is the system (expiry). Renewing (expired to active) sets a new expiry date.

    Raises NotFound (an outsider), InvalidInput (unknown status, missing
    reason), NotAllowed (not this actor's step) or TransitionNotAllowed (not
    from the current status). Nothing changes when it raises.
    """
    if to_status not in ListingStatus.values:
        raise InvalidInput(_("Unknown status."), field="status")
    kinds = _actor_kinds(actor=actor, listing=listing)
    note = note.strip()[:REASON_MAX]
    with transaction.atomic():
        locked = Listing.objects.select_for_update().get(pk=listing.pk)
        allowed = LISTING_TRANSITIONS.get((locked.status, to_status))
        if allowed is None:
            raise TransitionNotAllowed(
                _("A listing cannot go from “%(from)s” to “%(to)s”.")
                % {
                    "from": ListingStatus(locked.status).label,
                    "to": ListingStatus(to_status).label,
                },
                field="status",
            )
        if not kinds & allowed:
            raise NotAllowed(
                _("Only %(actors)s can change “%(from)s” to “%(to)s”.")
                % {
                    "actors": _(" or ").join(str(ListingActor(a).label) for a in sorted(allowed)),
                    "from": ListingStatus(locked.status).label,
                    "to": ListingStatus(to_status).label,
                },
                field="status",
            )
        # Removing someone else's listing, and restoring a removed one, is a
        # coordinator's decision the owner can read the reason for.
        as_coordinator = ListingActor.OWNER not in kinds or ListingActor.OWNER not in allowed
        removal_step = ListingStatus.REMOVED in (locked.status, to_status)
        if ListingActor.COORDINATOR in kinds and as_coordinator and removal_step and not note:
            raise InvalidInput(_("Give a reason; the member can read it."), field="note")
        today = timezone.localdate()
        from_status = locked.status
        locked.status = to_status
        locked.updated_at = timezone.now()
        if to_status == ListingStatus.REMOVED:
            locked.removed_reason = note if as_coordinator else ""
        if to_status == ListingStatus.ACTIVE and from_status in (
            ListingStatus.EXPIRED,
            ListingStatus.REMOVED,
        ):
            locked.expires_on = max(locked.expires_on, today + LISTING_LIFETIME)
            locked.removed_reason = ""
        locked.save(update_fields=["status", "updated_at", "removed_reason", "expires_on"])
        ListingEvent.objects.create(
            listing=locked, actor=actor, from_status=from_status, to_status=to_status, note=note
        )
        if ListingActor.COORDINATOR in kinds and as_coordinator:
            audit_record(
                actor=actor,
                community=listing.community,
                action=AuditAction.LISTING_MODERATE,
                subject=locked,
                member=listing.owner,
                details={"from": from_status, "to": to_status},
                reason=note,
            )
        notifications.listing_step_notify(listing=locked, actor=actor, note=note)
    return locked


def listing_renew(*, actor: User, listing: Listing) -> Listing:
    """Keep a listing up for another ``LISTING_LIFETIME`` from today: an expired
    one becomes active again, an active or paused one gets a later date."""
    if listing.status == ListingStatus.EXPIRED:
        return listing_status_change(actor=actor, listing=listing, to_status=ListingStatus.ACTIVE)
    kinds = _actor_kinds(actor=actor, listing=listing)  # NotFound for outsiders
    with transaction.atomic():
        locked = Listing.objects.select_for_update().get(pk=listing.pk)
        if locked.status == ListingStatus.REMOVED:
            raise TransitionNotAllowed(_("A removed listing cannot be renewed."))
        locked.expires_on = max(locked.expires_on, timezone.localdate() + LISTING_LIFETIME)
        locked.updated_at = timezone.now()
        locked.save(update_fields=["expires_on", "updated_at"])
        if ListingActor.OWNER not in kinds:
            audit_record(
                actor=actor,
                community=listing.community,
                action=AuditAction.LISTING_MODERATE,
                subject=locked,
                member=listing.owner,
                details={"from": locked.status, "to": locked.status},
            )
    return locked


def listings_expire_due(*, today: date | None = None) -> int:
    """Expire every active or paused listing whose date has passed. Returns how
    many. Run daily by the scheduler; running it twice changes nothing more."""
    today = today or timezone.localdate()
    due = Listing.objects.filter(
        status__in=(ListingStatus.ACTIVE, ListingStatus.PAUSED), expires_on__lt=today
    ).values_list("pk", flat=True)
    expired = 0
    for listing in Listing.objects.filter(pk__in=list(due)).select_related("owner", "community"):
        try:
            listing_status_change(actor=None, listing=listing, to_status=ListingStatus.EXPIRED)
        except TransitionNotAllowed:
            continue  # its owner paused or removed it a moment ago
        expired += 1
    return expired


def listing_report(*, actor: User, listing: Listing, reason: str) -> ListingReport:
    """A member tells the coordinators a listing does not belong here; the
    community's coordinators are notified.

    Reporting the same listing again while the first report is open returns
    that report (and notifies nobody again). Raises NotFound (an outsider),
    NotAllowed (your own listing) or InvalidInput (no reason).
    """
    reporter = Membership.objects.filter(
        user=actor, community=listing.community, status__in=PLACING_STATUSES
    ).first()
    if reporter is None:
        raise NotFound(_("This listing does not exist in this community."))
    if listing.owner_id == reporter.pk:
        raise NotAllowed(_("You cannot report your own listing; change or remove it instead."))
    reason = _text(reason, field="reason", label=_("reason"), limit=REASON_MAX, required=True)
    existing = ListingReport.objects.filter(
        listing=listing, reporter=reporter, handled_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            report = ListingReport.objects.create(listing=listing, reporter=reporter, reason=reason)
            notifications.listing_reported_notify(report=report, actor=actor)
            return report
    except IntegrityError:
        # The same member reported it at the same moment in another tab.
        return ListingReport.objects.get(
            listing=listing, reporter=reporter, handled_at__isnull=True
        )


# -- Exchanges -----------------------------------------------------------------


def _exchange_text(value: str, *, field: str, label: str) -> str:
    return _text(value, field=field, label=label, limit=MESSAGE_MAX, required=True)


def _active_member(*, user: User, community: Community) -> Membership:
    membership = Membership.objects.filter(
        user=user, community=community, status__in=PLACING_STATUSES
    ).first()
    if membership is None:
        raise NotFound(_("This listing does not exist in this community."))
    return membership


def exchange_propose(*, actor: User, listing: Listing, description: str) -> Exchange:
    """Respond to a listing: offer the help asked for, or ask for the help offered.

    The listing's owner is asked to agree. Raises NotFound (an outsider, or a
    listing that is not up), NotAllowed (your own listing) or InvalidInput.
    """
    member = _active_member(user=actor, community=listing.community)
    if listing.status != ListingStatus.ACTIVE:
        raise NotFound(_("This listing does not exist in this community."))
    if listing.owner_id == member.pk:
        raise NotAllowed(_("This is your own listing; others can respond to it."))
    description = _exchange_text(description, field="description", label=_("message"))
    provider, receiver = (
        (listing.owner, member) if listing.kind == ListingKind.OFFER else (member, listing.owner)
    )
    with transaction.atomic():
        exchange = Exchange.objects.create(
            community=listing.community,
            listing=listing,
            provider=provider,
            receiver=receiver,
            proposer=member,
            created_by=actor,
            description=description,
        )
        _exchange_event(exchange, actor=actor, role=ExchangeParty.PROPOSER, from_status="")
        notifications.exchange_new_notify(exchange=exchange, actor=actor)
    return exchange


def exchange_match(
    *,
    actor: User,
    provider: Membership,
    receiver: Membership,
    description: str,
    listing: Listing | None = None,
) -> Exchange:
    """A coordinator matches two members by hand; the helper is asked to agree.

    Raises NotAllowed (not a coordinator, or a member who cannot trade now)
    or InvalidInput (the same member twice, another circle, no description).
    """
    community = provider.community
    if not user_is_coordinator(user=actor, community=community):
        raise NotAllowed(_("Only a coordinator of this community can match members."))
    if receiver.community_id != community.pk or (
        listing is not None and listing.community_id != community.pk
    ):
        raise InvalidInput(_("Both members must belong to this circle."), field="receiver")
    if provider.pk == receiver.pk:
        raise InvalidInput(_("Choose two different members."), field="receiver")
    for member in (provider, receiver):
        if member.status not in PLACING_STATUSES:
            raise NotAllowed(
                _("%(name)s cannot give or receive now.") % {"name": member.user.display_name}
            )
    description = _exchange_text(description, field="description", label=_("description"))
    with transaction.atomic():
        exchange = Exchange.objects.create(
            community=community,
            listing=listing,
            provider=provider,
            receiver=receiver,
            proposer=None,
            created_by=actor,
            description=description,
        )
        _exchange_event(exchange, actor=actor, role=ExchangeParty.COORDINATOR, from_status="")
        audit_record(
            actor=actor,
            community=community,
            action=AuditAction.EXCHANGE_MATCH,
            subject=exchange,
            member=receiver,
            details={
                "provider": provider.pk,
                "receiver": receiver.pk,
                "listing": listing.pk if listing is not None else None,
            },
        )
        notifications.exchange_new_notify(exchange=exchange, actor=actor)
    return exchange


def _exchange_event(
    exchange: Exchange, *, actor: User | None, role: str, from_status: str, note: str = ""
) -> None:
    ExchangeEvent.objects.create(
        exchange=exchange,
        actor=actor,
        role=role,
        from_status=from_status,
        to_status=exchange.status,
        note=note,
    )


def _payment_memo(exchange: Exchange) -> str:
    """What the payment is for on both statements: the listing's title (the
    description is often a message such as "Past dinsdag?"), else the description."""
    return (exchange.listing.title if exchange.listing_id else exchange.description)[:500]


def exchange_step(
    *,
    actor: User | None,
    exchange: Exchange,
    to_status: str,
    note: str = "",
    amount: int | None = None,
) -> Exchange:
    """Take one step of ``EXCHANGE_TRANSITIONS`` and record it as an event.

    What a step does besides:
    - done (the helper, with ``amount``): asks the receiver to pay through the
      ledger's payment request. When the receiver pays such requests
      automatically, the exchange is paid at once.
    - review: what the helper's done becomes when the community wants a
      coordinator to approve the payment first
      (``selectors.exchange_approval_needed``), or when the helper asks for it;
      the amount is kept and nothing is asked yet. A coordinator approves it by
      taking it to done (which then asks as above, for the amount kept) or
      turns it down (cancelled, with a reason). A coordinator never decides on
      their own exchange here.
    - paid (the receiver): pays that request. From a dispute a coordinator
      settles it with ``amount``, in full or in part, as an entry on the
      receiver's behalf.
    - disputed (from done): declines the waiting request.
    - cancelled (from a dispute): reverses the payment, if one was made.
    A coordinator's step out of a dispute, and turning down a payment that
    waits for approval, need a reason (``note``).

    Raises NotFound (an outsider), InvalidInput, NotAllowed,
    TransitionNotAllowed, or the ledger's PaymentRefused; nothing changes then.
    """
    if to_status not in ExchangeStatus.values:
        raise InvalidInput(_("Unknown status."), field="status")
    parties = selectors.exchange_parties(actor=actor, exchange=exchange)
    note = note.strip()[:REASON_MAX]
    with transaction.atomic():
        locked = (
            Exchange.objects.select_for_update(of=("self",))
            .select_related("community", "provider__user", "receiver__user", "payment_request")
            .get(pk=exchange.pk)
        )
        from_status = locked.status
        allowed = EXCHANGE_TRANSITIONS.get((from_status, to_status))
        if allowed is None:
            raise TransitionNotAllowed(
                _("An exchange cannot go from “%(from)s” to “%(to)s”.")
                % {
                    "from": ExchangeStatus(from_status).label,
                    "to": ExchangeStatus(to_status).label,
                },
                field="status",
            )
        roles = exchange_step_roles(parties=parties, from_status=from_status, to_status=to_status)
        if not roles and (from_status, to_status) in NOT_ON_OWN_EXCHANGE and parties & allowed:
            raise NotAllowed(
                _("This is your own exchange: another coordinator decides on it."),
                field="status",
            )
        if not roles:
            raise NotAllowed(
                _("Only %(actors)s can change “%(from)s” to “%(to)s”.")
                % {
                    "actors": _(" or ").join(str(ExchangeParty(a).label) for a in sorted(allowed)),
                    "from": ExchangeStatus(from_status).label,
                    "to": ExchangeStatus(to_status).label,
                },
                field="status",
            )
        role = _role_of(roles)
        if (
            to_status == ExchangeStatus.DONE
            and role == ExchangeParty.PROVIDER
            and selectors.exchange_approval_needed(exchange=locked, amount=_done_amount(amount))
        ):
            # The community wants a coordinator to look at this payment first;
            # the table lets the helper take this step instead.
            to_status = ExchangeStatus.REVIEW
        turning_down = (from_status, to_status) == (ExchangeStatus.REVIEW, ExchangeStatus.CANCELLED)
        if (from_status == ExchangeStatus.DISPUTED or turning_down) and not note:
            raise InvalidInput(_("Give a reason; both members can read it."), field="note")
        settled_now = from_status == ExchangeStatus.DISPUTED and locked.transfer_id is None
        locked.status = to_status
        _exchange_money(
            locked, actor=actor, role=role, from_status=from_status, note=note, amount=amount
        )
        locked.updated_at = timezone.now()
        locked.save()
        _exchange_event(locked, actor=actor, role=role, from_status=from_status, note=note)
        if role == ExchangeParty.COORDINATOR:
            audit_record(
                actor=actor,
                community=locked.community,
                action=AuditAction.EXCHANGE_STEP,
                subject=locked,
                member=locked.receiver,
                details={
                    "from": from_status,
                    "to": to_status,
                    "provider": locked.provider_id,
                    "receiver": locked.receiver_id,
                    "amount": locked.amount,
                },
                reason=note,
            )
        if (
            to_status == ExchangeStatus.DONE
            and locked.payment_request.status == RequestStatus.ACCEPTED
        ):
            # The receiver pays requests automatically: paid at once.
            locked.status = ExchangeStatus.PAID
            locked.transfer_id = locked.payment_request.transfer_id
            locked.save(update_fields=["status", "transfer"])
            _exchange_event(
                locked, actor=None, role=ExchangeParty.SYSTEM, from_status=ExchangeStatus.DONE
            )
        notifications.exchange_step_notify(
            exchange=locked,
            actor=actor,
            note=note,
            from_status=from_status,
            settled_now=settled_now,
        )
        notifications.exchange_coordinators_notify(exchange=locked, actor=actor, note=note)
    return locked


def _done_amount(amount: object) -> int:
    return _positive_amount(amount, field="amount", message=_("Say how much the help was worth."))


def _role_of(roles: set[str]) -> str:
    """The role a step is recorded under when the actor holds several: the
    member's own role before the coordinator's."""
    for role in (
        ExchangeParty.PROVIDER,
        ExchangeParty.RECEIVER,
        ExchangeParty.PROPOSER,
        ExchangeParty.COUNTERPART,
        ExchangeParty.COORDINATOR,
    ):
        if role in roles:
            return role
    return ExchangeParty.SYSTEM


def _exchange_money(
    exchange: Exchange,
    *,
    actor: User | None,
    role: str,
    from_status: str,
    note: str,
    amount: int | None,
) -> None:
    """The ledger side of a step; the caller holds the exchange's lock."""
    to_status = exchange.status
    request = exchange.payment_request
    if to_status == ExchangeStatus.REVIEW:
        exchange.amount = _done_amount(amount)
    elif to_status == ExchangeStatus.DONE:
        if from_status == ExchangeStatus.REVIEW:
            # Approving: the amount the helper reported, as it was kept.
            if amount is not None and amount != exchange.amount:
                raise InvalidInput(
                    _(
                        "Approving keeps the amount the helper reported. To change it, "
                        "turn this down with a reason."
                    ),
                    field="amount",
                )
            amount = exchange.amount
        exchange.amount = _done_amount(amount)
        exchange.payment_request = payment_request_create(
            actor=actor,
            community=exchange.community,
            payer=account_open(membership=exchange.receiver),
            payee=account_open(membership=exchange.provider),
            amount=exchange.amount,
            memo=_payment_memo(exchange),
            idempotency_key=f"exchange-{exchange.pk}",
        )
    elif to_status == ExchangeStatus.PAID and from_status == ExchangeStatus.DONE:
        if request.status == RequestStatus.PENDING:
            request = payment_request_decide(
                actor=actor, request=request, to_status=RequestStatus.ACCEPTED
            )
        exchange.transfer_id = request.transfer_id
    elif to_status == ExchangeStatus.PAID and exchange.transfer_id is None:
        # A coordinator settles a dispute over an unpaid exchange (one that was
        # paid stays paid as it was; cancelling it reverses the payment).
        amount = _positive_amount(
            amount, field="amount", message=_("Say how much the receiver pays.")
        )
        exchange.transfer = transfer_create(
            actor=actor,
            community=exchange.community,
            kind=TransferKind.COORDINATOR_ENTRY,
            payer=account_open(membership=exchange.receiver),
            payee=account_open(membership=exchange.provider),
            amount=amount,
            memo=_payment_memo(exchange),
            reason=note,
            idempotency_key=f"exchange-{exchange.pk}-settled",
        )
        exchange.amount = amount
    elif to_status == ExchangeStatus.DISPUTED and from_status == ExchangeStatus.DONE:
        if (
            request is not None
            and request.status == RequestStatus.PENDING
            and role != ExchangeParty.SYSTEM  # the system follows a request already answered
        ):
            # The helper withdraws the request; the receiver declines it.
            answer = (
                RequestStatus.CANCELLED
                if role == ExchangeParty.PROVIDER
                else RequestStatus.REJECTED
            )
            payment_request_decide(actor=actor, request=request, to_status=answer)
    elif to_status == ExchangeStatus.CANCELLED and exchange.transfer_id is not None:
        transfer_reverse(
            actor=actor,
            transfer=exchange.transfer,
            reason=note,
            idempotency_key=f"exchange-{exchange.pk}-reversed",
        )


def exchange_payments_sync() -> int:
    """Catch up with payment requests answered on the ledger's pages or by the
    auto-accept job: paid becomes paid, declined goes to a coordinator.
    Returns how many exchanges moved. Run by the scheduler."""
    moved = 0
    waiting = Exchange.objects.filter(
        status=ExchangeStatus.DONE,
        payment_request__status__in=(RequestStatus.ACCEPTED, RequestStatus.REJECTED),
    ).select_related("payment_request")
    for exchange in waiting:
        to_status = (
            ExchangeStatus.PAID
            if exchange.payment_request.status == RequestStatus.ACCEPTED
            else ExchangeStatus.DISPUTED
        )
        try:
            exchange_step(actor=None, exchange=exchange, to_status=to_status)
        except TransitionNotAllowed:
            continue  # moved a moment ago by one of the members
        moved += 1
    return moved


def exchange_message_post(*, actor: User, exchange: Exchange, body: str) -> ExchangeMessage:
    """Add a message to an exchange's thread: its two members and coordinators."""
    selectors.exchange_parties(actor=actor, exchange=exchange)  # NotFound for outsiders
    body = _exchange_text(body, field="body", label=_("message"))
    with transaction.atomic():
        message = ExchangeMessage.objects.create(exchange=exchange, author=actor, body=body)
        notifications.exchange_message_notify(exchange=exchange, actor=actor, body=body)
    return message


def exchange_thank(*, actor: User, exchange: Exchange, body: str) -> ThankYou:
    """The receiver thanks the helper after payment, once. Moves no credit."""
    parties = selectors.exchange_parties(actor=actor, exchange=exchange)
    if ExchangeParty.RECEIVER not in parties:
        raise NotAllowed(_("Only the member who was helped can say thank you here."))
    if Exchange.objects.filter(pk=exchange.pk).values_list("status", flat=True).get() != (
        ExchangeStatus.PAID
    ):
        raise TransitionNotAllowed(_("You can say thank you once the exchange is paid."))
    body = _exchange_text(body, field="body", label=_("thank-you note"))
    try:
        with transaction.atomic():
            thank_you = ThankYou.objects.create(exchange=exchange, body=body)
            notifications.exchange_thanks_notify(exchange=exchange, body=body)
            return thank_you
    except IntegrityError as exc:
        raise TransitionNotAllowed(_("You have already said thank you for this exchange.")) from exc


# How many of a member's first exchanges a community can have approved; beyond
# this, approving every payment (``approval_above`` of 0) says it better.
APPROVAL_FIRST_MAX = 100


def exchange_settings_set(
    *,
    actor: User,
    community: Community,
    approval_above: int | None,
    approval_first: int,
) -> ExchangeSettings:
    """Set which payments a coordinator approves before the receiver is asked:
    those above ``approval_above`` (minor units; None: no amount), and those of
    a member's first ``approval_first`` exchanges (0: none). Exchanges already
    reported done keep the way they went.

    Raises NotAllowed (not a coordinator of the community) or InvalidInput.
    """
    if not user_is_coordinator(user=actor, community=community):
        raise NotAllowed(_("Only a coordinator of this community can do this."))
    if approval_above is not None and (
        not isinstance(approval_above, int)
        or isinstance(approval_above, bool)
        or not 0 <= approval_above <= MAX_AMOUNT
    ):
        raise InvalidInput(
            _("The amount must be zero or more, or left empty."), field="approval_above"
        )
    if (
        not isinstance(approval_first, int)
        or isinstance(approval_first, bool)
        or not 0 <= approval_first <= APPROVAL_FIRST_MAX
    ):
        raise InvalidInput(
            _("Give a number of exchanges from 0 to %(max)s.") % {"max": APPROVAL_FIRST_MAX},
            field="approval_first",
        )
    with transaction.atomic():
        rules, _created = ExchangeSettings.objects.select_for_update().get_or_create(
            community=community
        )
        before = (rules.approval_above, rules.approval_first)
        rules.approval_above = approval_above
        rules.approval_first = approval_first
        rules.updated_at = timezone.now()
        rules.save()
        if before != (approval_above, approval_first):
            audit_record(
                actor=actor,
                community=community,
                action=AuditAction.EXCHANGE_SETTINGS,
                subject=rules,
                details={
                    "approval_above": [before[0], approval_above],
                    "approval_first": [before[1], approval_first],
                },
            )
    return rules


def listing_report_handle(*, actor: User, report: ListingReport) -> ListingReport:
    """A coordinator has looked at a report (and changed or removed the listing
    if it needed that): it leaves the queue. Raises NotAllowed for others."""
    if not user_is_coordinator(user=actor, community=report.listing.community):
        raise NotAllowed(_("Only a coordinator of this community can handle reports."))
    with transaction.atomic():
        locked = ListingReport.objects.select_for_update().get(pk=report.pk)
        if locked.handled_at is None:
            locked.handled_at = timezone.now()
            locked.handled_by = actor
            locked.save(update_fields=["handled_at", "handled_by"])
            audit_record(
                actor=actor,
                community=report.listing.community,
                action=AuditAction.REPORT_HANDLE,
                subject=locked,
                member=report.listing.owner,
                details={"listing": report.listing_id},
            )
    return locked
