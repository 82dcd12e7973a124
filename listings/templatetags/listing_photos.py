from django import template

from listings.models import Listing
from listings.photos import photo_url

register = template.Library()


@register.simple_tag
def listing_photo_url(listing: Listing) -> str:
    """The address of the listing's photo for members; empty without one."""
    return photo_url(listing=listing) or ""
