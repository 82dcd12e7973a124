import pytest

from accounts.models import Community, UnitKind
from accounts.units import amount_format, amount_parse

HOURS = Community(
    unit_singular_nl="uur",
    unit_plural_nl="uur",
    unit_singular_en="hour",
    unit_plural_en="hours",
    unit_kind=UnitKind.TIME,
)
NIKSEN = Community(
    unit_singular_nl="nikse",
    unit_plural_nl="niksen",
    unit_singular_en="nikse",
    unit_plural_en="niksen",
    unit_kind=UnitKind.DECIMAL,
)


@pytest.mark.parametrize(
    ("community", "amount", "language", "text"),
    [
        (HOURS, 90, "nl", "1,5\u00a0uur"),
        (HOURS, 90, "en", "1.5\u00a0hours"),
        (HOURS, 60, "en", "1\u00a0hour"),
        (HOURS, -1200, "nl", "\u221220\u00a0uur"),
        (HOURS, 0, "en", "0\u00a0hours"),
        (NIKSEN, 1250, "nl", "12,5\u00a0niksen"),
        (NIKSEN, 100, "nl", "1\u00a0nikse"),
        (NIKSEN, 123456, "nl", "1.234,56\u00a0niksen"),
        (NIKSEN, 123456, "en", "1,234.56\u00a0niksen"),
    ],
)
def test_amounts_read_naturally_in_each_language(community, amount, language, text):
    assert amount_format(community=community, amount=amount, language=language) == text


@pytest.mark.parametrize(
    ("community", "typed", "minor"),
    [
        (HOURS, "1,5", 90),
        (HOURS, "1.5", 90),
        (HOURS, "20", 1200),
        (NIKSEN, "2,75", 275),
        (NIKSEN, "\u22123", -300),
    ],
)
def test_typed_amounts_become_minor_units(community, typed, minor):
    assert amount_parse(community=community, text=typed) == minor


@pytest.mark.parametrize(
    ("community", "typed"), [(HOURS, "abc"), (HOURS, ""), (HOURS, "0,333"), (NIKSEN, "1,005")]
)
def test_amounts_that_are_not_numbers_or_too_precise_are_refused(community, typed):
    with pytest.raises(ValueError):
        amount_parse(community=community, text=typed)
