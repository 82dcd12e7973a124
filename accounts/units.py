"""A community's unit: its name in the reader's language, and amounts as text.

Amounts are integers in the community's minor unit everywhere in the code
(minutes for a time unit, hundredths otherwise). This module is the one place
that turns them into "1,5 uur" or "12 niksen", and reads what a person types
back into minor units.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accounts.models import Community

MINUS_SIGN = "\u2212"
_AMOUNT_PATTERN = re.compile(r"^[+-]?\d+([.,]\d+)?$")


def _language(language: str | None) -> str:
    code = language or translation.get_language() or "nl"
    return "en" if code.startswith("en") else "nl"


def unit_name(
    *, community: Community, amount: int | None = None, language: str | None = None
) -> str:
    """The unit's name for ``amount`` (singular only for exactly one whole unit)."""
    lang = _language(language)
    singular = getattr(community, f"unit_singular_{lang}")
    plural = getattr(community, f"unit_plural_{lang}")
    if amount is not None and abs(amount) == community.unit_scale:
        return singular
    return plural


def amount_to_decimal(*, community: Community, amount: int) -> Decimal:
    return Decimal(amount) / Decimal(community.unit_scale)


def amount_number(*, community: Community, amount: int, language: str | None = None) -> str:
    """The number alone, in the reader's locale, with at most two decimals: "1,5", "−20"."""
    value = amount_to_decimal(community=community, amount=abs(amount)).quantize(Decimal("0.01"))
    with translation.override(_language(language)):
        text = number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
    decimal_separator = "," if _language(language) == "nl" else "."
    if decimal_separator in text:
        text = text.rstrip("0").rstrip(decimal_separator)
    return f"{MINUS_SIGN}{text}" if amount < 0 else text


def amount_format(*, community: Community, amount: int, language: str | None = None) -> str:
    """An amount with its unit, for people: "1,5 uur", "−20 sterren", "1 nikse"."""
    number = amount_number(community=community, amount=amount, language=language)
    return f"{number}\u00a0{unit_name(community=community, amount=amount, language=language)}"


def amount_parse(*, community: Community, text: str) -> int:
    """Read a typed amount ("1,5", "1.5", "20") into minor units.

    Accepts a comma or a point as the decimal separator. Raises ``ValueError``
    with a translated message when the text is not a number, or has more
    precision than the unit counts (for example 1,005 uur).
    """
    cleaned = text.strip().replace(MINUS_SIGN, "-").replace("\u00a0", "").replace(" ", "")
    if not _AMOUNT_PATTERN.match(cleaned):
        raise ValueError(_("Enter a number, such as 2 or 1,5."))
    try:
        value = Decimal(cleaned.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the pattern already rules this out
        raise ValueError(_("Enter a number, such as 2 or 1,5.")) from exc
    minor = value * community.unit_scale
    if minor != minor.to_integral_value():
        if community.unit_scale == 60:
            raise ValueError(
                _("That is not a whole number of minutes. Use a number such as 1,5 or 0,25.")
            )
        raise ValueError(_("Use at most two decimals, such as 2,75."))
    return int(minor)
