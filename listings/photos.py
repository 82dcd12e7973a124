"""A listing's photo: what an upload must be, and what is kept of it.

Every upload is decoded and drawn again as a fresh JPEG, so what is stored is
always a plain picture of a bounded size: no EXIF (phone photos carry the GPS
position of someone's home), no comments, no second image hidden in the file,
and never the bytes a person sent. Members see it through a view that checks
they may see the listing (``listings.views.listing_photo``), never a media URL.
"""

from __future__ import annotations

import io
from functools import partial
from pathlib import PurePosixPath
from uuid import uuid4

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps

from listings.models import Listing
from ruilkring.errors import InvalidInput

# The formats Pillow may decode; its other decoders never see an upload. A
# phone's JPEG with a second picture in it opens as MPO.
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
PHOTO_OPENED_AS = {*PHOTO_FORMATS, "MPO"}
# What the file picker offers.
PHOTO_ACCEPT = "image/jpeg,image/png,image/webp,image/gif"
# Refused before decoding: a small file can claim a huge picture and fill the
# memory when drawn (a decompression bomb). 40 megapixels is well above any
# phone camera.
PHOTO_MAX_PIXELS = 40_000_000
# The longest side that is kept, in pixels: sharp on a large screen, and small.
PHOTO_MAX_SIDE = 1600
PHOTO_JPEG_QUALITY = 85


def _not_an_image() -> InvalidInput:
    return InvalidInput(_("The photo must be a JPEG, PNG, WebP or GIF image."), field="photo")


def _too_many_pixels() -> InvalidInput:
    return InvalidInput(
        _("The photo has too many pixels: at most %(megapixels)s megapixels.")
        % {"megapixels": PHOTO_MAX_PIXELS // 1_000_000},
        field="photo",
    )


def _opaque(image: Image.Image) -> Image.Image:
    """RGB; transparent parts become white rather than black."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def _in_srgb(picture: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The colours in sRGB. Phones shoot in wider colour spaces (Display P3);
    without their profile, which is not kept, those photos would look dull."""
    if not icc_profile:
        return picture
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(
            picture, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return picture  # a broken profile: keep the colours as they are
    return converted or picture


def photo_prepare(*, upload: File) -> ContentFile:
    """The upload as a JPEG to store: turned upright, at most ``PHOTO_MAX_SIDE``
    pixels on its longest side, without EXIF or other metadata, under a random
    name. The first frame of an animated GIF.

    Raises InvalidInput (field ``photo``) for a file over
    ``RUILKRING_PHOTO_MAX_BYTES``, and for anything that is not a whole JPEG,
    PNG, WebP or GIF image of at most ``PHOTO_MAX_PIXELS``. Nothing is stored.
    """
    max_bytes = settings.RUILKRING_PHOTO_MAX_BYTES
    too_large = InvalidInput(
        _("The photo is too large: at most %(limit)s.") % {"limit": filesizeformat(max_bytes)},
        field="photo",
    )
    if upload.size is not None and upload.size > max_bytes:
        raise too_large
    upload.seek(0)
    data = upload.read(max_bytes + 1)  # the size a client states is not trusted
    if len(data) > max_bytes:
        raise too_large
    try:
        with Image.open(io.BytesIO(data), formats=PHOTO_FORMATS) as image:
            if image.format not in PHOTO_OPENED_AS:
                raise _not_an_image()
            if image.width * image.height > PHOTO_MAX_PIXELS:
                raise _too_many_pixels()
            image.seek(0)
            icc_profile = image.info.get("icc_profile")
            picture = _in_srgb(_opaque(ImageOps.exif_transpose(image)), icc_profile)
    except InvalidInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    except Exception as exc:
        # A damaged or hostile file can make a decoder fail in many ways
        # (OSError for a truncated file, but also ValueError, struct.error,
        # EOFError ...); each means the same to the member: not a usable image.
        raise _not_an_image() from exc
    picture.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
    # Pillow would write some of what it read (a JPEG or GIF comment) into the
    # new file; only the pixels go on.
    picture.info = {}
    encoded = io.BytesIO()
    picture.save(encoded, format="JPEG", quality=PHOTO_JPEG_QUALITY, optimize=True)
    return ContentFile(encoded.getvalue(), name=f"{uuid4().hex}.jpg")


def photo_delete_after_commit(*, name: str) -> None:
    """Delete a replaced or removed photo from storage once the transaction
    commits; if it rolls back, the listing still shows the old one."""
    storage = Listing._meta.get_field("photo").storage
    transaction.on_commit(partial(storage.delete, name))


def photo_url(*, listing: Listing) -> str | None:
    """Where members see the listing's photo (``listings:photo``), or None.

    The query names the stored file, so a new photo gets a new address and a
    browser never shows a replaced one from its cache.
    """
    if not listing.photo:
        return None
    path = reverse("listings:photo", args=[listing.community.slug, listing.pk])
    return f"{path}?v={PurePosixPath(listing.photo.name).stem}"


def photo_size(*, listing: Listing) -> tuple[int, int] | None:
    """The stored photo's width and height in pixels; None without a photo,
    or when its file cannot be read."""
    if not listing.photo:
        return None
    try:
        return listing.photo.width, listing.photo.height
    except OSError:
        return None
