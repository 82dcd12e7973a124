"""The coordinators' signal pages: the list, one signal with its history and
next steps, and the circle's thresholds. Thin: ``reciprocity.flags`` reads,
``reciprocity.services`` writes, and a refusal is shown with the service's
words (400) while nothing changes. Members get 403, anyone else 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import selectors as account_selectors
from accounts.selectors import coordinators_acting
from reciprocity import services
from reciprocity.flag_forms import FlagFilterForm, FlagStepForm, ReciprocitySettingsForm
from reciprocity.flags import (
    THRESHOLD_SPECS,
    flag_numbers_display,
    flag_of_community_get,
    flags_of_community,
)
from reciprocity.models import Flag, FlagStatus
from reciprocity.transitions import FlagActor, flag_targets
from ruilkring.errors import DomainError

PAGE_SIZE = 50
# Utrecht status badge variants; the label always says the status in words.
BADGES = {
    FlagStatus.OPEN: "warning",
    FlagStatus.ASSIGNED: "info",
    FlagStatus.CONTACTED: "info",
    FlagStatus.SNOOZED: "neutral",
    FlagStatus.RESOLVED: "success",
}


def _coordinated(request: HttpRequest, slug: str):
    return account_selectors.community_for_coordinator_get(user=request.user, slug=slug)


@login_required
@require_safe
def flag_list(request: HttpRequest, slug: str) -> HttpResponse:
    community = _coordinated(request, slug)
    form = FlagFilterForm(request.GET or None)
    status, kind = "", ""
    if form.is_valid():
        status, kind = form.cleaned_data["status"], form.cleaned_data["kind"]
    page = Paginator(
        flags_of_community(community=community, status=status, kind=kind), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    language = translation.get_language()
    return render(
        request,
        "reciprocity/flag_list.html",
        {
            "community": community,
            "form": form,
            "page": page,
            "rows": [
                (flag, flag.sentence(language), BADGES[flag.status]) for flag in page.object_list
            ],
            "query": _filter_query(status, kind),
        },
        status=200 if form.is_valid() or not request.GET else 400,
    )


def _filter_query(status: str, kind: str) -> str:
    parts = [f"status={status}" if status else "", f"kind={kind}" if kind else ""]
    return "&".join(part for part in parts if part)


@dataclass(frozen=True)
class FlagAction:
    status: str
    label: str


def _actions(flag: Flag) -> list[FlagAction]:
    """The steps a coordinator can take now, in the order people expect."""
    labels = {
        FlagStatus.ASSIGNED: _("Hand it to a coordinator")
        if flag.status == FlagStatus.ASSIGNED
        else _("Assign to a coordinator"),
        FlagStatus.CONTACTED: _("I talked with them"),
        FlagStatus.SNOOZED: _("Look at it again later"),
        FlagStatus.OPEN: _("Put it back on the list now"),
        FlagStatus.RESOLVED: _("Resolve"),
    }
    allowed = flag_targets(from_status=flag.status, actor=FlagActor.COORDINATOR)
    return [FlagAction(status, labels[status]) for status in labels if status in allowed]


def _detail(request: HttpRequest, community, flag: Flag, *, error: str = "", status: int = 200):
    return render(
        request,
        "reciprocity/flag_detail.html",
        {
            "community": community,
            "flag": flag,
            "sentence": flag.sentence(translation.get_language()),
            "badge": BADGES[flag.status],
            "numbers": flag_numbers_display(community=community, numbers=flag.numbers),
            "events": flag.events.select_related("actor"),
            "actions": _actions(flag),
            "coordinators": coordinators_acting(community=community),
            "tomorrow": timezone.localdate() + timedelta(days=1),
            "error": error,
            "posted": request.POST if error else {},
        },
        status=status,
    )


@login_required
@require_safe
def flag_detail(request: HttpRequest, slug: str, flag_id: int) -> HttpResponse:
    community = _coordinated(request, slug)
    flag = flag_of_community_get(community=community, flag_id=flag_id)
    return _detail(request, community, flag)


@login_required
@require_POST
def flag_step(request: HttpRequest, slug: str, flag_id: int) -> HttpResponse:
    community = _coordinated(request, slug)
    flag = flag_of_community_get(community=community, flag_id=flag_id)
    form = FlagStepForm(request.POST, community=community)
    if not form.is_valid():
        problems = " ".join(" ".join(errors) for errors in form.errors.values())
        return _detail(request, community, flag, error=problems, status=400)
    data = form.cleaned_data
    try:
        changed = services.flag_step(
            actor=request.user,
            flag=flag,
            to_status=data["status"],
            note=data["note"],
            assignee=data["assignee"],
            snoozed_until=data["snoozed_until"],
            outcome=data["outcome"],
        )
    except DomainError as error:
        flag.refresh_from_db()
        return _detail(request, community, flag, error=str(error), status=400)
    messages.success(
        request, _("The signal is now “%(status)s”.") % {"status": changed.get_status_display()}
    )
    return redirect("reciprocity:flag_detail", slug=slug, flag_id=flag.pk)


@login_required
@require_http_methods(["GET", "POST"])
def flag_settings(request: HttpRequest, slug: str) -> HttpResponse:
    community = _coordinated(request, slug)
    form = ReciprocitySettingsForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            services.reciprocity_settings_set(
                actor=request.user,
                community=community,
                window_days=form.cleaned_data["window_days"],
                thresholds=form.thresholds(),
            )
        except DomainError as error:
            error.show_on(form)
        else:
            messages.success(
                request,
                _("The settings have been saved. The next analysis uses them."),
            )
            return redirect("reciprocity:flag_settings", slug=slug)
    return render(
        request,
        "reciprocity/settings.html",
        {"community": community, "form": form, "specs": THRESHOLD_SPECS},
        status=400 if request.method == "POST" else 200,
    )
