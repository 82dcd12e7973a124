"""A photo with a listing: Anna shows the hedge she offers to trim.

What she uploads is checked and drawn again as a plain JPEG: upright, at most
1600 pixels, and without the location her phone wrote into it. Only people who
may open the listing see the photo.
"""

import io
import os
import re
import struct
import zlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from PIL import ExifTags, Image, ImageCms

from listings import services
from listings.models import Listing, ListingStatus
from listings.photos import photo_prepare
from ruilkring.errors import InvalidInput
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db

NOT_AN_IMAGE = "The photo must be a JPEG, PNG, WebP or GIF image."
TOO_MANY_PIXELS = "The photo has too many pixels: at most 40 megapixels."
RED, BLUE = (220, 20, 20), (20, 20, 220)


def upload(data: bytes, name: str = "tuin.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def picture(fmt: str = "JPEG", size=(400, 300), mode: str = "RGB", color=BLUE, **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def phone_photo() -> bytes:
    """3000 by 2000 pixels as the sensor stored them, red in the stored top-left
    corner; the EXIF says 'turn a quarter to the right' and where it was taken."""
    image = Image.new("RGB", (3000, 2000), BLUE)
    image.paste(RED, (0, 0, 600, 600))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Telefoon"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 5.0, 30.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (5.0, 7.0, 12.0),
    }
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, comment=b"Tuinstraat 12")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes whose header claims a picture of width by height."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def stored(listing: Listing) -> Image.Image:
    with default_storage.open(listing.photo.name, "rb") as photo:
        return Image.open(io.BytesIO(photo.read()))


def refusal(data: bytes, name: str = "tuin.jpg") -> str:
    with pytest.raises(InvalidInput) as refused:
        photo_prepare(upload=upload(data, name))
    assert refused.value.field == "photo"
    return str(refused.value)


def near(pixel, color) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(pixel, color, strict=True))


# -- What is kept of an upload ----------------------------------------------------


def test_a_phone_photo_is_turned_upright_made_smaller_and_loses_its_location(place):
    original = phone_photo()
    assert b"Exif" in original and b"Tuinstraat 12" in original

    listing = place(photo=upload(original, "IMG_2041.jpg"))

    assert re.fullmatch(r"listings/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", listing.photo.name)
    image = stored(listing)
    assert image.format == "JPEG"
    assert image.size == (1067, 1600)  # upright: taller than wide, 1600 at most
    # The stored top-left corner is red; a quarter turn right puts it top-right.
    assert near(image.getpixel((1000, 50)), RED)
    assert near(image.getpixel((50, 50)), BLUE)
    assert not image.getexif()
    assert "exif" not in image.info and "comment" not in image.info
    with default_storage.open(listing.photo.name, "rb") as photo:
        data = photo.read()
    assert b"Exif" not in data and b"Tuinstraat" not in data and b"Telefoon" not in data


def test_a_png_with_transparency_is_accepted_and_its_clear_parts_become_white():
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste((20, 20, 220, 255), (100, 0, 200, 100))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")

    prepared = Image.open(photo_prepare(upload=upload(buffer.getvalue(), "logo.png")))

    assert (prepared.format, prepared.mode, prepared.size) == ("JPEG", "RGB", (200, 100))
    assert near(prepared.getpixel((20, 50)), (255, 255, 255))
    assert near(prepared.getpixel((180, 50)), BLUE)


@pytest.mark.parametrize("profile", ["srgb", "broken"])
def test_a_photo_with_a_colour_profile_keeps_its_colours(profile):
    """A profile is applied and then dropped; a broken one does not refuse the photo."""
    if profile == "srgb":
        icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    else:
        icc = b"not a colour profile"
    prepared = Image.open(photo_prepare(upload=upload(picture(icc_profile=icc))))
    assert "icc_profile" not in prepared.info
    assert near(prepared.getpixel((10, 10)), BLUE)


def test_webp_and_the_first_frame_of_an_animated_gif_are_accepted():
    webp = Image.open(photo_prepare(upload=upload(picture("WEBP"), "foto.webp")))
    assert (webp.format, webp.size) == ("JPEG", (400, 300))
    frames = [Image.new("RGB", (120, 80), color) for color in (RED, BLUE)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    gif = Image.open(photo_prepare(upload=upload(buffer.getvalue(), "zwaai.gif")))
    assert gif.format == "JPEG" and near(gif.getpixel((60, 40)), RED)


def test_a_text_file_named_jpg_is_refused_and_the_listing_stays_as_it_was(anna, place):
    listing = place(photo=upload(picture()))
    before = listing.photo.name

    with pytest.raises(InvalidInput) as refused:
        services.listing_update(
            actor=anna.user,
            listing=listing,
            title="Iets anders",
            description=listing.description,
            category=listing.category,
            help_type=listing.help_type,
            photo=upload(b"Dit is geen foto, maar een boodschappenlijstje.\n", "lijst.jpg"),
        )

    assert (str(refused.value), refused.value.field) == (NOT_AN_IMAGE, "photo")
    listing.refresh_from_db()
    assert (listing.title, listing.photo.name) == ("Hulp in de tuin", before)
    assert default_storage.exists(before)


def test_placing_a_listing_with_a_file_that_is_no_image_places_nothing(place):
    with pytest.raises(InvalidInput, match="JPEG, PNG, WebP or GIF"):
        place(photo=upload(b"%PDF-1.7\n", "brief.jpg"))
    assert not Listing.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(picture()[:400], id="a truncated jpeg"),
        pytest.param(picture("BMP"), id="a bmp, which the site does not take"),
        pytest.param(b"", id="nothing at all"),
    ],
)
def test_a_damaged_or_other_kind_of_image_is_refused(data):
    assert refusal(data) == NOT_AN_IMAGE


def test_a_photo_over_the_size_limit_is_refused_with_the_limit(settings):
    too_big = b"\xff\xd8" + b"\x00" * (5 * 1024 * 1024)
    assert refusal(too_big) == "The photo is too large: at most 5.0\xa0MB."

    settings.RUILKRING_PHOTO_MAX_BYTES = 2000
    noise = Image.frombytes("RGB", (100, 100), os.urandom(100 * 100 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert refusal(buffer.getvalue()) == "The photo is too large: at most 2.0\xa0KB."
    assert photo_prepare(upload=upload(picture(size=(40, 30))))


def test_an_upload_that_states_a_smaller_size_than_it_has_is_still_refused(settings):
    settings.RUILKRING_PHOTO_MAX_BYTES = 2000
    lying = ContentFile(b"\xff\xd8" + b"\x00" * 5000, name="tuin.jpg")
    lying.size = 10
    with pytest.raises(InvalidInput, match="too large"):
        photo_prepare(upload=lying)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(50_000, 50_000, id="far beyond what Pillow itself allows"),
        pytest.param(8_000, 6_000, id="48 megapixels: over the site's ceiling"),
    ],
)
def test_a_small_file_claiming_a_huge_picture_is_refused_before_it_is_drawn(width, height):
    bomb = png_claiming(width, height)
    assert len(bomb) < 200
    assert refusal(bomb, "bom.png") == TOO_MANY_PIXELS


# -- Replacing and removing ----------------------------------------------------


def _update(listing, actor, **photo):
    return services.listing_update(
        actor=actor,
        listing=listing,
        title=listing.title,
        description=listing.description,
        category=listing.category,
        help_type=listing.help_type,
        **photo,
    )


def test_a_new_photo_replaces_the_old_one_which_is_deleted_once_saved(
    anna, place, django_capture_on_commit_callbacks
):
    listing = place(photo=upload(picture(color=BLUE)))
    old = listing.photo.name

    with django_capture_on_commit_callbacks() as callbacks:
        changed = _update(listing, anna.user, photo=upload(picture(color=RED)))
        assert default_storage.exists(old)  # until the change is committed

    assert changed.photo.name != old
    for callback in callbacks:
        callback()
    assert not default_storage.exists(old)
    listing.refresh_from_db()
    assert listing.photo.name == changed.photo.name
    assert near(stored(listing).getpixel((10, 10)), RED)


def test_removing_the_photo_leaves_the_listing_without_one(
    anna, place, django_capture_on_commit_callbacks
):
    listing = place(photo=upload(picture()))
    old = listing.photo.name

    with django_capture_on_commit_callbacks(execute=True):
        _update(listing, anna.user, photo_remove=True)

    listing.refresh_from_db()
    assert not listing.photo
    assert not default_storage.exists(old)


def test_changing_only_the_text_keeps_the_photo(anna, place, django_capture_on_commit_callbacks):
    listing = place(photo=upload(picture()))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _update(listing, anna.user)
    listing.refresh_from_db()
    assert listing.photo and default_storage.exists(listing.photo.name)
    assert callbacks == []


# -- Who sees it -------------------------------------------------------------------


def photo_path(circle, listing) -> str:
    return reverse("listings:photo", args=[circle.slug, listing.pk])


def test_the_owner_and_members_of_the_circle_see_the_photo(client, anna, bram, circle, place):
    listing = place(photo=upload(phone_photo()))
    with default_storage.open(listing.photo.name, "rb") as photo:
        expected = photo.read()

    for person in (anna, bram):
        client.force_login(person.user)
        response = client.get(photo_path(circle, listing))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"] == "private, max-age=3600"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == expected


def test_nobody_outside_the_circle_sees_the_photo(client, circle, place):
    listing = place(photo=upload(picture()))
    path = photo_path(circle, listing)
    detail = reverse("listings:detail", args=[circle.slug, listing.pk])

    anonymous = client.get(path)
    assert anonymous.status_code == client.get(detail).status_code == 302
    assert anonymous["Location"].startswith(reverse("account_login"))

    client.force_login(MembershipFactory(community=CommunityFactory()).user)
    assert client.get(path).status_code == 404


def test_a_paused_listings_photo_is_only_for_its_owner_as_is_the_listing(
    client, anna, bram, circle, place
):
    listing = place(photo=upload(picture()))
    services.listing_status_change(actor=anna.user, listing=listing, to_status=ListingStatus.PAUSED)
    client.force_login(bram.user)
    assert client.get(photo_path(circle, listing)).status_code == 404
    client.force_login(anna.user)
    assert client.get(photo_path(circle, listing)).status_code == 200


def test_a_listing_without_a_photo_has_no_photo_address(client, anna, circle, place):
    listing = place()
    client.force_login(anna.user)
    assert client.get(photo_path(circle, listing)).status_code == 404


# -- The pages ------------------------------------------------------------------


def test_anna_adds_a_photo_on_the_page_and_the_circle_sees_it(client, anna, bram, circle, garden):
    client.force_login(anna.user)
    form = client.get(reverse("listings:new", args=[circle.slug])).content.decode()
    assert 'enctype="multipart/form-data"' in form
    assert (
        '<input type="file" name="photo" accept="image/jpeg,image/png,image/webp,image/gif" '
        'class="rk-file-input" aria-describedby="id_photo_helptext" id="id_photo">'
    ) in form
    assert '<label class="utrecht-form-label" for="id_photo">Photo' in form
    assert "A JPEG, PNG, WebP or GIF image of at most 5.0\xa0MB." in form
    assert "photo_remove" not in form

    response = client.post(
        reverse("listings:new", args=[circle.slug]),
        {
            "kind": "offer",
            "title": "Heg knippen",
            "description": "Met een elektrische heggenschaar.",
            "category": garden.pk,
            "help_type": "practical",
            "photo": upload(phone_photo(), "heg.jpg"),
        },
    )

    assert response.status_code == 302
    listing = Listing.objects.get()
    assert stored(listing).size == (1067, 1600)
    address = f"{photo_path(circle, listing)}?v={listing.photo.name.rsplit('/', 1)[1][:-4]}"
    client.force_login(bram.user)
    detail = client.get(reverse("listings:detail", args=[circle.slug, listing.pk]))
    assert (
        f'<img class="rk-photo__image" src="{address}" width="1067" height="1600" '
        'alt="Photo with this listing: Heg knippen">'
    ) in detail.content.decode()
    listed = client.get(reverse("listings:list", args=[circle.slug])).content.decode()
    assert f'<img class="rk-photo-thumbnail" src="{address}" alt="" loading="lazy">' in listed
    assert "/media/" not in detail.content.decode() + listed


def test_a_file_that_is_no_image_is_shown_on_the_form_and_nothing_is_placed(
    client, anna, circle, garden
):
    client.force_login(anna.user)
    response = client.post(
        reverse("listings:new", args=[circle.slug]),
        {
            "kind": "offer",
            "title": "Heg knippen",
            "description": "Met een elektrische heggenschaar.",
            "category": garden.pk,
            "help_type": "practical",
            "photo": upload(b"geen foto", "heg.jpg"),
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["photo"] == [NOT_AN_IMAGE]
    assert not Listing.objects.exists()


def test_anna_removes_the_photo_on_the_edit_page(
    client, anna, circle, place, django_capture_on_commit_callbacks
):
    listing = place(photo=upload(picture()))
    old = listing.photo.name
    edit = reverse("listings:edit", args=[circle.slug, listing.pk])
    client.force_login(anna.user)
    page = client.get(edit).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'type="checkbox" name="photo_remove"' in page
    assert (
        '<label class="utrecht-form-label utrecht-form-label--checkbox" for="id_photo_remove">'
        "Remove the photo</label>"
    ) in page
    assert "A new photo takes the place of the current one." in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            edit,
            {
                "title": listing.title,
                "description": listing.description,
                "category": listing.category.pk,
                "help_type": listing.help_type,
                "photo_remove": "on",
            },
        )

    assert response.status_code == 302
    listing.refresh_from_db()
    assert not listing.photo and not default_storage.exists(old)
    assert "photo_remove" not in client.get(edit).content.decode()


# -- The API -------------------------------------------------------------------


def test_the_api_takes_a_photo_as_a_multipart_form_and_gives_its_address(
    client, anna, bram, circle, garden, django_capture_on_commit_callbacks
):
    client.force_login(anna.user)
    created = client.post(
        reverse("listings_api:listings", args=[circle.slug]),
        {
            "kind": "offer",
            "title": "Heg knippen",
            "description": "Met een elektrische heggenschaar.",
            "category": garden.pk,
            "help_type": "practical",
            "indicative_amount": "60",
            "photo": upload(phone_photo(), "heg.jpg"),
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    listing = Listing.objects.get()
    assert body["indicative_amount"] == 60
    assert body["photo_url"].startswith(photo_path(circle, listing) + "?v=")

    client.force_login(bram.user)
    found = client.get(reverse("listings_api:listings", args=[circle.slug])).json()
    assert found["results"][0]["photo_url"] == body["photo_url"]
    photo = client.get(body["photo_url"])
    assert (photo.status_code, photo["Content-Type"]) == (200, "image/jpeg")

    client.force_login(anna.user)
    detail = reverse("listings_api:listing", args=[circle.slug, listing.pk])
    fields = {
        "title": "Heg knippen",
        "description": "Met een elektrische heggenschaar.",
        "category": garden.pk,
        "help_type": "practical",
    }
    with django_capture_on_commit_callbacks(execute=True):
        removed = client.put(
            detail, {**fields, "photo_remove": True}, content_type="application/json"
        )
    assert removed.status_code == 200 and removed.json()["photo_url"] is None
    assert not default_storage.exists(listing.photo.name)


def test_a_bad_photo_through_the_api_is_a_400_with_the_usual_error_body(
    client, anna, circle, garden, place
):
    listing = place(photo=upload(picture()))
    before = listing.photo.name
    client.force_login(anna.user)
    response = client.put(
        reverse("listings_api:listing", args=[circle.slug, listing.pk]),
        encode_multipart(
            BOUNDARY,
            {
                "title": "Heg knippen",
                "description": "Met een elektrische heggenschaar.",
                "category": garden.pk,
                "help_type": "practical",
                "photo": upload(png_claiming(50_000, 50_000), "bom.png"),
            },
        ),
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "code": "invalid",
        "detail": TOO_MANY_PIXELS,
        "field": "photo",
    }
    listing.refresh_from_db()
    assert (listing.title, listing.photo.name) == ("Hulp in de tuin", before)
