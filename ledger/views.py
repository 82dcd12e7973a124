"""Ledger pages for members and coordinators. Thin: selectors read, services
write, and a refusal is shown on the form with the service's own words."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors as account_selectors
from accounts.units import amount_format, amount_number
from ledger import selectors, services
from ledger.forms import (
    ChequeBatchForm,
    CoordinatorEntryForm,
    LedgerSettingsForm,
    LimitsForm,
    PaymentForm,
    PotGiftForm,
    RequestPolicyForm,
    ReversalForm,
)
from ledger.models import AccountKind, RequestStatus, TransferKind
from ruilkring.errors import DomainError

BATCH_ROWS = 8
MAX_BATCH_ROWS = 200


def _member_context(request: HttpRequest, slug: str):
    """The community and the signed-in member's own account in it (404 for outsiders)."""
    community, membership = account_selectors.community_for_member_get(user=request.user, slug=slug)
    if membership is None:
        raise PermissionDenied(_("You have no account in this circle."))
    return community, services.account_open(membership=membership)


def _before(request: HttpRequest) -> int | None:
    try:
        return int(request.GET["before"])
    except (KeyError, ValueError):
        return None


@login_required
def account_overview(request: HttpRequest, slug: str) -> HttpResponse:
    community, account = _member_context(request, slug)
    waiting, sent = selectors.payment_requests_for(account=account)
    return render(
        request,
        "ledger/account.html",
        {
            "community": community,
            "account": account,
            "statement": selectors.account_statement(account=account, before=_before(request)),
            "waiting": waiting,
            "sent": sent,
            "own": True,
            **_balance_texts(account),
        },
    )


def _balance_texts(account) -> dict:
    community = account.community
    return {
        "balance_text": amount_format(community=community, amount=account.balance),
        "receive_room_text": amount_format(
            community=community, amount=max(account.balance - account.effective_floor, 0)
        ),
        "give_room_text": amount_format(
            community=community, amount=max(account.effective_ceiling - account.balance, 0)
        ),
        "floor_text": amount_format(community=community, amount=-account.effective_floor),
        "ceiling_text": amount_format(community=community, amount=account.effective_ceiling),
    }


def _statement_csv(account, filename: str) -> StreamingHttpResponse:
    community = account.community

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())

    def rows():
        yield writer.writerow(
            [_("Date"), _("Description"), _("Kind"), _("Amount"), _("Balance after")]
        )
        for entry in selectors.account_statement_rows(account=account):
            yield writer.writerow(
                [
                    entry.transfer.created_at.isoformat(timespec="minutes"),
                    entry.transfer.memo,
                    entry.transfer.get_kind_display(),
                    amount_number(community=community, amount=entry.amount),
                    amount_number(community=community, amount=entry.balance_after),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def statement_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    community, account = _member_context(request, slug)
    return _statement_csv(account, f"{community.slug}-statement.csv")


def _idempotent_submit(request, form, create) -> bool:
    """Run ``create`` for a valid form; show a refusal on the form. True when done."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        create(form.cleaned_data)
    except DomainError as error:
        error.show_on(form)
        return False
    return True


def _own_transfer_page(
    request: HttpRequest, *, account, form, create, done: str, template: str, **context
) -> HttpResponse:
    """A member's page that moves (or asks for) credit from their own account."""
    if _idempotent_submit(request, form, create):
        messages.success(request, done)
        return redirect("ledger:account", slug=account.community.slug)
    return render(
        request,
        template,
        {"community": account.community, "form": form, **context, **_balance_texts(account)},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, slug: str) -> HttpResponse:
    community, account = _member_context(request, slug)
    form = PaymentForm(
        request.POST or None,
        community=community,
        user=request.user,
        other_label=_("Who do you pay?"),
    )

    def create(data):
        services.transfer_create(
            actor=request.user,
            community=community,
            kind=TransferKind.PAYMENT,
            payer=account,
            payee=services.account_open(membership=data["other"]),
            amount=data["amount"],
            memo=data["memo"],
            idempotency_key=data["idempotency_key"],
        )

    return _own_transfer_page(
        request,
        account=account,
        form=form,
        create=create,
        done=_("Paid. Thank you for keeping the circle going!"),
        template="ledger/pay.html",
        kind="pay",
    )


@login_required
@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest, slug: str) -> HttpResponse:
    community, account = _member_context(request, slug)
    form = PaymentForm(
        request.POST or None,
        community=community,
        user=request.user,
        other_label=_("Who did you help?"),
    )

    def create(data):
        services.payment_request_create(
            actor=request.user,
            community=community,
            payer=services.account_open(membership=data["other"]),
            payee=account,
            amount=data["amount"],
            memo=data["memo"],
            idempotency_key=data["idempotency_key"],
        )

    return _own_transfer_page(
        request,
        account=account,
        form=form,
        create=create,
        done=_("Your request has been sent."),
        template="ledger/pay.html",
        kind="ask",
    )


@login_required
@require_http_methods(["GET", "POST"])
def pot_give(request: HttpRequest, slug: str) -> HttpResponse:
    community, account = _member_context(request, slug)
    form = PotGiftForm(request.POST or None, community=community)

    def create(data):
        services.transfer_create(
            actor=request.user,
            community=community,
            kind=TransferKind.POT_DONATION,
            payer=account,
            payee=services.system_account_open(community=community, kind=AccountKind.POT),
            amount=data["amount"],
            memo=data["memo"],
            idempotency_key=data["idempotency_key"],
        )

    return _own_transfer_page(
        request,
        account=account,
        form=form,
        create=create,
        done=_("Thank you! Your gift helps members who cannot earn much."),
        template="ledger/pot_give.html",
    )


@login_required
@require_POST
def request_decide(request: HttpRequest, slug: str, request_id: int) -> HttpResponse:
    community, _membership = account_selectors.community_for_member_get(
        user=request.user, slug=slug
    )
    payment_request = selectors.payment_request_of_community_get(
        community=community, request_id=request_id
    )
    decision = request.POST.get("decision", "")
    if decision not in (RequestStatus.ACCEPTED, RequestStatus.REJECTED, RequestStatus.CANCELLED):
        messages.error(request, _("Choose what you want to do with the request."))
    else:
        try:
            services.payment_request_decide(
                actor=request.user, request=payment_request, to_status=decision
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            done = {
                RequestStatus.ACCEPTED: _("The request has been paid."),
                RequestStatus.REJECTED: _("The request has been declined."),
                RequestStatus.CANCELLED: _("The request has been withdrawn."),
            }
            messages.success(request, done[decision])
    return redirect(request.POST.get("next") or reverse("ledger:account", args=[slug]))


# -- Coordinators -------------------------------------------------------------


@login_required
def accounts_list(request: HttpRequest, slug: str) -> HttpResponse:
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    rows = [
        (
            account,
            selectors.account_holder_name(account),
            amount_format(community=community, amount=account.balance),
            amount_format(community=community, amount=-account.effective_floor),
        )
        for account in selectors.accounts_of_community(community=community)
    ]
    return render(request, "ledger/accounts_list.html", {"community": community, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def account_detail(request: HttpRequest, slug: str, account_id: int) -> HttpResponse:
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    account = selectors.account_of_community_get(community=community, account_id=account_id)
    form = LimitsForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.account_limits_set(
                actor=request.user,
                account=account,
                floor=None if data["use_default"] else -data["receive_limit"],
                ceiling=None if data["use_default"] else data["give_limit"],
                reason=data["reason"],
            )
        except DomainError as error:
            error.show_on(form)
        else:
            messages.success(request, _("The limits have been changed."))
            return redirect("ledger:account_detail", slug=slug, account_id=account.pk)
    return render(
        request,
        "ledger/account.html",
        {
            "community": community,
            "account": account,
            "holder": selectors.account_holder_name(account),
            "statement": selectors.account_statement(account=account, before=_before(request)),
            "limits_form": form,
            "limit_changes": account.limit_changes.select_related("changed_by")[:20],
            "own": False,
            **_balance_texts(account),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def account_statement_csv(request: HttpRequest, slug: str, account_id: int):
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    account = selectors.account_of_community_get(community=community, account_id=account_id)
    return _statement_csv(account, f"{community.slug}-account-{account.pk}.csv")


@login_required
@require_http_methods(["GET", "POST"])
def transfer_detail(request: HttpRequest, slug: str, transfer_id: int) -> HttpResponse:
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    transfer = selectors.transfer_of_community_get(community=community, transfer_id=transfer_id)
    form = ReversalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.transfer_reverse(
                actor=request.user,
                transfer=transfer,
                reason=form.cleaned_data["reason"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except DomainError as error:
            error.show_on(form)
        else:
            messages.success(request, _("The transfer has been reversed. Both members are told."))
            return redirect("ledger:transfer_detail", slug=slug, transfer_id=transfer.pk)
    entries = [
        (
            selectors.account_holder_name(entry.account),
            amount_format(community=community, amount=entry.amount),
        )
        for entry in transfer.entries.all()
    ]
    return render(
        request,
        "ledger/transfer_detail.html",
        {
            "community": community,
            "transfer": transfer,
            "entries": entries,
            "reversed_by": next(iter(transfer.reversals.all()), None),
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def entry_new(request: HttpRequest, slug: str) -> HttpResponse:
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    form = CoordinatorEntryForm(request.POST or None, community=community)

    def create(data):
        services.transfer_create(
            actor=request.user,
            community=community,
            kind=services.transfer_kind_for_accounts(payer=data["payer"], payee=data["payee"]),
            payer=data["payer"],
            payee=data["payee"],
            amount=data["amount"],
            memo=data["memo"],
            idempotency_key=data["idempotency_key"],
        )

    if _idempotent_submit(request, form, create):
        messages.success(request, _("The entry has been recorded."))
        return redirect("ledger:entry_new", slug=slug)
    return render(
        request,
        "ledger/entry_new.html",
        {"community": community, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def batch_new(request: HttpRequest, slug: str) -> HttpResponse:
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    try:
        rows = int(request.POST.get("rows") or request.GET.get("rows") or BATCH_ROWS)
    except ValueError:
        rows = BATCH_ROWS
    rows = max(1, min(rows, MAX_BATCH_ROWS))
    more = request.method == "POST" and "more_rows" in request.POST
    if more:
        rows = min(rows + BATCH_ROWS, MAX_BATCH_ROWS)
    form = ChequeBatchForm(
        request.POST if request.method == "POST" else None, community=community, rows=rows
    )
    if request.method == "POST" and not more and form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.transfer_batch_create(
                actor=request.user,
                community=community,
                lines=[
                    services.ChequeLine(
                        payer=payer, payee=payee, amount=amount, memo=memo, occurred_on=occurred_on
                    )
                    for _number, payer, payee, amount, memo, occurred_on in data["lines"]
                ],
                declared_total=data["declared_total"],
                idempotency_key=data["idempotency_key"],
                note=data["note"],
            )
        except DomainError as error:
            error.show_on(form)
        else:
            messages.success(
                request,
                _("%(count)s cheques have been recorded.") % {"count": batch.transfers.count()},
            )
            return redirect("ledger:batch_new", slug=slug)
    return render(
        request,
        "ledger/batch_new.html",
        {"community": community, "form": form, "rows": rows},
        status=400 if request.method == "POST" and not more else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_policy(request: HttpRequest, slug: str) -> HttpResponse:
    community, account = _member_context(request, slug)
    current = selectors.request_policy_of(account=account)
    form = RequestPolicyForm(
        request.POST or None,
        account=account,
        initial={
            "auto_accept": current.auto_accept if current else "",
            "days": current.auto_accept_days if current else 14,
            "trusted": list(current.trusted.all()) if current else [],
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.account_request_policy_set(
                actor=request.user,
                account=account,
                auto_accept=data["auto_accept"] or None,
                days=data["days"],
                trusted=list(data["trusted"]),
            )
        except DomainError as error:
            error.show_on(form)
        else:
            messages.success(request, _("Your choice has been saved."))
            return redirect("ledger:account", slug=slug)
    return render(
        request,
        "ledger/request_policy.html",
        {"community": community, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def ledger_settings(request: HttpRequest, slug: str) -> HttpResponse:
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    current = selectors.ledger_settings_of(community=community)
    form = LedgerSettingsForm(
        request.POST or None,
        initial={"auto_accept": current.auto_accept, "days": current.auto_accept_days},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.ledger_settings_set(
                actor=request.user,
                community=community,
                auto_accept=form.cleaned_data["auto_accept"],
                days=form.cleaned_data["days"],
            )
        except DomainError as error:
            error.show_on(form)
        else:
            messages.success(request, _("The settings have been saved."))
            return redirect("ledger:accounts_list", slug=slug)
    return render(
        request,
        "ledger/ledger_settings.html",
        {"community": community, "form": form},
        status=400 if request.method == "POST" else 200,
    )
