"""Reading listings. Every function takes the community, or a member, explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from accounts.models import Area, Community, Membership, Status, User
from accounts.selectors import coordinators_of, user_is_coordinator
from listings.models import (
    Category,
    Exchange,
    ExchangeSettings,
    ExchangeStatus,
    Listing,
    ListingKind,
    ListingReport,
    ListingStatus,
    ThankYou,
)
from listings.search import SEARCH_CONFIG, search_tsquery, search_words
from listings.transitions import ExchangeParty
from ruilkring.errors import NotFound


def categories_of(*, community: Community, include_retired: bool = False) -> QuerySet[Category]:
    categories = Category.objects.filter(community=community)
    return categories if include_retired else categories.filter(is_active=True)


def listing_of_community_get(*, community: Community, listing_id, viewer: User) -> Listing:
    """One listing as ``viewer`` may see it.

    Raises NotFound for a listing of another community, and for one that is
    not active unless the viewer placed it or coordinates the community.
    """
    try:
        listing = Listing.objects.select_related(
            "owner__user", "category", "area", "community"
        ).get(community=community, pk=listing_id)
    except (Listing.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("This listing does not exist in this community.")) from exc
    if listing.status != ListingStatus.ACTIVE and not (
        listing.owner.user_id == viewer.pk or user_is_coordinator(user=viewer, community=community)
    ):
        raise NotFound(_("This listing does not exist in this community."))
    return listing


def listings_of_owner(*, owner: Membership) -> QuerySet[Listing]:
    """A member's own listings, removed ones too, newest first."""
    return (
        Listing.objects.filter(owner=owner)
        .select_related("category", "area")
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class ListingFilter:
    """What a member looks for; every part is optional."""

    text: str = ""
    kind: str = ""
    category: Category | None = None
    help_type: str = ""
    area: Area | None = None


def listing_search(*, community: Community, search: ListingFilter) -> QuerySet[Listing]:
    """A community's active listings that match ``search``, newest first.

    The text matches as ``listings.search`` describes: Dutch stemming, prefixes
    and compounds on PostgreSQL, plain words elsewhere; accents never matter.
    """
    listings = Listing.objects.filter(community=community, status=ListingStatus.ACTIVE)
    if search.kind:
        listings = listings.filter(kind=search.kind)
    if search.category is not None:
        listings = listings.filter(category=search.category)
    if search.help_type:
        listings = listings.filter(help_type=search.help_type)
    if search.area is not None:
        listings = listings.filter(area=search.area)
    words = search_words(search.text)
    if words and connection.vendor == "postgresql":
        # search_document: the stored full-text column of migration 0002.
        listings = listings.filter(
            RawSQL(
                "listings_listing.search_document @@ to_tsquery(%s::regconfig, %s)",
                [SEARCH_CONFIG, search_tsquery(words)],
                output_field=BooleanField(),
            )
        )
    elif words:
        for word in words:
            listings = listings.filter(Q(search_text__contains=word))
    # The community too: each result's photo address names it.
    return listings.select_related("owner__user", "category", "area", "community").order_by(
        "-created_at", "-pk"
    )


def exchange_of_community_get(*, community: Community, exchange_id, viewer: User) -> Exchange:
    """One exchange, for its two members and the community's coordinators only."""
    try:
        exchange = Exchange.objects.select_related(
            "listing", "provider__user", "receiver__user", "payment_request", "transfer"
        ).get(community=community, pk=exchange_id)
    except (Exchange.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("This exchange does not exist in this community.")) from exc
    if viewer.pk not in (exchange.provider.user_id, exchange.receiver.user_id) and not (
        user_is_coordinator(user=viewer, community=community)
    ):
        raise NotFound(_("This exchange does not exist in this community."))
    return exchange


def exchanges_of_member(*, member: Membership) -> QuerySet[Exchange]:
    """The exchanges a member helps or is helped in, newest first."""
    return (
        Exchange.objects.filter(Q(provider=member) | Q(receiver=member))
        .select_related("provider__user", "receiver__user")
        .order_by("-created_at", "-pk")
    )


def exchange_parties(*, actor: User | None, exchange: Exchange) -> set[str]:
    """What ``actor`` is to this exchange (``ExchangeParty``); NotFound for outsiders."""
    if actor is None:
        return {ExchangeParty.SYSTEM}
    parties = set()
    for member, party in (
        (exchange.provider, ExchangeParty.PROVIDER),
        (exchange.receiver, ExchangeParty.RECEIVER),
    ):
        if member.user_id == actor.pk:
            parties.add(party)
            if exchange.proposer_id == member.pk:
                parties.add(ExchangeParty.PROPOSER)
            else:
                parties.add(ExchangeParty.COUNTERPART)
    if exchange.proposer_id is None and ExchangeParty.RECEIVER in parties:
        parties.discard(ExchangeParty.COUNTERPART)  # a match is put to the helper
    if user_is_coordinator(user=actor, community=exchange.community):
        parties.add(ExchangeParty.COORDINATOR)
    if not parties:
        raise NotFound(_("This exchange does not exist in this community."))
    return parties


def exchange_thank_you(*, exchange: Exchange) -> ThankYou | None:
    return ThankYou.objects.filter(exchange=exchange).first()


def exchange_settings_of(*, community: Community) -> ExchangeSettings:
    """The community's approval rules; without a stored row, the defaults
    (nothing needs approval), unsaved."""
    found = ExchangeSettings.objects.filter(community=community).first()
    return found if found is not None else ExchangeSettings(community=community)


def exchange_approval_needed(*, exchange: Exchange, amount: int) -> bool:
    """Whether a coordinator approves this payment before the receiver is asked:
    the amount is above the community's ``approval_above``, or the helper or the
    one helped has fewer than ``approval_first`` exchanges that are paid.

    Never when no coordinator but the two members themselves could approve it
    (a circle's only coordinator who helps): the payment would wait for nobody.
    """
    rules = exchange_settings_of(community=exchange.community)
    needed = rules.approval_above is not None and amount > rules.approval_above
    if rules.approval_first and not needed:
        for member_id in (exchange.provider_id, exchange.receiver_id):
            paid = (
                Exchange.objects.filter(Q(provider_id=member_id) | Q(receiver_id=member_id))
                .filter(status=ExchangeStatus.PAID)
                .exclude(pk=exchange.pk)
                .count()
            )
            if paid < rules.approval_first:
                needed = True
                break
    if not needed:
        return False
    parties = Membership.objects.filter(pk__in=(exchange.provider_id, exchange.receiver_id)).values(
        "user"
    )
    return coordinators_of(community=exchange.community).exclude(pk__in=parties).exists()


@dataclass(frozen=True)
class ModerationQueue:
    reports: list
    disputes: list
    reviews: list


def moderation_queue(*, community: Community) -> ModerationQueue:
    """What waits for a coordinator: open reports of listings, disputes, and
    payments that wait for approval."""
    reports = (
        ListingReport.objects.filter(listing__community=community, handled_at__isnull=True)
        .select_related("listing", "reporter__user")
        .order_by("created_at", "pk")
    )
    disputes = (
        Exchange.objects.filter(community=community, status=ExchangeStatus.DISPUTED)
        .select_related("provider__user", "receiver__user")
        .order_by("updated_at", "pk")
    )
    reviews = (
        Exchange.objects.filter(community=community, status=ExchangeStatus.REVIEW)
        .select_related("provider__user", "receiver__user")
        .order_by("updated_at", "pk")
    )
    return ModerationQueue(reports=list(reports), disputes=list(disputes), reviews=list(reviews))


def report_of_community_get(*, community: Community, report_id) -> ListingReport:
    try:
        return ListingReport.objects.select_related("listing__community").get(
            listing__community=community, pk=report_id
        )
    except (ListingReport.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("This report does not exist in this community.")) from exc


@dataclass(frozen=True)
class MatchSuggestion:
    member: Membership
    offers: list
    same_area: bool


def _matching_excluded(*, community: Community) -> set[int]:
    """Memberships that matching leaves out, from the sources configured in
    ``RUILKRING_MATCHING_EXCLUDE`` (dotted paths to ``f(community=) -> ids``).
    The reciprocity analysis adds the members under an overload flag there;
    listings itself knows nothing about flags."""
    excluded: set[int] = set()
    for path in settings.RUILKRING_MATCHING_EXCLUDE:
        excluded |= set(import_string(path)(community=community))
    return excluded


def match_suggestions(*, listing: Listing, limit: int = 10) -> list[MatchSuggestion]:
    """Members whose active offers fit a request: the same category, the same
    area first. Leaves out the one asking, members who cannot trade now, the
    excluded (``_matching_excluded``) and, where either side asked for it, the
    neighbours (members of the same area)."""
    asker = listing.owner
    offers = (
        Listing.objects.filter(
            community=listing.community,
            kind=ListingKind.OFFER,
            status=ListingStatus.ACTIVE,
            category=listing.category,
            owner__status__in=(Status.ACTIVE, Status.LEAVING),
        )
        .exclude(owner=asker)
        .exclude(owner_id__in=_matching_excluded(community=listing.community))
        .select_related("owner__user")
        .order_by("-created_at")
    )
    by_member: dict[int, MatchSuggestion] = {}
    for offer in offers:
        same_area = asker.area_id is not None and offer.owner.area_id == asker.area_id
        if same_area and (listing.not_for_neighbours or offer.not_for_neighbours):
            continue
        found = by_member.get(offer.owner_id)
        if found is None:
            by_member[offer.owner_id] = MatchSuggestion(offer.owner, [offer], same_area)
        else:
            found.offers.append(offer)
    ranked = sorted(by_member.values(), key=lambda s: (not s.same_area, -len(s.offers)))
    return ranked[:limit]
