"""The domain's exceptions, one small hierarchy for every app.

Services raise these with a message a person can read, in the active language.
Views show the message and change nothing; the API maps each class to one HTTP
status and a stable ``code`` in ``ruilkring.api_errors``.
"""

from __future__ import annotations

from django.utils.functional import Promise


class DomainError(Exception):
    """Something a person asked for that cannot be done. Nothing was changed."""

    code = "domain_error"

    def __init__(
        self, message: str | Promise, *, code: str | None = None, field: str | None = None
    ):
        super().__init__(str(message))
        self.message = message
        if code is not None:
            self.code = code
        self.field = field

    def __str__(self) -> str:
        return str(self.message)

    def show_on(self, form) -> None:
        """Put the message on the form: on its field when the form has it, else at the top."""
        form.add_error(self.field if self.field in form.fields else None, str(self))


class InvalidInput(DomainError):
    """The request is malformed or a value is out of range."""

    code = "invalid"


class NotAllowed(DomainError):
    """The actor may not do this (for example a member trying a coordinator step)."""

    code = "not_allowed"


class TwoFactorRequired(NotAllowed):
    """The actor holds the role, but has not set up two-factor authentication yet.

    Coordinators, municipality observers and site administrators use their role
    only with an authenticator app; pages answer with a page that explains how
    to set it up, the API with a 403 and this code.
    """

    code = "two_factor_required"


class TransitionNotAllowed(DomainError):
    """The object's current state does not allow the requested step."""

    code = "transition_not_allowed"


class NotFound(DomainError):
    """The object does not exist, or is outside the actor's communities.

    Both cases look the same from outside, so nobody learns what exists in a
    community they do not belong to.
    """

    code = "not_found"


class PaymentRefused(DomainError):
    """A transfer the ledger will not make: a limit, a member's status, or the accounts.

    The message says why, with the amounts, and what would unblock it. The
    ``code`` says which rule refused it (for example ``limit_exceeded``).
    """

    code = "payment_refused"


class IdempotencyKeyReused(DomainError):
    """The idempotency key was used before for a different request."""

    code = "idempotency_key_reused"
