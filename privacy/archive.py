"""The zip file of a data export: which files it holds, and writing them.

Every part reads through ``privacy.selectors``, in the person's own language.
JSON files hold the structured data; each circle's statement is a CSV file a
spreadsheet opens (UTF-8 with a byte order mark, so Excel reads the accents);
README.txt explains the files. ``archive_write`` reports its progress after
each part, so the "My data" page can show how far it is.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from typing import IO

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from privacy import selectors

JSON_PARTS: list[tuple[str, Callable[..., object]]] = [
    ("profile.json", selectors.export_profile),
    ("listings.json", selectors.export_listings),
    ("exchanges.json", selectors.export_exchanges),
    ("messages.json", selectors.export_messages),
    ("notifications.json", selectors.export_notifications),
    ("payment_requests.json", selectors.export_payment_requests),
]


def statement_file_name(*, slug: str) -> str:
    return f"statements/{slug}.csv"


def readme_text(*, user: User) -> str:
    """README.txt: what each file in the zip holds, in the person's language."""
    site = settings.RUILKRING_SITE_NAME
    lines = [
        _("Your data from %(site)s") % {"site": site},
        _("Made on %(date)s for %(name)s.")
        % {"date": date_format(timezone.localtime(), "DATETIME_FORMAT"), "name": user.display_name},
        "",
        _("This zip file holds everything %(site)s keeps about you. The files:") % {"site": site},
        "",
        "profile.json: "
        + _(
            "your account, your e-mail addresses, your API tokens and your memberships of "
            "circles, with their history."
        ),
        "listings.json: " + _("your offers and requests."),
        "exchanges.json: " + _("the exchanges you helped or were helped in, with every step."),
        "messages.json: "
        + _("the messages and thank-you notes of your exchanges, written by you or to you."),
        "notifications.json: " + _("the notifications in your inbox on the site."),
        "payment_requests.json: " + _("the requests to pay that you sent or received."),
        statement_file_name(slug="…")
        + ": "
        + _(
            "your statement in each circle: every payment with its date, who it was with, "
            "the description, the amount and your balance after it."
        ),
        "photos/: " + _("the photos of your offers and requests."),
        "",
        _(
            "Amounts are in two columns: as a whole number in the circle's smallest unit "
            "(minutes when the circle counts in time, hundredths otherwise), and written out."
        ),
        _("JSON files open in any text editor; CSV files open in a spreadsheet."),
        _("Other members appear only by the name the site shows them by."),
        "",
    ]
    return "\n".join(lines)


def _statement_csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(selectors.export_statement_header())
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def archive_write(*, user: User, target: IO[bytes], progress: Callable[[int], None]) -> None:
    """Write the whole export of ``user`` as a zip file into ``target``, calling
    ``progress`` with the share done (0 to 100) after each part."""
    accounts = selectors.export_accounts(user=user)
    photos = selectors.export_photos(user=user)
    steps = len(JSON_PARTS) + len(accounts) + 2  # README and the photos
    done = 0

    def step_done() -> None:
        nonlocal done
        done += 1
        progress(min(99, 100 * done // steps))

    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme_text(user=user))
        step_done()
        for name, read in JSON_PARTS:
            data = read(user=user)
            archive.writestr(
                name, json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
            )
            step_done()
        for account in accounts:
            rows = selectors.export_statement_rows(account=account)
            archive.writestr(statement_file_name(slug=account.community.slug), _statement_csv(rows))
            step_done()
        for listing in photos:
            try:
                with listing.photo.open("rb") as photo:
                    archive.writestr(selectors.export_photo_name(listing=listing), photo.read())
            except OSError:
                continue  # a photo whose file is gone: the listing itself is in listings.json
        step_done()
