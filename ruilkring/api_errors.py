"""The one place where errors become API responses: ``application/problem+json``
bodies with the HTTP ``status``, a stable ``code`` and a readable ``detail``."""

from __future__ import annotations

from http import HTTPStatus

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
