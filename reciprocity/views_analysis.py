"""The coordinator's "analyse now" page: the latest runs, and a button.

Thin: ``reciprocity.services.analysis_request`` starts a run. While one waits
or runs, the page refreshes itself every few seconds (a meta refresh, so it
works without JavaScript). Members get 403, anyone else 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import selectors as account_selectors
from reciprocity import services
from reciprocity.models import AnalysisRun, RunStatus

RUNS_SHOWN = 10
REFRESH_SECONDS = 3


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def analysis(request: HttpRequest, slug: str) -> HttpResponse:
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    if request.method == "POST":
        run = services.analysis_request(actor=request.user, community=community)
        if run.requested_by_id == request.user.pk and run.status == RunStatus.QUEUED:
            messages.success(request, _("The analysis has started."))
        else:
            messages.info(request, _("An analysis is already running; this page follows it."))
        return redirect("reciprocity:analysis", slug=community.slug)
    runs = list(
        AnalysisRun.objects.filter(community=community)
        .select_related("requested_by")
        .order_by("-created_at", "-pk")[:RUNS_SHOWN]
    )
    current = next(
        (run for run in runs if run.status in (RunStatus.QUEUED, RunStatus.RUNNING)), None
    )
    return render(
        request,
        "reciprocity/analysis.html",
        {
            "community": community,
            "runs": runs,
            "current": current,
            "refresh_seconds": REFRESH_SECONDS,
        },
    )
