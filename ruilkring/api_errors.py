"""The one place where errors become API responses: ``application/problem+json``
bodies with the HTTP ``status``, a stable ``code`` and a readable ``detail``."""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ruilkring.errors import (
    DomainError,
    IdempotencyKeyReused,
    InvalidInput,
    NotAllowed,
    NotFound,
    PaymentRefused,
    TransitionNotAllowed,
)

PROBLEM_JSON = "application/problem+json"
STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    NotAllowed: status.HTTP_403_FORBIDDEN,
    InvalidInput: status.HTTP_400_BAD_REQUEST,
    TransitionNotAllowed: status.HTTP_409_CONFLICT,
    PaymentRefused: status.HTTP_422_UNPROCESSABLE_ENTITY,
    IdempotencyKeyReused: status.HTTP_422_UNPROCESSABLE_ENTITY,
}


def _problem(http_status: int) -> dict:
    # No problem-type URIs of our own: "about:blank" means the HTTP status says
    # it, and the stable ``code`` says which error it is.
    return {"type": "about:blank", "title": HTTPStatus(http_status).phrase, "status": http_status}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        http_status = next(
            (code for kind, code in STATUS_BY_ERROR.items() if isinstance(exc, kind)),
            status.HTTP_400_BAD_REQUEST,
        )
        body = {**_problem(http_status), "code": exc.code, "detail": str(exc)}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=http_status, content_type=PROBLEM_JSON)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    body = {**_problem(response.status_code), "code": exc.default_code}
    if isinstance(exc, exceptions.ValidationError):
        body["detail"] = str(exceptions.ValidationError.default_detail)
        body["errors"] = response.data
    else:
        body["detail"] = str(exc.detail)
        body["code"] = getattr(exc.detail, "code", None) or exc.default_code
    response.data = body
    response.content_type = PROBLEM_JSON
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 (``handler404``): an address under /api/ that no endpoint
    answers, such as an id that is not a number, gets a problem like every
    other API error; any other address gets the page."""
    if not request.path_info.startswith("/api/"):
        return defaults.page_not_found(request, exception)
    body = {
        **_problem(status.HTTP_404_NOT_FOUND),
        "code": "not_found",
        "detail": _("There is nothing at this address in the API; see /api/docs/."),
    }
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND, content_type=PROBLEM_JSON)
