from django import template

from accounts.units import amount_format

register = template.Library()


@register.simple_tag
def amount_text(community, amount: int, signed: bool = False) -> str:
    """An amount in the community's unit, in the reader's language ("+1,5 uur")."""
    text = amount_format(community=community, amount=amount)
    return f"+{text}" if signed and amount > 0 else text
