"""What every address is, and what each kind of person must get there.

``CLASSIFICATION`` names the kind of every address (by its URL name, per method
where the methods differ); ``RULES`` says, per kind and standing, which outcome
is right. A new address that is not in ``CLASSIFICATION`` fails the matrix until
someone decides what it is.

The parameters of every address are filled with objects of circle A that
belong to none of the actors (``circles``): the helper's membership, account,
offer, exchange and so on.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable

from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory

from accounts.models import User
from tests.authorization.actors import OWNER_KEY, Actor, Standing, standing
from tests.authorization.circles import Circle, World, admin_object_id
from tests.authorization.endpoints import Endpoint


class Access(enum.Enum):
    """Who an address is for."""

    # Anyone, signed in or not: the welcome, signing in, the API's description.
    PUBLIC = "public"
    # Anyone signed in, about themselves: their circles, inbox, tokens and sign-in
    # settings. Sign-in settings may first ask to confirm the password (a redirect).
    ACCOUNT = "account"
    # One person's own object (an API token, a copy of their data): only they may use it.
    OWN_OBJECT = "own object"
    # A circle's shared pages: its members, coordinators and the site's administrator.
    COMMUNITY = "community"
    # A member's own place in the circle (account, listings, exchanges): members and
    # coordinators; the administrator has no account there.
    MEMBERSHIP = "membership"
    # Someone else's exchange, payment request or listing: its members (none of the
    # actors), the circle's coordinators and the site's administrator.
    PARTIES = "parties"
    # As PARTIES, through the API, which only members of the circle use: the
    # administrator, a member of none, is refused.
    MEMBER_PARTIES = "member parties"
    # A step only one of the members involved may take (thanking for help received).
    PARTY_ONLY = "party only"
    # A circle's coordinator pages (and the administrator).
    COORDINATOR = "coordinator"
    # The municipality's aggregated figures: observers and the administrator.
    OBSERVER = "observer"
    # Starting a new circle: the site's administrator only.
    SITE_ADMIN = "site admin"
    # The Django admin: the administrator only; everyone else is sent to its sign-in.
    ADMIN = "admin"
    # The admin's sign-in, which sends people to the site's sign-in: signed in,
    # only the administrator gets through.
    ADMIN_SIGN_IN = "admin sign-in"
    # Admin addresses that lead nowhere (a catch-all, "view on site" for models
    # without a page): 404 for the administrator too.
    ADMIN_ABSENT = "admin absent"
    # One's own authenticator app or recovery codes: 404 for someone who has none.
    TWO_FACTOR = "own two-factor"
    # A link from a mail with a made-up key: 404 for everyone.
    UNKNOWN_KEY = "unknown key"


class Outcome(enum.Enum):
    """What a person must get."""

    # The person may: GET answers 200; a change is done, or refused as invalid.
    OK = "allowed"
    # As OK, and a GET may also redirect (sign-in pages of someone signed in,
    # confirming the password before security settings).
    OK_OR_REDIRECT = "allowed, or redirected"
    # Sent to sign in: the sign-in page for pages, 401 for the API.
    LOGIN = "sent to sign in"
    # Sent to the admin's sign-in page.
    ADMIN_LOGIN = "sent to the admin's sign-in"
    # 404, exactly as for a circle that does not exist.
    HIDDEN = "hidden (404)"
    # 403.
    DENIED = "denied (403)"
    # Someone else's object in a circle the person can see: 403 or 404, or a
    # change refused with a message; never read, never changed.
    NOT_YOURS = "not theirs"
    # 404 for everyone who may look.
    ABSENT = "absent (404)"
    # As OK_OR_REDIRECT, or 404 when the person has none of what the page is about.
    OK_OR_ABSENT = "allowed, or absent when they have none"


A, S = Access, Standing
_SIGNED_IN = (S.OUTSIDER, S.OBSERVER, S.MEMBER, S.COORDINATOR, S.SUPERUSER)
_EVERYONE = (S.ANONYMOUS, *_SIGNED_IN)


def _row(default: Outcome, **per_standing: Outcome) -> dict[Standing, Outcome]:
    row = dict.fromkeys(_EVERYONE, default)
    row.update({Standing[name.upper()]: outcome for name, outcome in per_standing.items()})
    return row


_CIRCLE = {"anonymous": Outcome.LOGIN, "outsider": Outcome.HIDDEN, "observer": Outcome.HIDDEN}

# Per kind of address: the outcome for everyone, then the standings that differ.
RULES: dict[Access, dict[Standing, Outcome]] = {
    A.PUBLIC: _row(Outcome.OK_OR_REDIRECT),
    A.ACCOUNT: _row(Outcome.OK_OR_REDIRECT, anonymous=Outcome.LOGIN),
    A.OWN_OBJECT: _row(Outcome.NOT_YOURS, anonymous=Outcome.LOGIN, owner=Outcome.OK),
    A.COMMUNITY: _row(Outcome.OK, **_CIRCLE),
    A.MEMBERSHIP: _row(Outcome.OK, **_CIRCLE, superuser=Outcome.NOT_YOURS),
    A.PARTIES: _row(Outcome.OK, **_CIRCLE, member=Outcome.NOT_YOURS),
    A.MEMBER_PARTIES: _row(
        Outcome.OK, **_CIRCLE, member=Outcome.NOT_YOURS, superuser=Outcome.NOT_YOURS
    ),
    A.PARTY_ONLY: _row(Outcome.NOT_YOURS, **_CIRCLE),
    A.COORDINATOR: _row(Outcome.OK, **_CIRCLE, member=Outcome.DENIED),
    A.OBSERVER: _row(
        Outcome.DENIED, anonymous=Outcome.LOGIN, observer=Outcome.OK, superuser=Outcome.OK
    ),
    A.SITE_ADMIN: _row(Outcome.DENIED, anonymous=Outcome.LOGIN, superuser=Outcome.OK),
    A.ADMIN: _row(Outcome.ADMIN_LOGIN, superuser=Outcome.OK_OR_REDIRECT),
    A.ADMIN_SIGN_IN: _row(
        Outcome.DENIED, anonymous=Outcome.LOGIN, superuser=Outcome.OK_OR_REDIRECT
    ),
    A.ADMIN_ABSENT: _row(Outcome.ADMIN_LOGIN, superuser=Outcome.ABSENT),
    A.TWO_FACTOR: _row(Outcome.OK_OR_ABSENT, anonymous=Outcome.LOGIN),
    A.UNKNOWN_KEY: _row(Outcome.ABSENT),
}

# Every address by its URL name ("namespace:name"; "<route>" for one without a
# name), with one Access, or one per method. "admin:*" covers the Django admin.
CLASSIFICATION: dict[str, Access | dict[str, Access]] = {
    # The site itself.
    "home": A.PUBLIC,
    "healthz": A.PUBLIC,
    "accessibility": A.PUBLIC,
    "set_language": A.PUBLIC,
    "api_schema": A.PUBLIC,
    "api_docs": A.PUBLIC,
    # Signing up, in and out, and getting back in (django-allauth).
    "account_login": A.PUBLIC,
    "account_logout": A.PUBLIC,
    "account_signup": A.PUBLIC,
    "account_inactive": A.PUBLIC,
    "account_email_verification_sent": A.PUBLIC,
    "account_confirm_email": {"GET": A.PUBLIC, "POST": A.UNKNOWN_KEY},
    "account_confirm_login_code": A.PUBLIC,
    "account_reset_password": A.PUBLIC,
    "account_reset_password_done": A.PUBLIC,
    "account_reset_password_from_key": A.PUBLIC,
    "account_reset_password_from_key_done": A.PUBLIC,
    "mfa_authenticate": A.PUBLIC,
    # One's own sign-in settings (django-allauth).
    "account_reauthenticate": A.ACCOUNT,
    "account_email": A.ACCOUNT,
    "account_change_password": A.ACCOUNT,
    "account_set_password": A.ACCOUNT,
    "mfa_index": A.ACCOUNT,
    "mfa_reauthenticate": A.ACCOUNT,
    "mfa_activate_totp": A.ACCOUNT,
    "mfa_deactivate_totp": A.TWO_FACTOR,
    "mfa_view_recovery_codes": A.TWO_FACTOR,
    "mfa_generate_recovery_codes": A.TWO_FACTOR,
    "mfa_download_recovery_codes": A.TWO_FACTOR,
    # accounts: people and circles.
    "accounts:my_communities": A.ACCOUNT,
    "accounts:notifications": A.ACCOUNT,
    "accounts:api_tokens": A.ACCOUNT,
    "accounts:api_token_revoke": A.OWN_OBJECT,
    "accounts:community_list": A.ACCOUNT,
    "accounts:community_apply": A.ACCOUNT,
    "accounts:community_create": A.SITE_ADMIN,
    # Everyone in the circle reads its page; leaving or pausing is one's own membership.
    "accounts:community_detail": {"GET": A.COMMUNITY, "POST": A.MEMBERSHIP},
    "accounts:member_list": A.COORDINATOR,
    "accounts:member_detail": A.COORDINATOR,
    "accounts:applications": A.COORDINATOR,
    "accounts:community_settings": A.COORDINATOR,
    "accounts:audit_log": A.COORDINATOR,
    "accounts:observer_overview": A.OBSERVER,
    "accounts_api:my_memberships": A.ACCOUNT,
    "accounts_api:audit_log": A.COORDINATOR,
    # ledger: money.
    "ledger:account": A.MEMBERSHIP,
    "ledger:statement_csv": A.MEMBERSHIP,
    "ledger:pay": A.MEMBERSHIP,
    "ledger:ask": A.MEMBERSHIP,
    "ledger:pot_give": A.MEMBERSHIP,
    "ledger:request_policy": A.MEMBERSHIP,
    "ledger:request_decide": A.PARTIES,
    "ledger:ledger_settings": A.COORDINATOR,
    "ledger:accounts_list": A.COORDINATOR,
    "ledger:account_detail": A.COORDINATOR,
    "ledger:account_statement_csv": A.COORDINATOR,
    "ledger:transfer_detail": A.COORDINATOR,
    "ledger:entry_new": A.COORDINATOR,
    "ledger:batch_new": A.COORDINATOR,
    "ledger_api:my_account": A.MEMBERSHIP,
    "ledger_api:my_statement": A.MEMBERSHIP,
    "ledger_api:payments": A.MEMBERSHIP,
    "ledger_api:pot_gifts": A.MEMBERSHIP,
    "ledger_api:payment_requests": A.MEMBERSHIP,
    "ledger_api:payment_request_decision": A.PARTIES,
    "ledger_api:accounts": A.COORDINATOR,
    "ledger_api:account_limits": A.COORDINATOR,
    "ledger_api:entries": A.COORDINATOR,
    "ledger_api:cheque_batches": A.COORDINATOR,
    "ledger_api:reversal": A.COORDINATOR,
    # listings: offers, requests and exchanges.
    "listings:list": A.COMMUNITY,
    "listings:detail": A.COMMUNITY,
    "listings:photo": A.COMMUNITY,
    "listings:mine": A.MEMBERSHIP,
    "listings:new": A.MEMBERSHIP,
    "listings:report": A.MEMBERSHIP,
    "listings:respond": A.MEMBERSHIP,
    "listings:exchanges": A.MEMBERSHIP,
    "listings:edit": A.PARTIES,
    "listings:status": A.PARTIES,
    "listings:exchange": A.PARTIES,
    "listings:exchange_step": A.PARTIES,
    "listings:exchange_message": A.PARTIES,
    "listings:exchange_thank": A.PARTY_ONLY,
    "listings:match": A.COORDINATOR,
    "listings:exchange_new": A.COORDINATOR,
    "listings:exchange_settings": A.COORDINATOR,
    "listings:moderation": A.COORDINATOR,
    "listings:report_handle": A.COORDINATOR,
    "listings_api:categories": A.MEMBERSHIP,
    "listings_api:listings": A.MEMBERSHIP,
    "listings_api:listing": {"GET": A.MEMBERSHIP, "PUT": A.MEMBER_PARTIES},
    "listings_api:listing_status": A.MEMBER_PARTIES,
    "listings_api:listing_report": A.MEMBERSHIP,
    "listings_api:listing_respond": A.MEMBERSHIP,
    "listings_api:exchanges": {"GET": A.MEMBERSHIP, "POST": A.COORDINATOR},
    "listings_api:exchange_settings": A.COORDINATOR,
    "listings_api:exchange": A.MEMBER_PARTIES,
    "listings_api:exchange_step": A.MEMBER_PARTIES,
    "listings_api:exchange_messages": A.MEMBER_PARTIES,
    "listings_api:exchange_thanks": A.PARTY_ONLY,
    # reciprocity: analytics and signals.
    "reciprocity:mine": A.MEMBERSHIP,
    "reciprocity:health": A.COORDINATOR,
    "reciprocity:flag_list": A.COORDINATOR,
    "reciprocity:flag_settings": A.COORDINATOR,
    "reciprocity:flag_detail": A.COORDINATOR,
    "reciprocity:flag_step": A.COORDINATOR,
    "reciprocity:analysis": A.COORDINATOR,
    "reciprocity:observer": A.OBSERVER,
    "reciprocity:observer_csv": A.OBSERVER,
    # privacy: the statement, one's own data, a circle's rule for leaving balances.
    "privacy:statement": A.PUBLIC,
    "privacy:erased": A.PUBLIC,
    "privacy:my_data": A.ACCOUNT,
    "privacy:export_request": A.ACCOUNT,
    "privacy:export_download": A.OWN_OBJECT,
    "privacy:erase": A.ACCOUNT,
    "privacy:settings": A.COORDINATOR,
    # The Django admin.
    "admin:login": A.ADMIN_SIGN_IN,
    "admin:view_on_site": A.ADMIN_ABSENT,
    "admin:<admin/(?P<url>.*)$>": A.ADMIN_ABSENT,
    "admin:*": A.ADMIN,
}


class Unclassified(LookupError):
    pass


def access_of(endpoint: Endpoint, method: str) -> Access:
    entry = CLASSIFICATION.get(endpoint.key)
    if entry is None and endpoint.key.startswith("admin:"):
        entry = CLASSIFICATION["admin:*"]
    if isinstance(entry, dict):
        entry = entry.get(method)
    if entry is None:
        raise Unclassified(
            f"{method} {endpoint.key} (/{endpoint.route}) is not in the authorization matrix: "
            "decide who it is for and add it to CLASSIFICATION in tests/authorization/rules.py."
        )
    return entry


_ADMIN_ACTION = re.compile(r"admin:\w+_(add|change|delete|history|changelist)$")
_ADMIN_MODEL_ROUTE = re.compile(r"admin/(?P<app_label>\w+)/(?P<model_name>\w+)/")


def admin_refuses(endpoint: Endpoint, method: str, user: User) -> bool:
    """Whether the admin refuses this to the administrator too: read-only models
    (the ledger's journal, the audit log) cannot be added to, changed or deleted
    there, and the autocomplete answers only the admin's own forms."""
    if endpoint.key == "admin:autocomplete":
        return True
    match = _ADMIN_ACTION.match(endpoint.key)
    place = _ADMIN_MODEL_ROUTE.match(endpoint.route)
    if match is None or place is None:
        return False
    model = apps.get_model(place["app_label"], place["model_name"])
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = user
    obj = None
    if "object_id" in endpoint.parameters:
        obj = model._default_manager.filter(pk=admin_object_id(endpoint.route)).first()
    action = match.group(1)
    if action == "add":
        return not model_admin.has_add_permission(request)
    if action == "delete":
        return not model_admin.has_delete_permission(request, obj)
    if action == "change" and method != "GET":
        return not model_admin.has_change_permission(request, obj)
    return not model_admin.has_view_or_change_permission(request, obj)


def outcome_for(
    endpoint: Endpoint, method: str, actor: Actor, user: User | None
) -> tuple[Access, Outcome]:
    """Who ``endpoint`` is for, and what ``actor`` (signed in as ``user``) must get."""
    access = access_of(endpoint, method)
    if access is Access.OWN_OBJECT and actor.key == OWNER_KEY:
        place = Standing.OWNER
    else:
        place = standing(actor, circle="a")
    outcome = RULES[access][place]
    in_admin = access is Access.ADMIN and place is Standing.SUPERUSER
    if in_admin and admin_refuses(endpoint, method, user):
        outcome = Outcome.DENIED
    return access, outcome


Body = Callable[[Circle, World], dict]

# What a request sends, per address and method, so that it reaches the check
# that matters (a step on the exchange, a decision on the request) instead of
# stopping at an empty form. Without an entry, a request sends nothing.
# Each request is rolled back, so an allowed one may do what it asks.
BODIES: dict[tuple[str, str], Body] = {
    ("accounts:community_detail", "POST"): lambda c, w: {"status": "leaving"},
    ("accounts:applications", "POST"): lambda c, w: {
        "membership": c.cast["applicant"].pk,
        "decision": "admit",
        "reason": "Welkom",
    },
    ("accounts:member_detail", "POST"): lambda c, w: {
        "action": "status",
        "status-status": "suspended",
        "status-reason": "Even pauze",
    },
    ("ledger:request_decide", "POST"): lambda c, w: {"decision": "rejected"},
    ("ledger:transfer_detail", "POST"): lambda c, w: {
        "reason": "Dubbel geboekt",
        "idempotency_key": "matrix-reversal",
    },
    ("listings:status", "POST"): lambda c, w: {"status": "removed", "note": "Hoort hier niet"},
    ("listings:report", "POST"): lambda c, w: {"reason": "Dit klopt niet"},
    ("listings:respond", "POST"): lambda c, w: {"description": "Ik help graag"},
    ("listings:match", "POST"): lambda c, w: {"provider": c.cast["helped"].pk},
    ("listings:exchange_step", "POST"): lambda c, w: {"status": "declined"},
    ("listings:exchange_message", "POST"): lambda c, w: {"body": "Hallo allebei"},
    ("listings:exchange_thank", "POST"): lambda c, w: {"body": "Dank je wel"},
    ("listings:report_handle", "POST"): lambda c, w: {},
    ("reciprocity:flag_step", "POST"): lambda c, w: {"status": "contacted", "note": "Gebeld"},
    ("ledger_api:payments", "POST"): lambda c, w: {
        "payee": c.cast["helper"].pk,
        "amount": 10,
        "memo": "Matrix",
    },
    ("ledger_api:pot_gifts", "POST"): lambda c, w: {"amount": 10, "memo": "Matrix"},
    ("ledger_api:payment_requests", "POST"): lambda c, w: {
        "payer": c.cast["helper"].pk,
        "amount": 10,
        "memo": "Matrix",
    },
    ("ledger_api:payment_request_decision", "POST"): lambda c, w: {"decision": "rejected"},
    ("ledger_api:account_limits", "PUT"): lambda c, w: {
        "floor": None,
        "ceiling": None,
        "reason": "Matrix",
    },
    ("ledger_api:entries", "POST"): lambda c, w: {
        "payer_account": c.ids["account_id"],
        "payee_account": c.cast["helped"].account.pk,
        "amount": 10,
        "memo": "Matrix",
    },
    ("ledger_api:reversal", "POST"): lambda c, w: {"reason": "Dubbel geboekt"},
    ("listings_api:listing", "PUT"): lambda c, w: {
        "title": "Fietsen repareren",
        "description": "Banden en remmen.",
        "category": c.category_id,
        "help_type": "practical",
    },
    ("listings_api:listing_status", "POST"): lambda c, w: {
        "status": "removed",
        "note": "Hoort hier niet",
    },
    ("listings_api:listing_report", "POST"): lambda c, w: {"reason": "Dit klopt niet"},
    ("listings_api:listing_respond", "POST"): lambda c, w: {"description": "Ik help graag"},
    ("listings_api:exchanges", "POST"): lambda c, w: {
        "provider": c.cast["helped"].pk,
        "receiver": c.cast["helper"].pk,
        "description": "Samen koken",
    },
    ("listings_api:exchange_settings", "PUT"): lambda c, w: {
        "approval_above": None,
        "approval_first": 0,
    },
    ("listings_api:exchange_step", "POST"): lambda c, w: {"status": "declined"},
    ("listings_api:exchange_messages", "POST"): lambda c, w: {"body": "Hallo allebei"},
    ("listings_api:exchange_thanks", "POST"): lambda c, w: {"body": "Dank je wel"},
}
