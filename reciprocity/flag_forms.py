"""Forms for the signal pages. They parse what a coordinator types; the
services (``flag_step``, ``reciprocity_settings_set``) decide."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Community, User
from accounts.selectors import coordinators_acting
from reciprocity.flags import THRESHOLD_SPECS, thresholds_of, window_days_of
from reciprocity.models import FlagKind, FlagStatus

# The list's status filter: besides each status, everything not yet resolved
# (the default) and all of them.
UNRESOLVED, ALL = "", "all"


class FlagFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[(UNRESOLVED, _("Not yet resolved")), *FlagStatus.choices, (ALL, _("All"))],
    )
    kind = forms.ChoiceField(
        label=_("Reason"), required=False, choices=[("", _("Every reason")), *FlagKind.choices]
    )


class CoordinatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user: User) -> str:
        return user.display_name


class FlagStepForm(forms.Form):
    """One step on a signal; which of the fields count depends on the step."""

    status = forms.ChoiceField(choices=FlagStatus.choices)
    note = forms.CharField(required=False, max_length=2000)
    assignee = CoordinatorChoiceField(queryset=User.objects.none(), required=False)
    snoozed_until = forms.DateField(required=False)
    outcome = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = coordinators_acting(community=community)


def _shown(key: str, value: float) -> Decimal | int:
    """A stored threshold as the settings page shows it: shares as percentages."""
    spec = THRESHOLD_SPECS[key]
    if spec.kind in ("days", "count", "percentile"):
        return int(value) if float(value).is_integer() else Decimal(str(value))
    if spec.kind == "percent":
        return (Decimal(str(value)) * 100).normalize()
    return Decimal(str(value))


def _stored(key: str, value: Decimal | int) -> float | int:
    spec = THRESHOLD_SPECS[key]
    if spec.kind in ("days", "count"):
        return int(value)
    if spec.kind == "percent":
        return float(Decimal(value) / 100)
    return float(value)


class ReciprocitySettingsForm(forms.Form):
    """The window and one field per threshold, each with what its rule means."""

    window_days = forms.IntegerField(
        label=_("Window in days"),
        min_value=30,
        max_value=1096,
        help_text=_(
            "How far back the signals look. 365 means the last twelve months. Whether "
            "someone is new, and all-time counts, do not depend on it."
        ),
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        current = thresholds_of(community=community)
        for key, spec in THRESHOLD_SPECS.items():
            if spec.kind in ("days", "count"):
                field = forms.IntegerField(min_value=int(spec.minimum), max_value=int(spec.maximum))
            else:
                factor = 100 if spec.kind == "percent" else 1
                field = forms.DecimalField(
                    min_value=Decimal(str(spec.minimum)) * factor,
                    max_value=Decimal(str(spec.maximum)) * factor,
                    max_digits=6,
                    decimal_places=3,
                    localize=True,
                )
            field.label = spec.label
            field.help_text = spec.help_text
            self.fields[key] = field
            self.initial.setdefault(key, _shown(key, current[key]))
        self.initial.setdefault("window_days", window_days_of(community=community))

    def thresholds(self) -> dict:
        """The cleaned thresholds, stored as the rules read them."""
        return {key: _stored(key, self.cleaned_data[key]) for key in THRESHOLD_SPECS}
