"""Reads for privacy: a person's exports, what erasure would do, and the contents
of their data export.

The export holds what the person can already see in the app, and nothing more:
their own profile, memberships, listings, exchanges, messages, notifications,
payment requests and statements. Other members appear by the name the app
shows them by (a counterpart on a statement, the author of a message); never
by their e-mail address or anything else from their profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, MembershipEvent, Role, Status, User
from accounts.selectors import (
    api_tokens_of,
    memberships_of_user,
    notifications_of,
)
from accounts.units import amount_format
from ledger.models import Account, AccountKind, PaymentRequest, RequestStatus
from ledger.selectors import account_holder_name, account_statement
from listings.models import Exchange, ExchangeMessage, Listing, ListingStatus, ThankYou
from listings.transitions import ExchangeParty
from privacy.models import DataExport, PrivacySettings, SettleInto
from ruilkring.errors import NotFound

# Statuses in which a membership is still open: erasure settles and closes it.
OPEN_STATUSES = (Status.APPLIED, Status.ACTIVE, Status.LEAVING, Status.SUSPENDED)
# Statements are read a page at a time (the ledger's keyset pages), oldest last.
STATEMENT_EXPORT_PAGE = 1000


def privacy_settings_of(*, community) -> PrivacySettings:
    """The community's rule for leaving members' balances; the default (the pot), unsaved."""
    found = PrivacySettings.objects.filter(community=community).first()
    return found or PrivacySettings(community=community)


def data_export_latest(*, user: User) -> DataExport | None:
    """The person's newest export, whatever its status."""
    return DataExport.objects.filter(user=user).order_by("-created_at", "-pk").first()


def data_export_of_user_get(*, user: User, export_id) -> DataExport:
    """One of the person's own exports; NotFound for anyone else's (the two look the same)."""
    try:
        return DataExport.objects.get(user=user, pk=export_id)
    except (DataExport.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("This download does not exist.")) from exc


@dataclass(frozen=True)
class ErasurePlanLine:
    """What erasing the person's data does in one of their circles."""

    membership: Membership
    balance: int
    balance_text: str
    settle_into: str
    settle_into_label: str
    last_coordinator: bool


def erasure_plan(*, user: User) -> list[ErasurePlanLine]:
    """Per open membership: the balance that will be settled, where it goes, and
    whether the person is the circle's only coordinator (then erasure is refused)."""
    lines = []
    memberships = memberships_of_user(user=user).filter(status__in=OPEN_STATUSES)
    accounts = {
        account.membership_id: account
        for account in Account.objects.filter(membership__in=memberships)
    }
    for membership in memberships:
        community = membership.community
        balance = accounts[membership.pk].balance if membership.pk in accounts else 0
        rule = SettleInto(privacy_settings_of(community=community).settle_into)
        last_coordinator = (
            membership.role == Role.COORDINATOR
            and membership.status == Status.ACTIVE
            and not Membership.objects.filter(
                community=community, role=Role.COORDINATOR, status=Status.ACTIVE
            )
            .exclude(pk=membership.pk)
            .exists()
        )
        lines.append(
            ErasurePlanLine(
                membership=membership,
                balance=balance,
                balance_text=amount_format(community=community, amount=balance),
                settle_into=rule.value,
                settle_into_label=str(rule.label),
                last_coordinator=last_coordinator,
            )
        )
    return lines


# -- The contents of a data export ---------------------------------------------------
# Each returns plain values (str, int, bool, None, dates, lists and dicts), ready
# for JSON, in the active language.


def _label(choices, value: str) -> str:
    """A stored code as a word in the reader's language; the code itself when unknown."""
    return str(choices(value).label) if value in choices.values else value


def _money(community, amount: int | None) -> dict | None:
    if amount is None:
        return None
    return {"minor_units": amount, "text": amount_format(community=community, amount=amount)}


def export_profile(*, user: User) -> dict:
    """The person, their e-mail addresses, tokens and memberships with their history."""
    memberships = []
    for membership in memberships_of_user(user=user):
        events = MembershipEvent.objects.filter(membership=membership).order_by("created_at", "pk")
        memberships.append(
            {
                "community": membership.community.name,
                "community_slug": membership.community.slug,
                "role": str(Role(membership.role).label),
                "status": str(Status(membership.status).label),
                "area": membership.area.name if membership.area else None,
                "application_note": membership.application_note,
                "applied_at": membership.applied_at,
                "admitted_at": membership.joined_at,
                "left_at": membership.left_at,
                "history": [
                    {
                        "when": event.created_at,
                        "what": str(event.get_kind_display()),
                        "from": event.from_label,
                        "to": event.to_label,
                        "reason": event.reason,
                        "by_you": event.actor_id == user.pk,
                    }
                    for event in events
                ],
            }
        )
    return {
        "email": user.email,
        "name": user.display_name,
        "language": user.language,
        "joined_site_at": user.date_joined,
        "last_signed_in_at": user.last_login,
        "municipality_observer": user.is_municipality_observer,
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user).order_by("pk")
        ],
        "api_tokens": [
            {
                "name": token.name,
                "starts_with": token.prefix,
                "made_at": token.created_at,
                "last_used_at": token.last_used_at,
                "revoked_at": token.revoked_at,
            }
            for token in api_tokens_of(user=user)
        ],
        "memberships": memberships,
    }


def export_listings(*, user: User) -> list[dict]:
    """The person's offers and requests in every circle, with their history."""
    listings = (
        Listing.objects.filter(owner__user=user)
        .select_related("community", "category", "area")
        .prefetch_related("events")
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": listing.pk,
            "community": listing.community.name,
            "kind": str(listing.get_kind_display()),
            "title": listing.title,
            "description": listing.description,
            "category": listing.category.name(user.language),
            "kind_of_help": str(listing.get_help_type_display()),
            "area": listing.area.name if listing.area else None,
            "when": listing.availability,
            "indicative_amount": _money(listing.community, listing.indicative_amount),
            "indicative_per": listing.indicative_per,
            "not_for_neighbours": listing.not_for_neighbours,
            "status": str(listing.get_status_display()),
            "visible_until": listing.expires_on,
            "reason_for_removal": listing.removed_reason,
            "photo": export_photo_name(listing=listing) if listing.photo else None,
            "created_at": listing.created_at,
            "changed_at": listing.updated_at,
            "history": [
                {
                    "when": event.created_at,
                    "from": _label(ListingStatus, event.from_status),
                    "to": _label(ListingStatus, event.to_status),
                    "note": event.note,
                    "by_you": event.actor_id == user.pk,
                }
                for event in listing.events.all()
            ],
        }
        for listing in listings
    ]


def export_photo_name(*, listing: Listing) -> str:
    """Where a listing's photo goes in the zip file."""
    return f"photos/listing-{listing.pk}.jpg"


def export_photos(*, user: User) -> list[Listing]:
    """The person's listings that have a photo (``export_photo_name`` names each in the zip)."""
    return list(Listing.objects.filter(owner__user=user).exclude(photo="").order_by("pk"))


def _exchanges_of(user: User):
    return (
        Exchange.objects.filter(Q(provider__user=user) | Q(receiver__user=user))
        .select_related("community", "provider__user", "receiver__user", "listing")
        .order_by("created_at", "pk")
    )


def export_exchanges(*, user: User) -> list[dict]:
    """The exchanges the person helped or was helped in, with every step."""
    rows = []
    for exchange in _exchanges_of(user).prefetch_related("events"):
        helped = exchange.provider.user_id == user.pk
        other = exchange.receiver if helped else exchange.provider
        rows.append(
            {
                "id": exchange.pk,
                "community": exchange.community.name,
                "you": str(_("helped") if helped else _("were helped")),
                "other_member": other.user.display_name,
                "listing": exchange.listing.title if exchange.listing else None,
                "what_was_agreed": exchange.description,
                "amount": _money(exchange.community, exchange.amount),
                "status": str(exchange.get_status_display()),
                "created_at": exchange.created_at,
                "changed_at": exchange.updated_at,
                "steps": [
                    {
                        "when": event.created_at,
                        "from": str(event.get_from_status_display()) if event.from_status else "",
                        "to": str(event.get_to_status_display()),
                        "as": _label(ExchangeParty, event.role),
                        "note": event.note,
                        "by_you": event.actor_id == user.pk,
                    }
                    for event in exchange.events.all()
                ],
            }
        )
    return rows


def export_messages(*, user: User) -> dict:
    """The messages and thank-you notes of the person's exchanges: written or received."""
    exchanges = _exchanges_of(user)
    messages = (
        ExchangeMessage.objects.filter(exchange__in=exchanges)
        .select_related("author", "exchange__community")
        .order_by("created_at", "pk")
    )
    thanks = (
        ThankYou.objects.filter(exchange__in=exchanges)
        .select_related("exchange__provider__user", "exchange__receiver__user")
        .order_by("created_at", "pk")
    )
    return {
        "messages": [
            {
                "exchange": message.exchange_id,
                "community": message.exchange.community.name,
                "written_by": str(_("you"))
                if message.author_id == user.pk
                else message.author.display_name,
                "sent_at": message.created_at,
                "message": message.body,
            }
            for message in messages
        ],
        "thank_you_notes": [
            {
                "exchange": note.exchange_id,
                "written_by": str(_("you"))
                if note.exchange.receiver.user_id == user.pk
                else note.exchange.receiver.user.display_name,
                "for": str(_("you"))
                if note.exchange.provider.user_id == user.pk
                else note.exchange.provider.user.display_name,
                "written_at": note.created_at,
                "note": note.body,
            }
            for note in thanks
        ],
    }


def export_notifications(*, user: User) -> list[dict]:
    """The person's inbox on the site."""
    return [
        {
            "when": notification.created_at,
            "community": notification.community.name if notification.community else None,
            "subject": notification.subject,
            "message": notification.body,
            "link": notification.link,
            "read_at": notification.read_at,
            "mailed_at": notification.mailed_at,
        }
        for notification in notifications_of(user=user).order_by("created_at", "pk")
    ]


def export_payment_requests(*, user: User) -> list[dict]:
    """Requests to pay that the person sent or received, with every step."""
    requests = (
        PaymentRequest.objects.filter(
            Q(payer__membership__user=user) | Q(payee__membership__user=user)
        )
        .select_related("community", "payer__membership__user", "payee__membership__user")
        .prefetch_related("events")
        .order_by("created_at", "pk")
    )
    rows = []
    for request in requests:
        you_pay = request.payer.membership is not None and request.payer.membership.user_id == (
            user.pk
        )
        other = request.payee if you_pay else request.payer
        rows.append(
            {
                "id": request.pk,
                "community": request.community.name,
                "you": str(_("were asked to pay") if you_pay else _("asked to be paid")),
                "other": account_holder_name(other),
                "amount": _money(request.community, request.amount),
                "description": request.memo,
                "status": str(request.get_status_display()),
                "asked_at": request.created_at,
                "steps": [
                    {
                        "when": event.created_at,
                        "from": _label(RequestStatus, event.from_status),
                        "to": _label(RequestStatus, event.to_status),
                        "note": event.note,
                        "by_you": event.actor_id == user.pk,
                    }
                    for event in request.events.all()
                ],
            }
        )
    return rows


def export_accounts(*, user: User) -> list[Account]:
    """The person's ledger accounts, one per circle they had one in."""
    return list(
        Account.objects.filter(kind=AccountKind.MEMBER, membership__user=user)
        .select_related("community", "membership")
        .order_by("community__slug")
    )


def export_statement_header() -> list[str]:
    return [
        str(_("Date")),
        str(_("With")),
        str(_("Description")),
        str(_("Kind")),
        str(_("Amount in minor units")),
        str(_("Amount")),
        str(_("Balance after in minor units")),
        str(_("Balance after")),
    ]


def export_statement_rows(*, account: Account) -> Iterator[list]:
    """Every entry of the account, oldest first: its date, the other side as the
    statement names it, the description, and the amount and balance after, both
    as integers in the community's minor unit and written out."""
    community = account.community
    lines = []
    before = None
    while True:
        page = account_statement(account=account, before=before, page_size=STATEMENT_EXPORT_PAGE)
        lines.extend(page.lines)
        if page.older_than is None:
            break
        before = page.older_than
    for line in reversed(lines):
        transfer = line.transfer
        date = transfer.occurred_on or timezone.localtime(transfer.created_at).date()
        yield [
            date.isoformat(),
            ", ".join(str(name) for name in line.counterparties),
            transfer.memo,
            str(transfer.get_kind_display()),
            line.entry.amount,
            amount_format(community=community, amount=line.entry.amount),
            line.entry.balance_after,
            amount_format(community=community, amount=line.entry.balance_after),
        ]
