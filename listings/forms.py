"""Forms for the listing pages. They parse what a person types; the services decide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.forms import AmountField
from accounts.models import Area, Community, Membership, Status
from accounts.units import amount_number
from listings.models import (
    AVAILABILITY_MAX,
    DESCRIPTION_MAX,
    MESSAGE_MAX,
    REASON_MAX,
    TITLE_MAX,
    Category,
    HelpType,
    Listing,
    ListingKind,
)
from listings.photos import PHOTO_ACCEPT
from listings.selectors import (
    ListingFilter,
    categories_of,
    exchange_settings_of,
    listing_search,
)


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, membership: Membership) -> str:
        return membership.user.display_name


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, category: Category) -> str:
        return category.name(translation.get_language())


class ListingForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Do you offer help, or do you ask for it?"),
        choices=[
            (ListingKind.OFFER, _("I offer help")),
            (ListingKind.REQUEST, _("I ask for help")),
        ],
        widget=forms.RadioSelect,
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX,
        help_text=_("Short and clear, for example “Help in the garden” or “Lift to the hospital”."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What does it involve? What should the other person know?"),
    )
    category = CategoryChoiceField(label=_("Category"), queryset=Category.objects.none())
    help_type = forms.ChoiceField(
        label=_("Kind of help"), choices=HelpType.choices, widget=forms.RadioSelect
    )
    area = forms.ModelChoiceField(
        label=_("Area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("Anywhere in the circle"),
    )
    availability = forms.CharField(
        label=_("When"),
        max_length=AVAILABILITY_MAX,
        required=False,
        help_text=_("For example “weekday evenings” or “Saturday mornings”."),
    )
    indicative_amount = AmountField(
        label=_("About how much"),
        max_length=20,
        required=False,
        help_text=_("In the circle's unit. Leave empty if you would rather agree on it together."),
    )
    indicative_per = forms.CharField(
        label=_("Per"),
        max_length=60,
        required=False,
        help_text=_("For example “per visit” or “per hour”."),
    )
    not_for_neighbours = forms.BooleanField(
        label=_("Not for my direct neighbours"),
        required=False,
        help_text=_(
            "Many people find it hard to say no to the people next door. With this, "
            "members of your own area are not suggested to you, and you not to them."
        ),
    )
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": PHOTO_ACCEPT}),
    )
    photo_remove = forms.BooleanField(label=_("Remove the photo"), required=False)

    def __init__(
        self,
        *args,
        community: Community,
        editing: bool = False,
        for_others: bool = False,
        has_photo: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        photo_help = _(
            "A JPEG, PNG, WebP or GIF image of at most %(limit)s. Members of the circle "
            "can see it. The location and other details a camera stores in a photo are removed."
        ) % {"limit": filesizeformat(settings.RUILKRING_PHOTO_MAX_BYTES)}
        if has_photo:
            photo_help = f"{_('A new photo takes the place of the current one.')} {photo_help}"
        else:
            del self.fields["photo_remove"]
        self.fields["photo"].help_text = photo_help
        if for_others:
            # A coordinator can place a listing for a member who is not online.
            self.fields["owner"] = MemberChoiceField(
                label=_("For whom?"),
                queryset=Membership.objects.filter(
                    community=community, status__in=(Status.ACTIVE, Status.LEAVING)
                )
                .select_related("user")
                .order_by("user__display_name"),
                help_text=_("As coordinator you can place it for a member who is not online."),
            )
            self.order_fields(["owner"])
        self.fields["category"].queryset = categories_of(community=community)
        self.fields["area"].queryset = Area.objects.filter(community=community).order_by("name")
        self.fields["indicative_amount"].community = community
        if not self.fields["area"].queryset.exists():
            del self.fields["area"]
        if editing:
            del self.fields["kind"]

    def clean_indicative_amount(self) -> int | None:
        return self.cleaned_data["indicative_amount"] or None


class ListingSearchForm(forms.Form):
    """The filters above the list of listings (a GET form)."""

    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    kind = forms.ChoiceField(
        label=_("Offers or requests"),
        choices=[("", _("Both")), *ListingKind.choices],
        required=False,
    )
    category = CategoryChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        required=False,
        empty_label=_("All categories"),
    )
    help_type = forms.ChoiceField(
        label=_("Kind of help"),
        choices=[("", _("All kinds")), *HelpType.choices],
        required=False,
    )
    area = forms.ModelChoiceField(
        label=_("Area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("All areas"),
    )
    optional_is_obvious = True

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories_of(community=community)
        self.fields["area"].queryset = Area.objects.filter(community=community).order_by("name")
        if not self.fields["area"].queryset.exists():
            del self.fields["area"]

    def search(self) -> ListingFilter:
        """The filter to apply; a filter that did not validate is left out."""
        if not self.is_bound:
            return ListingFilter()
        self.is_valid()  # cleaned_data keeps the fields that did
        data = self.cleaned_data
        return ListingFilter(
            text=data.get("q") or "",
            kind=data.get("kind") or "",
            category=data.get("category"),
            help_type=data.get("help_type") or "",
            area=data.get("area"),
        )


class ListingStatusForm(forms.Form):
    status = forms.CharField()
    note = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ListingReportForm(forms.Form):
    reason = forms.CharField(
        label=_("What is wrong with this listing?"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only the coordinators read this. The member does not see who reported it."),
    )


class ExchangeProposeForm(forms.Form):
    description = forms.CharField(
        label=_("Your message"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Say what you have in mind and when it would suit you."),
    )


class ExchangeStepForm(forms.Form):
    """One step of an exchange, from a button; the amount and note when the step needs them."""

    status = forms.CharField()
    amount = AmountField(label=_("How much was the help worth?"), max_length=20, required=False)
    note = forms.CharField(max_length=REASON_MAX, required=False)

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].community = community


class ExchangeMessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), max_length=MESSAGE_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class ThankYouForm(forms.Form):
    body = forms.CharField(
        label=_("Your thank-you note"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A few kind words for the helper. It moves no credit."),
    )


class OptionalAmountField(AmountField):
    """An amount that may be left empty: empty means "no amount" (None), not zero."""

    def clean(self, value):
        if not (value or "").strip():
            return None
        return super().clean(value)


class ExchangeSettingsForm(forms.Form):
    """Which payments a coordinator approves first. The amount is typed in whole
    units, as on the community's settings page, and cleaned to minor units."""

    approval_above = OptionalAmountField(
        label=_("Approve payments above"),
        max_length=20,
        required=False,
        help_text=_(
            "In the circle's unit, such as 5 or 2,5. A payment for more waits for a "
            "coordinator. Leave it empty if no amount needs approval; 0 means every payment."
        ),
    )
    approval_first = forms.IntegerField(
        label=_("Approve each member's first exchanges"),
        min_value=0,
        required=False,
        help_text=_(
            "While the helper or the member who is helped has fewer paid exchanges than "
            "this number, a coordinator approves the payment. 0 means none."
        ),
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approval_above"].community = community
        if not self.is_bound:
            rules = exchange_settings_of(community=community)
            self.initial["approval_above"] = (
                amount_number(community=community, amount=rules.approval_above)
                if rules.approval_above is not None
                else ""
            )
            self.initial["approval_first"] = rules.approval_first

    def clean_approval_first(self) -> int:
        return self.cleaned_data["approval_first"] or 0


class ListingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, listing: Listing) -> str:
        return f"{listing.get_kind_display()}: {listing.title} ({listing.owner.user.display_name})"


class HandMatchForm(forms.Form):
    """A coordinator puts two members together. Only this circle's members (and
    its active listings) can be chosen; anything else is refused as not a choice."""

    provider = MemberChoiceField(
        label=_("Who helps?"),
        queryset=Membership.objects.none(),
        error_messages={"invalid_choice": _("Choose a member of this circle.")},
    )
    receiver = MemberChoiceField(
        label=_("Who is helped?"),
        queryset=Membership.objects.none(),
        error_messages={"invalid_choice": _("Choose a member of this circle.")},
    )
    description = forms.CharField(
        label=_("What was agreed?"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Both members read this. The helper is asked to agree."),
    )
    listing = ListingChoiceField(
        label=_("For a listing"),
        queryset=Listing.objects.none(),
        required=False,
        empty_label=_("Not for a listing"),
        error_messages={"invalid_choice": _("Choose one of this circle's listings.")},
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        members = (
            Membership.objects.filter(
                community=community, status__in=(Status.ACTIVE, Status.LEAVING)
            )
            .select_related("user")
            .order_by("user__display_name", "pk")
        )
        self.fields["provider"].queryset = members
        self.fields["receiver"].queryset = members
        self.fields["listing"].queryset = listing_search(
            community=community, search=ListingFilter()
        )
