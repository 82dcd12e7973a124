"""Who may open and change what: every address of the site and every API
operation, tried by every kind of person.

The addresses come from the URL configuration and the API schema
(``tests/authorization/endpoints.py``), so a new one cannot be missed: until it
is classified in ``tests/authorization/rules.py`` the matrix fails and says so.
Each address is filled with objects of circle A that belong to none of the
actors, and tried with GET and POST (a page) or with the methods its schema
lists (the API) by seven people (``tests/authorization/actors.py``): someone
not signed in, a member and a coordinator of A, a member and a coordinator of
B, a municipality observer and the site's administrator. Coordinators, the
observer and the administrator have an authenticator app, as two-factor
authentication is required of them.

For every answer:
- the status is what the rules say for that kind of address and person;
- a refusal changed nothing in the database;
- a 404 for a circle someone does not belong to is the same page as for a
  circle that does not exist, and a 404 for someone else's object in one's own
  circle the same as for an object that does not exist;
- it holds nothing private: no other member's payments, balance, messages,
  signals or e-mail address for those who may not read them; no one else's
  tokens or notifications; no names or e-mail addresses for the observer.

Then the ids of circle B's objects are tried under circle A's address by those
who belong to A: they must find nothing.

Every request runs in a savepoint that is rolled back, so each one meets the
same circles, and one that is allowed may do what it asks.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from tests.authorization.actors import ACTORS, Actor, Standing, standing
from tests.authorization.checks import (
    REFUSED_CHANGES,
    Answer,
    fingerprint,
    leaks,
    normalized,
    verdict,
)
from tests.authorization.circles import (
    MADE_UP_ID,
    MADE_UP_SLUG,
    OBJECT_PARAMETERS,
    OWN_PARAMETERS,
    Circle,
    World,
    parameter_value,
    world_build,
)
from tests.authorization.endpoints import WRITE_METHODS, Endpoint, inventory
from tests.authorization.rules import (
    BODIES,
    CLASSIFICATION,
    Access,
    Outcome,
    Unclassified,
    access_of,
    outcome_for,
)

pytestmark = pytest.mark.django_db

INVENTORY = inventory()
CASES = [(e, m) for e in INVENTORY.endpoints for m in e.methods]
# Those allowed to read a circle's private texts, as they stand towards it.
READERS_OF_PRIVATE = frozenset({Standing.COORDINATOR, Standing.SUPERUSER})
# Requests sent, by purpose, for the summary at the end of the run.
SENT: Counter[str] = Counter()


class MatrixSummary:
    """Prints the size of the matrix under pytest's summary."""

    def pytest_terminal_summary(self, terminalreporter):
        if not SENT:
            return
        pages = sum(1 for e in INVENTORY.endpoints if not e.api)
        operations = sum(len(e.methods) for e in INVENTORY.endpoints if e.api)
        terminalreporter.write_sep("-", "authorization matrix")
        terminalreporter.write_line(
            f"{len(INVENTORY.endpoints)} addresses ({pages} pages x GET and POST, "
            f"{len(INVENTORY.endpoints) - pages} API paths with {operations} operations) = "
            f"{len(CASES)} address-methods x {len(ACTORS)} actors = "
            f"{len(CASES) * len(ACTORS)} cells"
        )
        terminalreporter.write_line(
            f"requests sent: {SENT['cell']} cells, {SENT['look-alike']} look-alike 404s, "
            f"{SENT['cross-circle']} with circle B's ids; {sum(SENT.values())} in all"
        )


@pytest.fixture(scope="module")
def world(request, django_db_setup, django_db_blocker):
    """The two circles, built once for the module in a transaction that is rolled back."""
    plugins = request.config.pluginmanager
    if not plugins.has_plugin("authorization-matrix"):
        plugins.register(MatrixSummary(), "authorization-matrix")
    with django_db_blocker.unblock(), transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = origin")
        built = world_build()
        for key, user in built.users.items():
            client = Client()
            client.force_login(user)
            built.sessions[key] = client.cookies[settings.SESSION_COOKIE_NAME].value
        built.baseline = fingerprint()
        yield built
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _as_in_production(settings):
    """Two-factor authentication required, as everywhere but the test settings;
    and no sign-in rate limits, which would count the matrix's many requests."""
    settings.RUILKRING_TWO_FACTOR_REQUIRED = True
    settings.ACCOUNT_RATE_LIMITS = False


def _send(
    world: World,
    actor: Actor,
    *,
    method: str,
    path: str,
    body: dict,
    api: bool,
    compare: bool = False,
) -> Answer:
    """One request as ``actor``, in a savepoint that is rolled back afterwards."""
    client = Client(raise_request_exception=False)
    if actor.signed_in:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[actor.key]
    with transaction.atomic():
        if api:
            response = client.generic(
                method,
                path,
                json.dumps(body) if method != "GET" else "",
                content_type="application/json",
                HTTP_ACCEPT="application/json",
                HTTP_IDEMPOTENCY_KEY="matrix-request",
            )
        elif method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, body)
        # Read inside the savepoint: a streamed answer (a CSV, a file) is made as it is read.
        # The test client closes the answer itself, keeping the connection.
        text = response.getvalue().decode(errors="replace")
        changed = None
        if compare:
            try:
                changed = fingerprint() != world.baseline
            except DatabaseError:
                changed = True
        transaction.set_rollback(True)
    return Answer(
        status=response.status_code,
        location=response.get("Location", ""),
        content_type=response.get("Content-Type", ""),
        text=text,
        changed=changed,
    )


def _path(world: World, endpoint: Endpoint, *, slug_of: Circle, ids_of: Circle, **fixed) -> str:
    def value_of(name: str) -> str:
        if name in fixed:
            return str(fixed[name])
        return parameter_value(
            name, route=endpoint.route, world=world, slug_of=slug_of, ids_of=ids_of
        )

    return endpoint.path(value_of)


def _body(endpoint: Endpoint, method: str, circle: Circle, world: World) -> dict:
    make = BODIES.get((endpoint.key, method))
    return make(circle, world) if make else {}


def _leaks(world: World, actor: Actor, answer: Answer) -> list[str]:
    """Texts in ``answer`` that ``actor`` may not read."""
    is_json = "json" in answer.content_type
    found = []
    for circle in world.circles.values():
        if standing(actor, circle=circle.key) not in READERS_OF_PRIVATE:
            found += leaks(
                answer.text,
                secrets=circle.private,
                numbers=circle.private_numbers,
                json=is_json,
            )
    for key, texts in world.personal.items():
        if key != actor.key:
            found += leaks(answer.text, secrets=texts, numbers=[], json=False)
    if actor.observer:
        own = world.users[actor.key].pk
        for user_id, identity in world.identities.items():
            if user_id != own:
                found += leaks(answer.text, secrets=identity, numbers=[], json=False)
    return found


def _looks_alike(first: Answer, first_path: str, second: Answer, second_path: str) -> bool:
    return (first.status, first.content_type, normalized(first.text, path=first_path)) == (
        second.status,
        second.content_type,
        normalized(second.text, path=second_path),
    )


def _made_up_path(world: World, endpoint: Endpoint, outcome: Outcome) -> str | None:
    """The address whose 404 a refusal must look like: another circle like a
    circle that does not exist, someone else's object like an object that does
    not exist. None when there is nothing to compare with."""
    a = world.circles["a"]
    if outcome is Outcome.HIDDEN:
        return _path(world, endpoint, slug_of=a, ids_of=a, slug=MADE_UP_SLUG)
    names = [n for n in endpoint.parameters if n in OBJECT_PARAMETERS | OWN_PARAMETERS]
    if outcome is Outcome.NOT_YOURS and names:
        return _path(world, endpoint, slug_of=a, ids_of=a, **{names[-1]: MADE_UP_ID})
    return None


def _cell(world: World, endpoint: Endpoint, method: str, actor: Actor) -> list[str]:
    """What is wrong with what ``actor`` gets for ``method`` on ``endpoint``."""
    access, outcome = outcome_for(endpoint, method, actor, world.users.get(actor.key))
    a = world.circles["a"]
    path = _path(world, endpoint, slug_of=a, ids_of=a)
    body = _body(endpoint, method, a, world)
    # A refused change must change nothing.
    compare = method in WRITE_METHODS and outcome not in (
        Outcome.OK,
        Outcome.OK_OR_REDIRECT,
        Outcome.OK_OR_ABSENT,
    )

    def send(to: str) -> Answer:
        return _send(
            world, actor, method=method, path=to, body=body, api=endpoint.api, compare=compare
        )

    answer = send(path)
    SENT["cell"] += 1
    where = f"{actor.key}: {method} {path} [{access.value}]"
    problems = []
    if problem := verdict(
        outcome=outcome, method=method, api=endpoint.api, signed_in=actor.signed_in, answer=answer
    ):
        problems.append(f"{where}: {problem}")
    made_up = _made_up_path(world, endpoint, outcome) if answer.status == 404 else None
    if made_up:
        other = send(made_up)
        SENT["look-alike"] += 1
        if not _looks_alike(answer, path, other, made_up):
            problems.append(
                f"{where}: its 404 differs from the 404 for {made_up} "
                f"({other.status}, {other.content_type}), so it tells what exists"
            )
    if found := _leaks(world, actor, answer):
        problems.append(f"{where}: {answer.status} shows what is not theirs: {found}")
    return problems


def test_every_api_route_is_in_the_schema_and_every_schema_path_has_a_route():
    assert not INVENTORY.undescribed, f"API routes missing from the schema: {INVENTORY.undescribed}"
    assert not INVENTORY.unrouted, f"schema paths without a route: {INVENTORY.unrouted}"


def test_every_address_and_method_is_classified():
    assert any(e.api for e in INVENTORY.endpoints) and any(
        e.key.startswith("admin:") for e in INVENTORY.endpoints
    )
    missing = []
    for endpoint, method in CASES:
        try:
            access_of(endpoint, method)
        except Unclassified as error:
            missing.append(str(error))
    assert not missing, "\n".join(missing)
    known = {e.key for e in INVENTORY.endpoints} | {"admin:*"}
    assert not set(CLASSIFICATION) - known, (
        f"classified, but no longer an address: {sorted(set(CLASSIFICATION) - known)}"
    )


@pytest.mark.parametrize(("endpoint", "method"), CASES, ids=[f"{m} {e.key}" for e, m in CASES])
def test_every_actor_gets_what_the_rules_say(world, endpoint, method):
    try:
        access_of(endpoint, method)
    except Unclassified as error:
        pytest.fail(str(error))
    problems = [problem for actor in ACTORS for problem in _cell(world, endpoint, method, actor)]
    assert not problems, "\n".join(problems)


def test_circle_b_objects_are_not_found_under_circle_a(world):
    """A's members, coordinators and the administrator, with the ids of B's
    objects in A's address or in the body: nothing found, nothing changed."""
    a, b = world.circles["a"], world.circles["b"]
    insiders = [
        actor
        for actor in ACTORS
        if standing(actor, circle="a")
        in (Standing.MEMBER, Standing.COORDINATOR, Standing.SUPERUSER)
    ]
    problems, tried = [], 0
    for endpoint, method in CASES:
        if "slug" not in endpoint.parameters:
            continue
        body = _body(endpoint, method, b, world)
        if not OBJECT_PARAMETERS & set(endpoint.parameters) and body == _body(
            endpoint, method, a, world
        ):
            continue  # nothing of a circle to swap
        path = _path(world, endpoint, slug_of=a, ids_of=b)
        tried += 1
        for actor in insiders:
            answer = _send(
                world,
                actor,
                method=method,
                path=path,
                body=body,
                api=endpoint.api,
                compare=method in WRITE_METHODS,
            )
            SENT["cross-circle"] += 1
            where = f"{actor.key}: {method} {path}"
            if answer.status == 405 and not endpoint.api:
                refused = True
            elif method == "GET":
                refused = answer.status in (403, 404)
            else:
                refused = answer.status in REFUSED_CHANGES and not (
                    endpoint.api and answer.status == 302
                )
            if not refused or answer.changed:
                changed = ", and the data changed" if answer.changed else ""
                problems.append(f"{where}: {answer.status}{changed}; B's object must not be found")
            if found := leaks(answer.text, secrets=b.private, numbers=[], json=False):
                problems.append(f"{where}: shows circle B's {found}")
    assert tried and insiders
    assert not problems, "\n".join(problems)


def test_the_private_texts_are_there_for_those_who_may_read_them(world):
    """The texts the matrix looks for are real: circle A's coordinator (and the
    helper, on his own account) reads every one of A's private texts on the pages
    and API answers meant for them, and each actor reads their own token and
    notification. Otherwise a change of wording would let a leak pass unseen."""
    a = world.circles["a"]
    coordinator = next(x for x in ACTORS if standing(x, circle="a") is Standing.COORDINATOR)
    read = []
    for endpoint, method in CASES:
        if method != "GET" or "slug" not in endpoint.parameters:
            continue
        access, outcome = outcome_for(endpoint, method, coordinator, world.users[coordinator.key])
        if outcome is not Outcome.OK or access is Access.MEMBERSHIP:
            continue
        path = _path(world, endpoint, slug_of=a, ids_of=a)
        answer = _send(world, coordinator, method="GET", path=path, body={}, api=endpoint.api)
        if answer.status == 405 and not endpoint.api:
            continue  # a form's target, read through its page
        assert answer.status == 200, (path, answer.status)
        read.append(answer.text)
    everything = "\n".join(read)
    # The helper reads his own account: his balance and his payment request.
    helper = Client()
    helper.force_login(a.cast["helper"].user)
    everything += helper.get(reverse("ledger:account", args=[a.community.slug])).content.decode()
    unread = [text for text in a.private if text not in everything]
    assert not unread, f"read by nobody who may: {unread}"
    numbers = leaks(everything, secrets=[], numbers=a.private_numbers, json=True)
    assert numbers, "the helper's balance is in no API answer for the coordinator"
    # The names the observer must never read are the ones coordinators do read.
    assert any(name in everything for name, _email in world.identities.values())
    for actor in ACTORS:
        if not actor.signed_in:
            continue
        own = "".join(
            _send(world, actor, method="GET", path=path, body={}, api=False).text
            for path in (reverse("accounts:api_tokens"), reverse("accounts:notifications"))
        )
        assert all(text in own for text in world.personal[actor.key]), actor.key
