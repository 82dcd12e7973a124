"""Forms for the privacy pages. They read what a person chose; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from privacy.models import SettleInto


class ErasureConfirmForm(forms.Form):
    """Erasing cannot be undone, so the person says so first."""

    confirm = forms.BooleanField(
        label=_("I understand that this erases my data and closes my account for good."),
        error_messages={"required": _("Tick the box to confirm that you want this.")},
    )


class PrivacySettingsForm(forms.Form):
    settle_into = forms.ChoiceField(
        label=_("When a member leaves and has their data erased, their balance goes to"),
        choices=SettleInto.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "A member who has given more than they received passes the rest on; a member "
            "who received more is settled from here, which needs enough in the account."
        ),
    )
