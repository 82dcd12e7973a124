"""Who may open the Django admin: site administrators with two-factor authentication.

The admin's own login form is never shown. Signing in goes through the site's
sign-in (django-allauth), which asks for the authenticator code after the
password; the admin then only checks that the person is an active superuser
who has set up two-factor authentication. Staff status alone opens nothing.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from accounts import selectors


def may_use_admin(request: HttpRequest) -> bool:
    user = request.user
    return (
        user.is_authenticated
        and user.is_active
        and user.is_superuser
        and selectors.user_has_two_factor(user=user)
    )


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """Where the admin sends someone it does not let in."""
    next_url = request.GET.get(REDIRECT_FIELD_NAME) or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    next_url = next_url or reverse("admin:index")
    if not request.user.is_authenticated:
        login_url = resolve_url("account_login")
        return HttpResponseRedirect(f"{login_url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")
    if not (request.user.is_active and request.user.is_superuser):
        raise PermissionDenied(_("The administration is only for the site's administrators."))
    selectors.two_factor_check(user=request.user)
    return HttpResponseRedirect(next_url)


def install() -> None:
    admin.site.has_permission = may_use_admin
    admin.site.login = admin_login
