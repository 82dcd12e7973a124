"""Reading listings. Every function takes the community, or a member, explicitly."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import Community, Membership, User
from accounts.selectors import user_is_coordinator
from listings.models import Category, Listing, ListingStatus
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
