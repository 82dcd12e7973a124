"""Personal access tokens on the API: ``Authorization: Bearer rk_...``.

A request with such a header is the token's person, without a session and so
without a CSRF token (a script cannot be tricked into sending a header it does
not know). An unknown or revoked token is refused with a 401 and the stable
code ``invalid_token``; it never falls back to the session.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts import selectors, services
from accounts.models import ApiToken, User

KEYWORD = b"bearer"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the token as 'Authorization: Bearer <token>', with nothing else."),
                code="invalid_token",
            )
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            secret = ""
        token = selectors.api_token_for_secret_get(secret=secret) if secret else None
        if token is None:
            raise exceptions.AuthenticationFailed(
                _("This token is unknown or has been revoked."), code="invalid_token"
            )
        services.api_token_mark_used(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": str(
                _("A personal access token (rk_...), made on your account's token page.")
            ),
        }
