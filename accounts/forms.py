"""Forms for the accounts pages. They only parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken, Area, Community, Role, UnitKind, User
from accounts.services import COMMUNITY_EDITABLE_FIELDS
from accounts.units import amount_number, amount_parse


class SignupExtraForm(forms.Form):
    """The fields allauth's sign-up form adds to email and password."""

    display_name = forms.CharField(
        label=_("Your name"),
        max_length=100,
        help_text=_("The name other members of your circles see, for example “Anna de Vries”."),
    )

    def signup(self, request, user: User) -> None:
        user.display_name = self.cleaned_data["display_name"].strip()
        user.language = (translation.get_language() or "nl")[:2]
        user.save(update_fields=["display_name", "language"])


class ApplyForm(forms.Form):
    area = forms.ModelChoiceField(
        label=_("Your area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("I would rather not say"),
        help_text=_("Helps coordinators find helpers close by. You can change it later."),
    )
    note = forms.CharField(
        label=_("A few words about yourself"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example what you like to do, or what you might need help with."),
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = community.areas.all()
        if not community.areas.exists():
            del self.fields["area"]


class ReasonField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Reason"))
        kwargs.setdefault("max_length", 2000)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        super().__init__(**kwargs)


class MembershipStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"))
    reason = ReasonField(
        required=False,
        help_text=_("The member can read this. Not needed when you admit someone."),
    )

    def __init__(self, *args, status_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = status_choices


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("New role"), choices=Role.choices)
    reason = ReasonField(help_text=_("The member can read this."))


class DecisionForm(forms.Form):
    """Admit or decline one application."""

    decision = forms.ChoiceField(
        choices=[("admit", _("Admit")), ("decline", _("Decline"))], widget=forms.HiddenInput
    )
    reason = ReasonField(required=False, label=_("Reason (needed when you decline)"))


class SelfStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("What do you want to do?"))

    def __init__(self, *args, status_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = status_choices


class AreaForm(forms.Form):
    name = forms.CharField(label=_("Name of the area"), max_length=120)


class AmountField(forms.CharField):
    """A whole-unit amount as a person types it ("20", "1,5"), cleaned to minor units."""

    def __init__(self, *, community: Community | None = None, unit_kind: str | None = None, **kw):
        self.community = community
        self.unit_kind = unit_kind
        super().__init__(**kw)

    def clean(self, value):
        text = super().clean(value)
        if text in (None, ""):
            return 0
        community = self.community or Community(unit_kind=self.unit_kind or UnitKind.TIME)
        try:
            amount = amount_parse(community=community, text=text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if amount < 0:
            raise forms.ValidationError(_("Enter zero or a positive number."))
        return amount


class CommunitySettingsForm(forms.Form):
    """The settings a coordinator may change. Limits are typed as whole units, both as
    positive numbers: "how much more may someone receive than give", and the other way round."""

    name = forms.CharField(label=_("Name"), max_length=120)
    place = forms.CharField(label=_("Place"), max_length=120, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    unit_singular_nl = forms.CharField(label=_("Unit, singular, in Dutch"), max_length=40)
    unit_plural_nl = forms.CharField(label=_("Unit, plural, in Dutch"), max_length=40)
    unit_singular_en = forms.CharField(label=_("Unit, singular, in English"), max_length=40)
    unit_plural_en = forms.CharField(label=_("Unit, plural, in English"), max_length=40)
    receive_limit = AmountField(
        label=_("How much more may a member receive than give?"),
        help_text=_("The credit limit of a new account, in whole units. 0 means no credit."),
        max_length=20,
        required=False,
    )
    give_limit = AmountField(
        label=_("How much more may a member give than receive?"),
        help_text=_("The maximum of a new account, in whole units."),
        max_length=20,
        required=False,
    )
    requires_approval = forms.BooleanField(
        label=_("A coordinator admits each new member"), required=False
    )

    def __init__(self, *args, community: Community | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("receive_limit", "give_limit"):
            self.fields[name].community = community
        if community is not None and not self.is_bound:
            self.initial.update(
                {
                    field: getattr(community, field)
                    for field in COMMUNITY_EDITABLE_FIELDS
                    if field in self.fields
                }
            )
            self.initial["receive_limit"] = amount_number(
                community=community, amount=-community.default_floor
            )
            self.initial["give_limit"] = amount_number(
                community=community, amount=community.default_ceiling
            )

    def service_values(self) -> dict:
        data = dict(self.cleaned_data)
        data["default_floor"] = -data.pop("receive_limit")
        data["default_ceiling"] = data.pop("give_limit")
        return data


class CommunityCreateForm(CommunitySettingsForm):
    slug = forms.SlugField(
        label=_("Web address name"),
        max_length=60,
        help_text=_("Lower-case letters, digits and hyphens, for example “niksen”."),
    )
    unit_kind = forms.ChoiceField(
        label=_("Kind of unit"),
        choices=UnitKind.choices,
        help_text=_("Cannot be changed later: every amount is counted in it."),
    )
    first_coordinator_email = forms.EmailField(
        label=_("Email address of the first coordinator"),
        required=False,
        help_text=_("This person must already have an account. You can leave it empty."),
    )
    field_order = ["name", "slug", "place", "description", "unit_kind"]

    def clean(self):
        cleaned = super().clean()
        # The limits are read in the unit chosen on this same form.
        kind = cleaned.get("unit_kind") or UnitKind.TIME
        for name in ("receive_limit", "give_limit"):
            field = self.fields[name]
            field.unit_kind = kind
            if name in cleaned:
                try:
                    cleaned[name] = field.clean(self.data.get(self.add_prefix(name), ""))
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        email = cleaned.get("first_coordinator_email")
        if email:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                self.add_error(
                    "first_coordinator_email", _("Nobody has an account with this email address.")
                )
            cleaned["first_coordinator"] = user
        else:
            cleaned["first_coordinator"] = None
        return cleaned

    def service_values(self) -> dict:
        data = super().service_values()
        data.pop("first_coordinator_email", None)
        return data


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text=_("What the token is for, for example “my spreadsheet” or “the circle's app”."),
    )
