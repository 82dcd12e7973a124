"""The OpenAPI description of the API (drf-spectacular), in one place.

- ``AutoSchema`` names things after the views, so a new endpoint needs no extra
  naming: a view's nested ``OutputSerializer`` becomes the component
  ``<View>Output``, its operation id is ``<view>_<method>``, and its tag is the
  app it lives in. A view's nested ``InputSerializer`` is its request body.
- ``ProblemSerializer`` describes every error body (``ruilkring.api_errors``).
- ``problems()``, ``SLUG`` and ``IDEMPOTENCY_KEY`` are what the views attach
  with ``extend_schema``.
- ``QuerySerializer`` is the base of a view's nested ``FilterSerializer``: its
  fields are the documented query parameters, and it reads them strictly.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

from ledger.services import CLIENT_KEY_PATTERN
from ruilkring.api_errors import PROBLEM_JSON


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        # "ChequeBatchApi.InputSerializer.LineSerializer" -> "ChequeBatchInputLine": the
        # views all nest classes called InputSerializer and OutputSerializer.
        parts = type(serializer).__qualname__.split(".")
        return "".join(re.sub(r"(Api|Serializer)$", "", part.lstrip("_")) for part in parts)

    def get_request_serializer(self):
        # A view's nested InputSerializer is what it reads, also in a subclass
        # that extends it; extend_schema(request=...) still takes precedence.
        if self.method in ("POST", "PUT", "PATCH") and hasattr(self.view, "InputSerializer"):
            return self.view.InputSerializer
        return super().get_request_serializer()

    def get_operation_id(self) -> str:
        name = re.sub(r"Api$", "", type(self.view).__name__)
        return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() + "_" + self.method.lower()

    def get_tags(self) -> list[str]:
        return [type(self.view).__module__.split(".")[0]]


@extend_schema_serializer(component_name="Problem")
class ProblemSerializer(serializers.Serializer):
    """An error (RFC 9457, ``application/problem+json``). Nothing was changed."""

    type = serializers.CharField(help_text=_("Always about:blank; `code` says what went wrong."))
    title = serializers.CharField(help_text=_("The HTTP status in words."))
    status = serializers.IntegerField(help_text=_("The HTTP status code."))
    code = serializers.CharField(
        help_text=_(
            "A stable code to act on, for example not_authenticated, invalid_token, "
            "invalid, not_found, limit_exceeded or idempotency_key_reused."
        )
    )
    detail = serializers.CharField(help_text=_("What went wrong, in the request's language."))
    field = serializers.CharField(
        required=False, help_text=_("The input field or header the error is about, if one.")
    )
    errors = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=_(
            "With code invalid: the messages per input field (a list of texts, or for "
            "nested input the same shape again)."
        ),
    )


class QuerySerializer(serializers.Serializer):
    """Reads ``request.query_params`` as documented: one value per name, each
    checked by its field, so a mistyped filter is refused (400) instead of
    silently ignored. An empty value is a value: ``?page=`` is not a page."""

    def to_internal_value(self, data):
        if hasattr(data, "lists"):
            repeated = {
                name: [_("Give this parameter only once.")]
                for name, values in data.lists()
                if name in self.fields and len(values) > 1
            }
            if repeated:
                raise serializers.ValidationError(repeated)
            data = data.dict()
        return super().to_internal_value(data)


PROBLEM_DESCRIPTIONS = {
    400: _("The input is invalid: see `errors` per field, or `field`."),
    401: _("Not signed in, or the token is unknown or revoked (code invalid_token)."),
    403: _("Not allowed: you have no account in this circle, or only a coordinator may."),
    404: _("It does not exist in this community, or you may not see it."),
    409: _("Its current state does not allow this step."),
    422: _("Refused: a limit or a member's status, or the Idempotency-Key was reused."),
}


def problems(*statuses: int) -> dict:
    """The error responses of an operation, as ``extend_schema(responses=...)`` entries.
    401 is always among them: every endpoint needs a signed-in person."""
    return {
        (code, PROBLEM_JSON): OpenApiResponse(
            ProblemSerializer, description=str(PROBLEM_DESCRIPTIONS[code])
        )
        for code in sorted({401, *statuses})
    }


SLUG = OpenApiParameter(
    "slug",
    str,
    OpenApiParameter.PATH,
    description=_("The circle's short name, as in its address (for example niksen)."),
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    pattern=f"^{CLIENT_KEY_PATTERN.pattern}$",
    description=_(
        "A unique value per request, for example a UUID version 7. Sending the same "
        "request again with the same key returns the original (200 instead of 201); "
        "the same key with a different request is refused (422)."
    ),
)


def path_id(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, int, OpenApiParameter.PATH, description=description)
