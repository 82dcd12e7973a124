"""The privacy statement (privacyverklaring) at /privacy/.

The AVG (GDPR) asks whoever decides what happens with personal data, the
controller, to tell people what is kept, why, for how long, who sees it and
what they can do about it. For Ruilkring that is the organisation that hosts
the site, usually a municipality or the circles' foundation; it names itself
and a contact in the privacy block of ``ruilkring.settings.base``, like the
accessibility statement (``accounts.accessibility``). The periods on the page
are the retention settings themselves, so the page always says what the daily
job does.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext

from ruilkring.contacts import ContactLink, contact_link


@dataclass(frozen=True)
class PrivacyStatement:
    organisation: str
    contact: ContactLink | None
    export_days: int
    notifications_days: int
    application_days: int
    left_member_days: int


def privacy_statement_get() -> PrivacyStatement:
    """What the privacy page shows, in the active language.

    Raises ImproperlyConfigured, naming the variable, when the contact is not an
    e-mail address or an http(s) address."""
    return PrivacyStatement(
        organisation=settings.RUILKRING_PRIVACY_ORGANISATION
        or gettext("the organisation that hosts this site"),
        contact=contact_link(settings.RUILKRING_PRIVACY_CONTACT, variable="DJANGO_PRIVACY_CONTACT"),
        export_days=settings.RUILKRING_RETENTION_EXPORT_DAYS,
        notifications_days=settings.RUILKRING_RETENTION_NOTIFICATIONS_DAYS,
        application_days=settings.RUILKRING_RETENTION_APPLICATION_DAYS,
        left_member_days=settings.RUILKRING_RETENTION_LEFT_MEMBER_DAYS,
    )
