"""Forms for the ledger pages. They parse what a person types; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import AmountField, ReasonField
from accounts.models import Community, Membership, Status
from ledger.keys import idempotency_key_new
from ledger.models import Account, AccountKind, AutoAccept
from ledger.selectors import account_holder_name


class IdempotentForm(forms.Form):
    """Carries a key made when the form is first shown, so a double click or a
    resent form makes one transfer, not two."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", idempotency_key_new())


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, membership: Membership) -> str:
        return membership.user.display_name


def _fellow_members(community: Community, exclude_user=None):
    members = Membership.objects.filter(
        community=community, status__in=(Status.ACTIVE, Status.LEAVING)
    ).select_related("user")
    if exclude_user is not None:
        members = members.exclude(user=exclude_user)
    return members.order_by("user__display_name")


class PaymentForm(IdempotentForm):
    """A member pays another member, or asks another member to pay."""

    other = MemberChoiceField(label=_("Who"), queryset=Membership.objects.none())
    amount = AmountField(label=_("How much"), max_length=20)
    memo = forms.CharField(
        label=_("What for"),
        max_length=500,
        help_text=_("For example “an hour in the garden” or “bike repaired”."),
    )

    def __init__(self, *args, community: Community, user, other_label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["other"].queryset = _fellow_members(community, exclude_user=user)
        self.fields["other"].label = other_label
        self.fields["amount"].community = community


class PotGiftForm(IdempotentForm):
    amount = AmountField(label=_("How much do you want to give?"), max_length=20)
    memo = forms.CharField(label=_("A note"), max_length=500, required=False)

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].community = community


class RequestDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accepted", _("Pay")), ("rejected", _("Decline")), ("cancelled", _("Withdraw"))]
    )


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, account: Account) -> str:
        return account_holder_name(account)


def _accounts_for_entries(community: Community):
    return (
        Account.objects.filter(community=community)
        .exclude(kind=AccountKind.MEMBER, membership__status__in=(Status.LEFT, Status.DECLINED))
        .select_related("membership__user")
        .order_by("kind", "membership__user__display_name")
    )


class CoordinatorEntryForm(IdempotentForm):
    """A coordinator records a trade for members who are not online, or a gift
    from the pot, or an entry on the community account."""

    payer = AccountChoiceField(label=_("Who gave credit (paid)"), queryset=Account.objects.none())
    payee = AccountChoiceField(
        label=_("Who received credit (was paid)"), queryset=Account.objects.none()
    )
    amount = AmountField(label=_("How much"), max_length=20)
    memo = forms.CharField(label=_("What for"), max_length=500)

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = _accounts_for_entries(community)
        self.fields["payer"].queryset = accounts
        self.fields["payee"].queryset = accounts
        self.fields["amount"].community = community


class ChequeBatchForm(IdempotentForm):
    """A stack of paper cheques: one row per cheque, and the stack's total."""

    # Every row may stay empty; saying "optional" on each of its fields is noise.
    optional_is_obvious = True

    declared_total = AmountField(
        label=_("Total of the stack"),
        max_length=20,
        help_text=_("Add up the cheques on paper. It must match the rows, to catch typing errors."),
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, community: Community, rows: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["declared_total"].community = community
        accounts = _accounts_for_entries(community).filter(kind=AccountKind.MEMBER)
        self.rows = rows
        for number in range(1, rows + 1):
            self.fields[f"payer_{number}"] = AccountChoiceField(
                label=_("Paid by"),
                queryset=accounts,
                required=False,
            )
            self.fields[f"payee_{number}"] = AccountChoiceField(
                label=_("Paid to"),
                queryset=accounts,
                required=False,
            )
            amount = AmountField(
                label=_("Amount"),
                max_length=20,
                required=False,
            )
            amount.community = community
            self.fields[f"amount_{number}"] = amount
            self.fields[f"memo_{number}"] = forms.CharField(
                label=_("What for"),
                max_length=500,
                required=False,
            )
            self.fields[f"date_{number}"] = forms.DateField(
                label=_("Date on the cheque"),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )

    def row_fields(self):
        return [
            [self[f"{name}_{number}"] for name in ("payer", "payee", "amount", "memo", "date")]
            for number in range(1, self.rows + 1)
        ]

    def clean(self):
        cleaned = super().clean()
        lines = []
        for number in range(1, self.rows + 1):
            values = [cleaned.get(f"{name}_{number}") for name in ("payer", "payee", "amount")]
            memo = cleaned.get(f"memo_{number}") or ""
            occurred_on = cleaned.get(f"date_{number}")
            if not any(values) and not memo and not occurred_on:
                continue
            if not all(values):
                self.add_error(
                    f"amount_{number}",
                    _("Fill in who paid, who was paid and the amount, or leave the row empty."),
                )
                continue
            lines.append((number, *values, memo, occurred_on))
        if not lines and not self.errors:
            raise forms.ValidationError(_("Fill in at least one cheque."))
        cleaned["lines"] = lines
        return cleaned


class LimitsForm(forms.Form):
    """Typed as whole units, both as positive numbers, like the community's defaults."""

    use_default = forms.BooleanField(label=_("Use the community's limits"), required=False)
    receive_limit = AmountField(
        label=_("How much more may this member receive than give?"),
        max_length=20,
        required=False,
    )
    give_limit = AmountField(
        label=_("How much more may this member give than receive?"),
        max_length=20,
        required=False,
    )
    reason = ReasonField(help_text=_("The member can read this."))

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receive_limit"].community = community
        self.fields["give_limit"].community = community


class ReversalForm(IdempotentForm):
    reason = ReasonField(help_text=_("Both members can read this."))


class AccountMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, account: Account) -> str:
        return account_holder_name(account)


class RequestPolicyForm(forms.Form):
    """A member's choice for requests to pay: their own, or the circle's."""

    auto_accept = forms.ChoiceField(
        label=_("When someone asks you to pay"),
        choices=[("", _("As the circle has agreed")), *AutoAccept.choices],
        required=False,
    )
    days = forms.IntegerField(label=_("Number of days"), min_value=1, max_value=365, initial=14)
    trusted = AccountMultipleChoiceField(
        label=_("Members you trust"),
        queryset=Account.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only used with “At once from members I trust”."),
    )

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trusted"].queryset = (
            _accounts_for_entries(account.community)
            .filter(kind=AccountKind.MEMBER)
            .exclude(pk=account.pk)
        )


class LedgerSettingsForm(forms.Form):
    """How a circle accepts payment requests when a member has not chosen."""

    auto_accept = forms.ChoiceField(
        label=_("When a member does not answer a request to pay"),
        choices=[
            (AutoAccept.NEVER, _("It waits until they answer")),
            (AutoAccept.AFTER_DAYS, _("It is paid after a number of days")),
            (AutoAccept.ALWAYS, _("It is paid at once")),
        ],
    )
    days = forms.IntegerField(label=_("Number of days"), min_value=1, max_value=365)
