"""Privacy pages: the privacy statement, "My data" (a copy of your data, or
erasing it), and a coordinator's rule for leaving members' balances.

Thin: selectors read, services write, and a refusal is shown on the page with
the service's own words. "My data" follows an export under way without
JavaScript and without refreshing itself (our accessibility rules forbid a
meta refresh): it offers a link that reloads it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import selectors as account_selectors
from privacy import selectors, services
from privacy.forms import ErasureConfirmForm, PrivacySettingsForm
from privacy.models import ExportStatus
from privacy.statement import privacy_statement_get
from ruilkring.errors import DomainError


@require_safe
def statement(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/statement.html", {"statement": privacy_statement_get()})


def _private(response: HttpResponse) -> HttpResponse:
    """A page or file with a person's own data: kept out of every shared cache."""
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
def my_data(request: HttpRequest) -> HttpResponse:
    export = selectors.data_export_latest(user=request.user)
    return _private(
        render(
            request,
            "privacy/my_data.html",
            {"export": export, "export_days": privacy_statement_get().export_days},
        )
    )


@login_required
@require_POST
def export_request(request: HttpRequest) -> HttpResponse:
    previous = selectors.data_export_latest(user=request.user)
    export = services.data_export_request(user=request.user)
    if previous is not None and previous.pk == export.pk:
        messages.info(
            request, _("A copy of your data is already being made; this page follows it.")
        )
    else:
        messages.success(
            request, _("A copy of your data is being made. It usually takes less than a minute.")
        )
    return redirect("privacy:my_data")


def _expired_page(request: HttpRequest, export) -> HttpResponse:
    return _private(render(request, "privacy/export_expired.html", {"export": export}, status=410))


def _expired(export) -> bool:
    return export.status == ExportStatus.EXPIRED or (
        export.status == ExportStatus.READY and export.expires_at <= timezone.now()
    )


@login_required
@require_safe
def export_download(request: HttpRequest, export_id: int) -> HttpResponse:
    """The zip file, for its owner only (anyone else: 404), while the link lasts (then 410)."""
    export = selectors.data_export_of_user_get(user=request.user, export_id=export_id)
    if _expired(export):
        return _expired_page(request, export)
    if export.status != ExportStatus.READY:
        messages.info(request, _("This copy of your data is not ready to download."))
        return redirect("privacy:my_data")
    try:
        file = default_storage.open(export.file.name, "rb")
    except OSError:
        # The file is gone before its time (a storage cleaned by hand): as expired.
        return _expired_page(request, export)
    made_on = timezone.localtime(export.finished_at).date().isoformat()
    response = FileResponse(
        file,
        as_attachment=True,
        filename=f"ruilkring-data-{made_on}.zip",
        content_type="application/zip",
    )
    return _private(response)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def erase(request: HttpRequest) -> HttpResponse:
    form = ErasureConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_erase(actor=request.user, user=request.user)
        except DomainError as error:
            error.show_on(form)
        else:
            logout(request)
            return redirect("privacy:erased")
    return _private(
        render(
            request,
            "privacy/erase.html",
            {"form": form, "plan": selectors.erasure_plan(user=request.user)},
            status=400 if request.method == "POST" else 200,
        )
    )


@require_safe
def erased(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/erased.html")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def community_privacy_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """Where the balance of a member who erases their data goes."""
    community = account_selectors.community_for_coordinator_get(user=request.user, slug=slug)
    current = selectors.privacy_settings_of(community=community)
    form = PrivacySettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"settle_into": current.settle_into},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.privacy_settings_set(
                actor=request.user,
                community=community,
                settle_into=form.cleaned_data["settle_into"],
            )
        except DomainError as error:
            error.show_on(form)
        else:
            messages.success(request, _("The settings have been saved."))
            return redirect("privacy:settings", slug=community.slug)
    return render(
        request,
        "privacy/settings.html",
        {"community": community, "form": form},
        status=400 if request.method == "POST" else 200,
    )
