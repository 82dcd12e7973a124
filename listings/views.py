"""Listing pages: browse and search, place, change, pause, renew, remove, report.
Thin: selectors read, services write, and a refusal is shown with the service's words."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import selectors as account_selectors
from accounts.units import amount_format, amount_number
from listings import selectors, services
from listings.forms import (
    ExchangeMessageForm,
    ExchangeProposeForm,
    ExchangeSettingsForm,
    ExchangeStepForm,
    HandMatchForm,
    ListingForm,
    ListingReportForm,
    ListingSearchForm,
    ListingStatusForm,
    ThankYouForm,
)
from listings.models import (
    Exchange,
    ExchangeStatus,
    Listing,
    ListingKind,
    ListingStatus,
)
from listings.photos import photo_size
from listings.transitions import (
    EXCHANGE_TRANSITIONS,
    ExchangeParty,
    ListingActor,
    exchange_step_roles,
    listing_targets,
)
from ruilkring.errors import DomainError, InvalidInput

PAGE_SIZE = 20


def _member_context(request: HttpRequest, slug: str):
    """The community and the signed-in person's membership (404 for outsiders)."""
    return account_selectors.community_for_member_get(user=request.user, slug=slug)


def _listing_for(request: HttpRequest, slug: str, listing_id: int):
    """The community and one of its listings, as the signed-in person may see it."""
    community, _membership = _member_context(request, slug)
    listing = selectors.listing_of_community_get(
        community=community, listing_id=listing_id, viewer=request.user
    )
    return community, listing


def _exchange_for(request: HttpRequest, slug: str, exchange_id: int):
    """The community and one of its exchanges, for its members and coordinators."""
    community, _membership = _member_context(request, slug)
    exchange = selectors.exchange_of_community_get(
        community=community, exchange_id=exchange_id, viewer=request.user
    )
    return community, exchange


def _listing_values(data: dict) -> dict:
    return {
        "title": data["title"],
        "description": data["description"],
        "category": data["category"],
        "help_type": data["help_type"],
        "area": data.get("area"),
        "availability": data["availability"],
        "indicative_amount": data["indicative_amount"],
        "indicative_per": data["indicative_per"],
        "not_for_neighbours": data["not_for_neighbours"],
        "photo": data.get("photo"),
    }


@login_required
def listing_list(request: HttpRequest, slug: str) -> HttpResponse:
    community, membership = _member_context(request, slug)
    services.categories_ensure(community=community)
    form = ListingSearchForm(request.GET or None, community=community)
    found = selectors.listing_search(community=community, search=form.search())
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "listings/listing_list.html",
        {
            "community": community,
            "membership": membership,
            "form": form,
            "page": page,
            "query": query.urlencode(),
        },
    )


@login_required
def my_listings(request: HttpRequest, slug: str) -> HttpResponse:
    community, membership = _member_context(request, slug)
    if membership is None:
        raise PermissionDenied(_("You have no listings in this circle."))
    return render(
        request,
        "listings/my_listings.html",
        {
            "community": community,
            "listings": selectors.listings_of_owner(owner=membership),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def listing_new(request: HttpRequest, slug: str) -> HttpResponse:
    community, membership = _member_context(request, slug)
    if membership is None:
        raise PermissionDenied(_("Only members of this circle can place listings."))
    services.categories_ensure(community=community)
    initial = {"kind": request.GET.get("kind", ListingKind.OFFER), "owner": membership}
    coordinator = account_selectors.user_is_coordinator(user=request.user, community=community)
    form = ListingForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        community=community,
        for_others=coordinator,
    )
    if request.method == "POST" and form.is_valid():
        try:
            listing = services.listing_create(
                actor=request.user,
                owner=form.cleaned_data.get("owner") or membership,
                kind=form.cleaned_data["kind"],
                **_listing_values(form.cleaned_data),
            )
        except DomainError as error:
            error.show_on(form)
        else:
            messages.success(
                request, _("Your listing is up. Members of the circle can find it now.")
            )
            return redirect("listings:detail", slug=slug, listing_id=listing.pk)
    return render(
        request,
        "listings/listing_form.html",
        {"community": community, "form": form, "editing": False},
        status=400 if request.method == "POST" else 200,
    )


def _viewer_kinds(request: HttpRequest, listing: Listing) -> set[str]:
    kinds = set()
    if listing.owner.user_id == request.user.pk:
        kinds.add(ListingActor.OWNER)
    if account_selectors.user_is_coordinator(user=request.user, community=listing.community):
        kinds.add(ListingActor.COORDINATOR)
    return kinds


@dataclass(frozen=True)
class StatusAction:
    status: str
    label: str
    needs_note: bool = False
    note_label: str = ""


def _status_actions(*, listing: Listing, kinds: set[str]) -> list[StatusAction]:
    """The buttons for the steps this viewer may take (renewing has its own)."""
    targets = {t for kind in kinds for t in listing_targets(from_status=listing.status, actor=kind)}
    as_owner = ListingActor.OWNER in kinds
    actions = []
    if ListingStatus.PAUSED in targets:
        actions.append(StatusAction(ListingStatus.PAUSED, _("Pause")))
    if ListingStatus.ACTIVE in targets and listing.status == ListingStatus.PAUSED:
        actions.append(StatusAction(ListingStatus.ACTIVE, _("Show it again")))
    if ListingStatus.REMOVED in targets:
        actions.append(
            StatusAction(
                ListingStatus.REMOVED,
                _("Take it down"),
                needs_note=not as_owner,
                note_label=_("Why take it down? The member reads this."),
            )
        )
    if ListingStatus.ACTIVE in targets and listing.status == ListingStatus.REMOVED:
        actions.append(
            StatusAction(
                ListingStatus.ACTIVE,
                _("Put it back"),
                needs_note=True,
                note_label=_("Why put it back? The member reads this."),
            )
        )
    return actions


@login_required
def listing_detail(request: HttpRequest, slug: str, listing_id: int) -> HttpResponse:
    community, membership = _member_context(request, slug)
    listing = selectors.listing_of_community_get(
        community=community, listing_id=listing_id, viewer=request.user
    )
    kinds = _viewer_kinds(request, listing)
    return render(
        request,
        "listings/listing_detail.html",
        {
            "community": community,
            "listing": listing,
            "photo_size": photo_size(listing=listing),
            "is_owner": ListingActor.OWNER in kinds,
            "is_coordinator": ListingActor.COORDINATOR in kinds,
            "actions": _status_actions(listing=listing, kinds=kinds),
            "report_form": ListingReportForm()
            if membership is not None and ListingActor.OWNER not in kinds
            else None,
            "suggestions": selectors.match_suggestions(listing=listing)
            if ListingActor.COORDINATOR in kinds
            and listing.kind == ListingKind.REQUEST
            and listing.status == ListingStatus.ACTIVE
            else [],
            "respond_form": ExchangeProposeForm()
            if membership is not None
            and ListingActor.OWNER not in kinds
            and listing.status == ListingStatus.ACTIVE
            else None,
        },
    )


@login_required
@require_safe
def listing_photo(request: HttpRequest, slug: str, listing_id: int) -> FileResponse:
    """The listing's photo, for exactly the people who may open the listing.
    Photos are never on a public media address."""
    _community, listing = _listing_for(request, slug, listing_id)
    if not listing.photo:
        raise Http404(_("This listing has no photo."))
    try:
        photo = listing.photo.storage.open(listing.photo.name, "rb")
    except FileNotFoundError as exc:
        raise Http404(_("This listing has no photo.")) from exc
    response = FileResponse(photo, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def listing_edit(request: HttpRequest, slug: str, listing_id: int) -> HttpResponse:
    community, listing = _listing_for(request, slug, listing_id)
    if not _viewer_kinds(request, listing):
        raise PermissionDenied(_("You can only change your own listings."))
    initial = {
        "title": listing.title,
        "description": listing.description,
        "category": listing.category,
        "help_type": listing.help_type,
        "area": listing.area,
        "availability": listing.availability,
        "indicative_amount": "",
        "indicative_per": listing.indicative_per,
        "not_for_neighbours": listing.not_for_neighbours,
    }
    if listing.indicative_amount:
        initial["indicative_amount"] = amount_number(
            community=community, amount=listing.indicative_amount
        )
    form = ListingForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        community=community,
        editing=True,
        has_photo=bool(listing.photo),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.listing_update(
                actor=request.user,
                listing=listing,
                photo_remove=form.cleaned_data.get("photo_remove", False),
                **_listing_values(form.cleaned_data),
            )
        except DomainError as error:
            error.show_on(form)
        else:
            messages.success(request, _("Your changes are saved."))
            return redirect("listings:detail", slug=slug, listing_id=listing.pk)
    return render(
        request,
        "listings/listing_form.html",
        {"community": community, "form": form, "editing": True, "listing": listing},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def listing_status(request: HttpRequest, slug: str, listing_id: int) -> HttpResponse:
    _community, listing = _listing_for(request, slug, listing_id)
    form = ListingStatusForm(request.POST)
    form.is_valid()
    try:
        if form.cleaned_data.get("status") == "renew":
            services.listing_renew(actor=request.user, listing=listing)
            messages.success(request, _("Your listing stays up for another 90 days."))
        else:
            changed = services.listing_status_change(
                actor=request.user,
                listing=listing,
                to_status=form.cleaned_data.get("status", ""),
                note=form.cleaned_data.get("note", ""),
            )
            messages.success(
                request,
                _("The listing is now “%(status)s”.")
                % {"status": ListingStatus(changed.status).label},
            )
    except DomainError as error:
        messages.error(request, str(error))
    return redirect("listings:detail", slug=slug, listing_id=listing.pk)


@login_required
@require_POST
def listing_report(request: HttpRequest, slug: str, listing_id: int) -> HttpResponse:
    _community, listing = _listing_for(request, slug, listing_id)
    form = ListingReportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what is wrong with the listing, so a coordinator can look."))
        return redirect("listings:detail", slug=slug, listing_id=listing.pk)
    try:
        services.listing_report(
            actor=request.user, listing=listing, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you. A coordinator will look at it."))
    return redirect("listings:detail", slug=slug, listing_id=listing.pk)


# -- Exchanges -----------------------------------------------------------------


@login_required
@require_POST
def listing_respond(request: HttpRequest, slug: str, listing_id: int) -> HttpResponse:
    _community, listing = _listing_for(request, slug, listing_id)
    form = ExchangeProposeForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Write a short message, so the other member knows what you mean.")
        )
        return redirect("listings:detail", slug=slug, listing_id=listing.pk)
    try:
        exchange = services.exchange_propose(
            actor=request.user, listing=listing, description=form.cleaned_data["description"]
        )
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("listings:detail", slug=slug, listing_id=listing.pk)
    messages.success(request, _("Sent. You will see here when they answer."))
    return redirect("listings:exchange", slug=slug, exchange_id=exchange.pk)


@login_required
def my_exchanges(request: HttpRequest, slug: str) -> HttpResponse:
    community, membership = _member_context(request, slug)
    if membership is None:
        raise PermissionDenied(_("You have no exchanges in this circle."))
    return render(
        request,
        "listings/my_exchanges.html",
        {
            "community": community,
            "membership": membership,
            "exchanges": selectors.exchanges_of_member(member=membership),
        },
    )


@dataclass(frozen=True)
class StepAction:
    status: str
    label: str
    needs_amount: bool = False
    note: str = ""  # the note's label; empty: no note asked
    note_required: bool = False


def _step_actions(*, exchange: Exchange, parties: set[str]) -> list[StepAction]:
    """The buttons for the steps this viewer may take, in the order people expect."""
    E = ExchangeStatus
    allowed = {
        target
        for (source, target) in EXCHANGE_TRANSITIONS
        if source == exchange.status
        and exchange_step_roles(parties=parties, from_status=source, to_status=target)
    }
    from_dispute = exchange.status == E.DISPUTED
    in_review = exchange.status == E.REVIEW
    candidates = [
        StepAction(E.ACCEPTED, _("Agree")),
        StepAction(
            E.DONE,
            _("Approve: ask %(name)s to pay %(amount)s")
            % {
                "name": exchange.receiver.user.display_name,
                "amount": amount_format(community=exchange.community, amount=exchange.amount),
            }
            if in_review
            else _("It is done: ask for payment"),
            needs_amount=not in_review,
        ),
        StepAction(
            E.PAID,
            _("Settle the exchange") if from_dispute else _("Pay"),
            needs_amount=from_dispute and exchange.transfer_id is None,
            note=_("Why this way? Both members read this.") if from_dispute else "",
            note_required=from_dispute,
        ),
        StepAction(E.DECLINED, _("Decline")),
        StepAction(
            E.CANCELLED,
            _("Turn it down: no payment") if in_review else _("Cancel the exchange"),
            note=_("Why not? Both members read this.")
            if in_review
            else _("Why cancel? Both members read this.")
            if from_dispute
            else "",
            note_required=from_dispute or in_review,
        ),
        StepAction(
            E.DISPUTED,
            _("Something is not right: ask a coordinator"),
            note=_("What is not right?"),
        ),
    ]
    return [action for action in candidates if action.status in allowed]


@login_required
def exchange_detail(request: HttpRequest, slug: str, exchange_id: int) -> HttpResponse:
    community, exchange = _exchange_for(request, slug, exchange_id)
    parties = selectors.exchange_parties(actor=request.user, exchange=exchange)
    thank_you = selectors.exchange_thank_you(exchange=exchange)
    is_receiver = ExchangeParty.RECEIVER in parties
    suggested = exchange.amount or (
        exchange.listing.indicative_amount if exchange.listing else None
    )
    return render(
        request,
        "listings/exchange_detail.html",
        {
            "community": community,
            "exchange": exchange,
            "actions": _step_actions(exchange=exchange, parties=parties),
            "suggested_amount": amount_number(community=community, amount=suggested)
            if suggested
            else "",
            "events": exchange.events.select_related("actor"),
            "thread": exchange.messages.select_related("author"),
            "message_form": ExchangeMessageForm(),
            "thank_you": thank_you,
            "thank_form": ThankYouForm()
            if is_receiver and exchange.status == ExchangeStatus.PAID and thank_you is None
            else None,
        },
    )


@login_required
@require_POST
def exchange_step(request: HttpRequest, slug: str, exchange_id: int) -> HttpResponse:
    community, exchange = _exchange_for(request, slug, exchange_id)
    # The coordinators' queue approves and turns down from its own page, and
    # goes back there; any other value goes back to the exchange.
    back = (
        reverse("listings:moderation", args=[slug])
        if request.POST.get("back") == "moderation"
        else reverse("listings:exchange", args=[slug, exchange.pk])
    )
    form = ExchangeStepForm(request.POST, community=community)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(back)
    try:
        changed = services.exchange_step(
            actor=request.user,
            exchange=exchange,
            to_status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
            amount=form.cleaned_data["amount"] or None,
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("The exchange is now “%(status)s”.") % {"status": changed.get_status_display()},
        )
    return redirect(back)


@login_required
@require_POST
def exchange_message(request: HttpRequest, slug: str, exchange_id: int) -> HttpResponse:
    _community, exchange = _exchange_for(request, slug, exchange_id)
    form = ExchangeMessageForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidInput(_("Write a message first."))
        services.exchange_message_post(
            actor=request.user, exchange=exchange, body=form.cleaned_data["body"]
        )
    except DomainError as error:
        messages.error(request, str(error))
    return redirect(reverse("listings:exchange", args=[slug, exchange.pk]) + "#thread")


@login_required
@require_POST
def exchange_thank(request: HttpRequest, slug: str, exchange_id: int) -> HttpResponse:
    _community, exchange = _exchange_for(request, slug, exchange_id)
    form = ThankYouForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidInput(_("Write a few words first."))
        services.exchange_thank(
            actor=request.user, exchange=exchange, body=form.cleaned_data["body"]
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your thank-you note is on its way. That is kind of you."))
    return redirect("listings:exchange", slug=slug, exchange_id=exchange.pk)


# -- Coordinators ----------------------------------------------------------------


@login_required
def moderation(request: HttpRequest, slug: str) -> HttpResponse:
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    return render(
        request,
        "listings/moderation.html",
        {"community": community, "queue": selectors.moderation_queue(community=community)},
    )


@login_required
@require_POST
def report_handle(request: HttpRequest, slug: str, report_id: int) -> HttpResponse:
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    report = selectors.report_of_community_get(community=community, report_id=report_id)
    services.listing_report_handle(actor=request.user, report=report)
    messages.success(request, _("The report is handled."))
    return redirect("listings:moderation", slug=slug)


@login_required
@require_POST
def listing_match(request: HttpRequest, slug: str, listing_id: int) -> HttpResponse:
    """A coordinator puts a request to one of the suggested helpers."""
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    listing = selectors.listing_of_community_get(
        community=community, listing_id=listing_id, viewer=request.user
    )
    provider = account_selectors.membership_get(
        community=community, membership_id=request.POST.get("provider")
    )
    try:
        exchange = services.exchange_match(
            actor=request.user,
            provider=provider,
            receiver=listing.owner,
            description=listing.title,
            listing=listing,
        )
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("listings:detail", slug=slug, listing_id=listing.pk)
    messages.success(
        request,
        _("Proposed to %(name)s. They can agree on the exchange page.")
        % {"name": provider.user.display_name},
    )
    return redirect("listings:exchange", slug=slug, exchange_id=exchange.pk)


@login_required
@require_http_methods(["GET", "POST"])
def exchange_new(request: HttpRequest, slug: str) -> HttpResponse:
    """A coordinator matches two members by hand, without a listing or a request
    from either of them; the helper is asked to agree."""
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    form = HandMatchForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            exchange = services.exchange_match(
                actor=request.user,
                provider=form.cleaned_data["provider"],
                receiver=form.cleaned_data["receiver"],
                description=form.cleaned_data["description"],
                listing=form.cleaned_data["listing"],
            )
        except DomainError as error:
            error.show_on(form)
        else:
            messages.success(
                request,
                _("Proposed to %(name)s. They can agree on the exchange page.")
                % {"name": exchange.provider.user.display_name},
            )
            return redirect("listings:exchange", slug=slug, exchange_id=exchange.pk)
    return render(
        request,
        "listings/exchange_new.html",
        {"community": community, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def exchange_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """Which payments a coordinator approves before the receiver is asked."""
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    form = ExchangeSettingsForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            services.exchange_settings_set(
                actor=request.user,
                community=community,
                approval_above=form.cleaned_data["approval_above"],
                approval_first=form.cleaned_data["approval_first"],
            )
        except DomainError as error:
            error.show_on(form)
        else:
            messages.success(request, _("The settings have been saved."))
            return redirect("listings:exchange_settings", slug=slug)
    return render(
        request,
        "listings/exchange_settings.html",
        {"community": community, "form": form},
        status=400 if request.method == "POST" else 200,
    )
