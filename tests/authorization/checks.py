"""Judging one answer: its status against the expected outcome, that a refusal
changed nothing, that a hidden circle looks like no circle at all, and that
nothing private leaks into what a person reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import connection
from django.urls import reverse
from psycopg import sql

from tests.authorization.rules import Outcome

ALLOWED_CHANGES = frozenset({200, 201, 204, 302, 400, 409, 422})
REFUSED_CHANGES = frozenset({302, 400, 403, 404, 409, 422})


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    content_type: str
    text: str
    changed: bool | None  # None: not compared (an allowed request may change things)


# Every table of every installed app but the sessions, as one hash: a refused
# request must leave all of them as they were.
@cache
def _fingerprint_sql() -> sql.Composed:
    models = [
        model
        for model in apps.get_models()
        if model is not Session and not model._meta.proxy and model._meta.managed
    ]
    return sql.SQL("SELECT {}").format(
        sql.SQL(" || ").join(
            sql.SQL(
                "(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t)"
            ).format(sql.Identifier(model._meta.db_table))
            for model in models
        )
    )


def fingerprint() -> str:
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql())
        return cursor.fetchone()[0]


def _login_path(location: str) -> str:
    return urlsplit(location).path


def verdict(
    *, outcome: Outcome, method: str, api: bool, signed_in: bool, answer: Answer
) -> str | None:
    """What is wrong with ``answer`` for ``outcome``; None when it is right."""
    status, write = answer.status, method != "GET"
    if status >= 500:
        return f"server error {status}"
    login = reverse("account_login")
    if signed_in and status == 302 and _login_path(answer.location).startswith(login):
        return f"{status}: sent to sign in although signed in ({answer.location})"
    if status == 405 and not api:
        # A page that takes no such method refuses it before reading anything.
        expected_ok = True
    elif outcome in (Outcome.OK, Outcome.OK_OR_REDIRECT, Outcome.OK_OR_ABSENT):
        if write:
            expected_ok = status in ALLOWED_CHANGES
        else:
            expected_ok = status == 200 or (outcome is not Outcome.OK and status == 302)
        if outcome is Outcome.OK_OR_ABSENT:
            expected_ok = expected_ok or status == 404
    elif outcome is Outcome.LOGIN:
        if api:
            expected_ok = status == 401
        else:
            expected_ok = status == 302 and _login_path(answer.location).startswith(login)
    elif outcome is Outcome.ADMIN_LOGIN:
        # The admin's sign-in, or its index, which sends there (after signing out).
        admin_login, admin_index = reverse("admin:login"), reverse("admin:index")
        target = _login_path(answer.location)
        expected_ok = status == 302 and (target.startswith(admin_login) or target == admin_index)
    elif outcome in (Outcome.HIDDEN, Outcome.ABSENT):
        expected_ok = status == 404
    elif outcome is Outcome.DENIED:
        expected_ok = status == 403
    else:  # NOT_YOURS
        if write:
            expected_ok = status in REFUSED_CHANGES and not (api and status == 302)
        else:
            expected_ok = status in (403, 404)
    if not expected_ok:
        where = f" to {answer.location}" if answer.location else ""
        return f"{status}{where}, expected {outcome.value}"
    if answer.changed:
        return f"{status}, expected {outcome.value}, but the data changed"
    return None


_VARYING = [
    # A fresh CSRF token in every form, and a fresh nonce for every script.
    re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*'),
    re.compile(r'(nonce=")[^"]*'),
]


def normalized(text: str, *, path: str) -> str:
    """The answer without what differs between two requests for two addresses:
    the address itself (the language form sends you back to it) and the tokens."""
    text = text.replace(path, "{path}")
    for pattern in _VARYING:
        text = pattern.sub(r"\1…", text)
    return text


def leaks(text: str, *, secrets: list[str], numbers: list[int], json: bool) -> list[str]:
    """The secrets that appear in ``text``; numbers only count in a JSON answer."""
    found = [secret for secret in secrets if secret and secret in text]
    if json:
        found += [
            str(number)
            for number in numbers
            if re.search(rf"(?<![\w.\-]){re.escape(str(number))}(?![\w.])", text)
        ]
    return found
