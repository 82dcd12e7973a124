"""Schemathesis throws generated requests at every operation of the API.

The schema comes from the running application (``/api/schema/``) and the
requests go through the real WSGI application, signed in with a personal access
token: once as Anna, a member of Sterrenstelsel, and once as Mieke, its
coordinator. Sterrenstelsel has members, accounts, payments, a payment request,
listings and exchanges, and the generated ids are often real ones, so the
requests reach the services rather than stopping at a 404.

Every answer must be documented: no server error, a documented status and
content type, a body that matches its schema, and a schema-violating request
refused with a 4xx. A refused request must change nothing, and what a request
wrote must pass the database's commit-time checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import schemathesis
from django.apps import apps
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from psycopg import sql
from schemathesis.checks import positive_data_acceptance
from schemathesis.generation.meta import TestPhase

from accounts import services as account_services
from accounts.models import ApiToken, Membership
from ledger import services as ledger_services
from ledger.models import AccountKind, TransferKind
from listings import services as listing_services
from ruilkring.wsgi import application
from tests.factories import (
    AreaFactory,
    CommunityFactory,
    CoordinatorFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SLUG = "sterrenstelsel"
# Examples per operation and role in the fuzzing phase; the coverage phase adds
# its edge cases (every missing, empty or mistyped value) to the coordinator's
# run. About 2,000 requests: a minute on an idle machine, two on a busy one.
MAX_EXAMPLES = 12


def _schema(*, coverage: bool):
    return schemathesis.openapi.from_wsgi(
        "/api/schema/",
        application,
        config=schemathesis.Config.from_dict(
            {
                "parameters": {"path.slug": SLUG},
                "generation": {"database": "none"},
                "phases": {"coverage": {"enabled": coverage}},
            }
        ),
    )


# The coverage phase's cases are the same for both roles, so only the
# coordinator, who may call every operation, runs them.
as_member = _schema(coverage=False)
as_coordinator = _schema(coverage=True)

# Ids of what exists in Sterrenstelsel, per parameter or body field name;
# filled by the `circle` fixture for the test that runs.
REAL_IDS: dict[str, list[int]] = {}


def _id_spots(value: object):
    """(container, key) of every integer that names something, anywhere in a request part."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in REAL_IDS and isinstance(item, int) and not isinstance(item, bool):
                yield value, key
            else:
                yield from _id_spots(item)
    elif isinstance(value, list):
        for item in value:
            yield from _id_spots(item)


def _spots(case) -> list:
    return [
        spot
        for part in (case.path_parameters, case.query, case.body)
        for spot in _id_spots(part)
        if REAL_IDS[spot[1]]
    ]


def flatmap_case(context, case):
    """In the fuzzing phase, swap some generated ids for real ones, so a request
    can find what it names."""
    spots = _spots(case)
    if not spots:
        return st.just(case)

    def swapped(values):
        for (container, key), value in zip(spots, values, strict=True):
            container[key] = value
        return case

    return st.tuples(*(st.sampled_from(REAL_IDS[k]) | st.just(c[k]) for c, k in spots)).map(swapped)


as_member.hook(flatmap_case)
as_coordinator.hook(flatmap_case)


def _real_ids_for_coverage(case) -> None:
    """The coverage phase's cases skip the hook and name ids like 0; give them
    real ones, so that its edge cases of the other values reach the services."""
    if case.meta.phase.name == TestPhase.COVERAGE:
        for number, (container, key) in enumerate(_spots(case)):
            container[key] = REAL_IDS[key][number % len(REAL_IDS[key])]
        for key, value in case.path_parameters.items():
            if key in REAL_IDS and str(value).isdigit():
                case.path_parameters[key] = REAL_IDS[key][0]


@dataclass
class Circle:
    anna: Membership
    mieke: Membership


def _sterrenstelsel() -> Circle:
    """Anna, Bram and Carla trade in Sterrenstelsel; Mieke coordinates."""
    circle = CommunityFactory(name="Sterrenstelsel", slug=SLUG)
    areas = [AreaFactory(community=circle, name=name) for name in ("Noord", "Zuid")]
    anna, bram, carla = (
        MembershipFactory(community=circle, user=UserFactory(display_name=name), area=area)
        for name, area in (("Anna", areas[0]), ("Bram", areas[1]), ("Carla", None))
    )
    mieke = CoordinatorFactory(community=circle, user=UserFactory(display_name="Mieke"))
    account = {m: ledger_services.account_open(membership=m) for m in (anna, bram, carla, mieke)}
    pot = ledger_services.system_account_open(community=circle, kind=AccountKind.POT)

    def pay(payer, payee, amount, memo, key):
        return ledger_services.transfer_create(
            actor=payer.user,
            community=circle,
            kind=TransferKind.PAYMENT,
            payer=account[payer],
            payee=account[payee],
            amount=amount,
            memo=memo,
            idempotency_key=key,
        )

    transfers = [pay(anna, bram, 90, "Heg geknipt", "t-1"), pay(bram, carla, 30, "Soep", "t-2")]
    requests = [
        ledger_services.payment_request_create(
            actor=bram.user,
            community=circle,
            payer=account[anna],
            payee=account[bram],
            amount=45,
            memo="Boodschappen",
            idempotency_key="r-1",
        )
    ]
    categories = listing_services.categories_ensure(community=circle)
    listings = [
        listing_services.listing_create(
            actor=owner.user,
            owner=owner,
            kind=kind,
            title=title,
            description=title,
            category=categories[number],
            help_type="practical",
        )
        for number, (owner, kind, title) in enumerate(
            [(anna, "offer", "Hulp in de tuin"), (bram, "request", "Vervoer naar de markt")]
        )
    ]
    exchanges = [
        listing_services.exchange_propose(
            actor=bram.user, listing=listings[0], description="Graag"
        ),
        listing_services.exchange_propose(
            actor=anna.user, listing=listings[1], description="Ik rijd"
        ),
    ]
    listing_services.exchange_message_post(actor=anna.user, exchange=exchanges[0], body="Zaterdag?")
    members = [m.pk for m in (anna, bram, carla, mieke)]
    accounts = [a.pk for a in (*account.values(), pot)]
    REAL_IDS.update(
        {
            "request_id": [r.pk for r in requests],
            "transfer_id": [t.pk for t in transfers],
            "account_id": accounts,
            "payer_account": accounts,
            "payee_account": accounts,
            "payee": members,
            "payer": members,
            "provider": members,
            "receiver": members,
            "listing_id": [listing.pk for listing in listings],
            "listing": [listing.pk for listing in listings],
            "exchange_id": [e.pk for e in exchanges],
            "category": [c.pk for c in categories],
            "area": [a.pk for a in areas],
        }
    )
    return Circle(anna=anna, mieke=mieke)


@pytest.fixture
def _connection_kept_across_requests():
    """Like Django's test client: the WSGI application would close the database
    connection after each request, and with it the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _bearer(person) -> dict:
    _token, secret = account_services.api_token_create(user=person.user, name="fuzz")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def circle(_connection_kept_across_requests):
    yield _sterrenstelsel()
    REAL_IDS.clear()


@pytest.fixture
def anna(circle):
    """The Authorization header of Anna, a member."""
    return _bearer(circle.anna)


@pytest.fixture
def mieke(circle):
    """The Authorization header of Mieke, the coordinator."""
    return _bearer(circle.mieke)


# Every row the API can write, but the token's "last used" time, as one hash.
_STATE_SQL = sql.SQL("SELECT {}").format(
    sql.SQL(" || ").join(
        sql.SQL(
            "(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.{}), '')) FROM {} t)"
        ).format(sql.Identifier(model._meta.pk.column), sql.Identifier(model._meta.db_table))
        for label in ("accounts", "ledger", "listings")
        for model in apps.get_app_config(label).get_models()
        if model is not ApiToken
    )
)


def _state() -> str:
    with connection.cursor() as cursor:
        cursor.execute(_STATE_SQL)
        return cursor.fetchone()[0]


def _commit_time_checks_pass() -> None:
    # The test never commits: run the deferred constraints now, as a commit would.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


FUZZING = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _call_and_validate(case, headers: dict) -> None:
    _real_ids_for_coverage(case)
    before = _state()
    # Schema-valid requests are still refused when a limit, a state or a rule
    # says no (422, 409, 400), so "valid means accepted" does not hold here.
    response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
    if 400 <= response.status_code < 500:
        assert _state() == before, f"{response.status_code} but the data changed"
    _commit_time_checks_pass()


@as_member.parametrize()
@FUZZING
def test_as_a_member_every_answer_is_documented_and_a_refusal_changes_nothing(case, anna):
    _call_and_validate(case, anna)


@as_coordinator.parametrize()
@FUZZING
def test_as_a_coordinator_every_answer_is_documented_and_a_refusal_changes_nothing(case, mieke):
    _call_and_validate(case, mieke)
