"""Pages for members, coordinators and municipality observers. Thin: they read with
selectors, write with services, and show a domain error on the form it belongs to."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from accounts import selectors, services
from accounts.accessibility import accessibility_statement_get
from accounts.forms import (
    ApiTokenForm,
    ApplyForm,
    AreaForm,
    CommunityCreateForm,
    CommunitySettingsForm,
    DecisionForm,
    MembershipRoleForm,
    MembershipStatusForm,
    SelfStatusForm,
)
from accounts.models import AuditAction, NotificationChannel, Role, Status
from accounts.notifications import (
    COORDINATOR_KINDS,
    notification_channel,
    notification_kinds_for,
    notification_preference_set,
    notifications_mark_read,
)
from accounts.units import amount_format
from ruilkring.errors import DomainError

MEMBERS_PER_PAGE = 50


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        memberships = selectors.memberships_of_user(user=request.user)
        return render(request, "accounts/home.html", {"memberships": memberships})
    return render(request, "accounts/home.html", {})


def accessibility_statement(request: HttpRequest) -> HttpResponse:
    statement = accessibility_statement_get(language=request.LANGUAGE_CODE)
    return render(request, "accounts/accessibility.html", {"statement": statement})


@login_required
def my_communities(request: HttpRequest) -> HttpResponse:
    memberships = list(selectors.memberships_of_user(user=request.user))
    coordinated = [m for m in memberships if m.is_coordinator]
    return render(
        request,
        "accounts/my_communities.html",
        {"memberships": memberships, "coordinated": coordinated},
    )


@login_required
def community_list(request: HttpRequest) -> HttpResponse:
    communities = selectors.community_list()
    own = {m.community_id: m for m in selectors.memberships_of_user(user=request.user)}
    rows = [(community, own.get(community.pk)) for community in communities]
    return render(request, "accounts/community_list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def community_apply(request: HttpRequest, slug: str) -> HttpResponse:
    community = selectors.community_get_by_slug(slug=slug)
    membership = selectors.membership_for_user_get(user=request.user, community=community)
    form = ApplyForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_apply(
                user=request.user,
                community=community,
                area=form.cleaned_data.get("area"),
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            error.show_on(form)
        else:
            if membership.status == Status.ACTIVE:
                messages.success(
                    request, _("Welcome to %(community)s!") % {"community": community.name}
                )
                return redirect("accounts:community_detail", slug=community.slug)
            messages.success(
                request,
                _("Your application to %(community)s has been sent. A coordinator will reply.")
                % {"community": community.name},
            )
            return redirect("accounts:my_communities")
    return render(
        request,
        "accounts/community_apply.html",
        {"community": community, "membership": membership, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def community_detail(request: HttpRequest, slug: str) -> HttpResponse:
    community, membership = selectors.community_for_member_get(user=request.user, slug=slug)
    choices = (
        selectors.membership_status_choices_for_self(membership=membership) if membership else []
    )
    form = SelfStatusForm(request.POST or None, status_choices=choices) if choices else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("There is nothing to change about your membership now."))
        if form.is_valid():
            try:
                services.membership_status_change(
                    actor=request.user, membership=membership, to_status=form.cleaned_data["status"]
                )
            except DomainError as error:
                error.show_on(form)
            else:
                messages.success(request, _("Your membership has been updated."))
                return redirect("accounts:community_detail", slug=community.slug)
    return render(
        request,
        "accounts/community_detail.html",
        {
            "community": community,
            "membership": membership,
            "self_form": form,
            "coordinators": selectors.coordinators_of(community=community),
            "is_coordinator": selectors.user_is_coordinator(user=request.user, community=community),
            # Both limits read as "up to 20 hours", in the direction the label names.
            "floor_text": amount_format(community=community, amount=-community.default_floor),
            "ceiling_text": amount_format(community=community, amount=community.default_ceiling),
        },
    )


@login_required
def member_list(request: HttpRequest, slug: str) -> HttpResponse:
    community = selectors.community_for_coordinator_get(user=request.user, slug=slug)
    status = request.GET.get("status", "")
    if status not in Status.values:
        status = ""
    search = request.GET.get("q", "")[:100]
    memberships = selectors.membership_list(community=community, status=status, search=search)
    page = Paginator(memberships, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/member_list.html",
        {
            "community": community,
            "page": page,
            "status": status,
            "search": search,
            "statuses": Status.choices,
            "counts": selectors.membership_status_counts(community=community),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def applications(request: HttpRequest, slug: str) -> HttpResponse:
    community = selectors.community_for_coordinator_get(user=request.user, slug=slug)
    failed: tuple[int, DecisionForm] | None = None
    if request.method == "POST":
        membership = selectors.membership_get(
            community=community, membership_id=request.POST.get("membership", "")
        )
        form = DecisionForm(request.POST)
        if form.is_valid():
            admit = form.cleaned_data["decision"] == "admit"
            try:
                services.membership_status_change(
                    actor=request.user,
                    membership=membership,
                    to_status=Status.ACTIVE if admit else Status.DECLINED,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                error.show_on(form)
            else:
                text = (
                    _("%(name)s is now a member.")
                    if admit
                    else _("The application of %(name)s has been declined.")
                )
                messages.success(request, text % {"name": membership.user.display_name})
                return redirect("accounts:applications", slug=community.slug)
        failed = (membership.pk, form)
    pending = selectors.membership_list(community=community, status=Status.APPLIED)
    return render(
        request,
        "accounts/applications.html",
        {"community": community, "pending": pending, "failed": failed},
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_detail(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    community = selectors.community_for_coordinator_get(user=request.user, slug=slug)
    membership = selectors.membership_get(community=community, membership_id=membership_id)
    status_choices = selectors.membership_status_choices_for_coordinator(membership=membership)
    action = request.POST.get("action") if request.method == "POST" else None
    status_form = MembershipStatusForm(
        request.POST if action == "status" else None,
        status_choices=status_choices,
        prefix="status",
    )
    role_form = MembershipRoleForm(
        request.POST if action == "role" else None,
        prefix="role",
        initial={"role": Role.MEMBER if membership.role == Role.COORDINATOR else Role.COORDINATOR},
    )
    if action == "status" and status_form.is_valid():
        try:
            services.membership_status_change(
                actor=request.user,
                membership=membership,
                to_status=status_form.cleaned_data["status"],
                reason=status_form.cleaned_data["reason"],
            )
        except DomainError as error:
            error.show_on(status_form)
        else:
            messages.success(request, _("The status has been changed."))
            return redirect("accounts:member_detail", slug=slug, membership_id=membership.pk)
    elif action == "role" and role_form.is_valid():
        try:
            services.membership_role_change(
                actor=request.user,
                membership=membership,
                to_role=role_form.cleaned_data["role"],
                reason=role_form.cleaned_data["reason"],
            )
        except DomainError as error:
            error.show_on(role_form)
        else:
            messages.success(request, _("The role has been changed."))
            return redirect("accounts:member_detail", slug=slug, membership_id=membership.pk)
    elif request.method == "POST" and action not in ("status", "role"):
        messages.error(request, _("Choose what you want to change."))
    return render(
        request,
        "accounts/member_detail.html",
        {
            "community": community,
            "membership": membership,
            "status_form": status_form if status_choices else None,
            "role_form": role_form,
            "events": selectors.membership_events(community=community, membership=membership),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def community_settings(request: HttpRequest, slug: str) -> HttpResponse:
    community = selectors.community_for_coordinator_get(user=request.user, slug=slug)
    action = request.POST.get("action") if request.method == "POST" else None
    form = CommunitySettingsForm(
        request.POST if action == "settings" else None, community=community, prefix="settings"
    )
    area_form = AreaForm(request.POST if action == "area" else None, prefix="area")
    if action == "settings" and form.is_valid():
        try:
            services.community_update(
                actor=request.user, community=community, **form.service_values()
            )
        except DomainError as error:
            error.show_on(form)
        else:
            messages.success(request, _("The settings have been saved."))
            return redirect("accounts:community_settings", slug=slug)
    elif action == "area" and area_form.is_valid():
        try:
            services.area_create(
                actor=request.user, community=community, name=area_form.cleaned_data["name"]
            )
        except DomainError as error:
            error.show_on(area_form)
        else:
            messages.success(request, _("The area has been added."))
            return redirect("accounts:community_settings", slug=slug)
    return render(
        request,
        "accounts/community_settings.html",
        {
            "community": community,
            "form": form,
            "area_form": area_form,
            "areas": community.areas.all(),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def audit_log(request: HttpRequest, slug: str) -> HttpResponse:
    """What coordinators and site administrators did in the community, newest
    first, for its coordinators: filtered by action and by person, 50 a page."""
    community = selectors.community_for_coordinator_get(user=request.user, slug=slug)
    action = request.GET.get("action", "")
    if action not in AuditAction.values:
        action = ""
    actors = list(selectors.audit_actors(community=community))
    actor = next((a for a in actors if str(a.pk) == request.GET.get("actor", "")), None)
    entries = selectors.audit_entries(community=community, action=action or None, actor=actor)
    page = Paginator(entries, selectors.AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    filters = {"action": action, "actor": actor.pk if actor else ""}
    return render(
        request,
        "accounts/audit_log.html",
        {
            "community": community,
            "page": page,
            "lines": selectors.audit_lines(community=community, entries=page.object_list),
            "actions": AuditAction.choices,
            "action": action,
            "actors": actors,
            "actor": actor,
            "filter_query": urlencode({k: v for k, v in filters.items() if v}),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def community_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        raise PermissionDenied(_("Only an administrator of this site can start a new community."))
    selectors.two_factor_check(user=request.user)
    form = CommunityCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = form.service_values()
        try:
            community = services.community_create(actor=request.user, **values)
        except DomainError as error:
            error.show_on(form)
        else:
            messages.success(request, _("%(name)s has been created.") % {"name": community.name})
            return redirect("accounts:community_detail", slug=community.slug)
    return render(
        request,
        "accounts/community_create.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def observer_overview(request: HttpRequest) -> HttpResponse:
    selectors.observer_check(
        user=request.user, message=_("This overview is for the municipality's observers.")
    )
    return render(
        request,
        "accounts/observer_overview.html",
        {
            "aggregates": selectors.observer_overview(),
            "threshold": selectors.SMALL_CELL_THRESHOLD,
        },
    )


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; a signed-in person's choice also sets the
    language of the mail they get."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.user_language_set(user=request.user, language=language)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    """The inbox, newest first; opening it marks everything read. Below it, the
    choice of mail per kind of notification."""
    if request.method == "POST":
        for kind, _label in notification_kinds_for(user=request.user):
            notification_preference_set(
                user=request.user, kind=kind, channel=request.POST.get(f"channel-{kind}", "")
            )
        messages.success(request, _("Your choices are saved."))
        return redirect("accounts:notifications")
    # A coordinator's notices wait for the role's two-factor authentication.
    hidden = set() if selectors.user_has_two_factor(user=request.user) else COORDINATOR_KINDS
    page = Paginator(selectors.notifications_of(user=request.user, hide_kinds=hidden), 30).get_page(
        request.GET.get("page")
    )
    unread = {n.pk for n in page.object_list if n.read_at is None}
    notifications_mark_read(user=request.user)
    kinds = [
        (kind, label, notification_channel(user=request.user, kind=kind))
        for kind, label in notification_kinds_for(user=request.user)
    ]
    return render(
        request,
        "accounts/notifications.html",
        {
            "page": page,
            "unread": unread,
            "kinds": kinds,
            "channels": NotificationChannel.choices,
            "unread_notifications": 0,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The person's personal access tokens for the API, and a form for a new one.
    A new token's secret is shown once, in the answer to the form, and never again."""
    form = ApiTokenForm(request.POST or None)
    secret = None
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            new_token, secret = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"]
            )
        except DomainError as error:
            error.show_on(form)
        else:
            form = ApiTokenForm()
    response = render(
        request,
        "accounts/api_tokens.html",
        {
            "form": form,
            "tokens": selectors.api_tokens_of(user=request.user),
            "new_token": new_token,
            "secret": secret,
        },
    )
    # The page can carry a secret: keep it out of every cache and the browser's history.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = services.api_token_revoke(user=request.user, token_id=token_id)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        message = _("The token “%(name)s” is revoked. It no longer works.")
        messages.success(request, message % {"name": token.name})
    return redirect("accounts:api_tokens")
