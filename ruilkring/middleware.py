from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import render

from ruilkring.errors import NotAllowed, NotFound, TwoFactorRequired


class DomainErrorMiddleware:
    """Turns a domain error that escaped a page view into Django's 404 or 403 page.

    Views handle the errors a person can fix (showing them on the form); this is
    the one place where "not yours" and "not allowed" become HTTP statuses for pages.
    Another community's data is always 404, never 403.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, NotFound):
            raise Http404(str(exception)) from exception
        if isinstance(exception, TwoFactorRequired):
            return render(
                request,
                "accounts/two_factor_required.html",
                {"message": str(exception), "two_factor_page": True},
                status=403,
            )
        if isinstance(exception, NotAllowed):
            raise PermissionDenied(str(exception)) from exception
        return None
