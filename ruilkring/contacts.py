"""A contact from a setting (an e-mail address or a web page), as a safe link.

The accessibility statement and the privacy statement both name a contact that
the site's operator configures. Anything but an e-mail address or an http(s)
address (a javascript: address, a typo) is refused, because it ends up in a
link's href; the error names the environment variable to fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import EmailValidator, URLValidator


@dataclass(frozen=True)
class ContactLink:
    href: str
    label: str


def contact_link(value: str, *, variable: str) -> ContactLink | None:
    """A mailto: link for an e-mail address, the address itself for a web page,
    None when ``value`` is empty. Raises ImproperlyConfigured naming ``variable``."""
    if not value:
        return None
    if _passes(EmailValidator(), value):
        return ContactLink(href=f"mailto:{value}", label=value)
    if _passes(URLValidator(schemes=["https", "http"]), value):
        return ContactLink(href=value, label=value)
    raise ImproperlyConfigured(
        f"{variable} must be an e-mail address or an http(s) address, not {value!r}."
    )


def _passes(validator: EmailValidator | URLValidator, value: str) -> bool:
    try:
        validator(value)
    except ValidationError:
        return False
    return True
