"""The API's OpenAPI description and its documentation page.

The list of endpoints comes from the URL configuration, so a new API view
cannot be left out of the schema, nor left without its error responses.
"""

import inspect
import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

from ruilkring.api_errors import PROBLEM_JSON
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db

API_PREFIX = "api/v1/"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _api_routes(resolver=None, prefix=""):
    """(OpenAPI path, view class) for every route under /api/v1/."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _api_routes(entry, route)
        elif isinstance(entry, URLPattern) and route.startswith(API_PREFIX):
            yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), entry.callback.cls


API_ROUTES = sorted(_api_routes(), key=lambda item: item[0])


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_the_route_list_finds_the_api_of_every_app():
    views = {view.__module__ for _path, view in API_ROUTES}
    assert views == {"accounts.api", "ledger.api", "listings.api"}


def test_the_schema_is_openapi_3_and_names_the_api(schema):
    assert str(schema["openapi"]).startswith("3.")
    assert schema["info"]["title"] == "Ruilkring API"


@pytest.mark.parametrize(("path", "view"), API_ROUTES, ids=[p for p, _ in API_ROUTES])
def test_every_api_route_and_method_is_in_the_schema(schema, path, view):
    assert path in schema["paths"], path
    methods = {m for m in HTTP_METHODS if hasattr(view, m)}
    assert methods, view
    assert set(schema["paths"][path]) >= methods


def test_every_operation_documents_its_errors_as_problems(schema):
    for path, method, operation in _operations(schema):
        problems = [
            status
            for status, response in operation["responses"].items()
            if str(status).startswith("4")
            and response.get("content", {})
            .get(PROBLEM_JSON, {})
            .get("schema", {})
            .get("$ref", "")
            .endswith("/Problem")
        ]
        assert "401" in problems, (method, path)
        assert len(problems) >= 1


def test_every_operation_that_reads_an_idempotency_key_documents_it(schema):
    by_path = dict(API_ROUTES)
    checked = 0
    for path, method, operation in _operations(schema):
        source = inspect.getsource(getattr(by_path[path], method))
        headers = {
            parameter["name"]: parameter
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "header"
        }
        if "_key(request)" in source:
            checked += 1
            assert headers["Idempotency-Key"]["required"] is True, (method, path)
        else:
            assert "Idempotency-Key" not in headers, (method, path)
    assert checked >= 5


def test_path_parameters_are_documented(schema):
    for path, _method, operation in _operations(schema):
        documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert documented == set(re.findall(r"{(\w+)}", path)), path


def test_the_problem_component_has_every_field_the_error_handler_sends(schema, client):
    documented = set(schema["components"]["schemas"]["Problem"]["properties"])
    assert {"type", "title", "status", "detail", "code", "field", "errors"} <= documented
    anonymous = client.get("/api/v1/me/memberships/")
    member = MembershipFactory(community=CommunityFactory(slug="niksen"))
    client.force_login(member.user)
    payments = "/api/v1/communities/niksen/payments/"
    invalid = client.post(payments, {}, content_type="application/json")
    keyless = client.post(
        payments, {"payee": member.pk, "amount": 1}, content_type="application/json"
    )
    missing = client.get("/api/v1/communities/nowhere/account/")
    assert [r.status_code for r in (anonymous, invalid, keyless, missing)] == [401, 400, 400, 404]
    assert "errors" in invalid.json() and keyless.json()["field"] == "Idempotency-Key"
    for response in (anonymous, invalid, keyless, missing):
        assert set(response.json()) <= documented
        assert {"type", "title", "status", "code", "detail"} <= set(response.json())


def test_token_and_session_are_the_documented_ways_in(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"]["type"] == "http"
    assert schemes["tokenAuth"]["scheme"] == "bearer"
    for path, method, operation in _operations(schema):
        assert {"tokenAuth": []} in operation["security"], (method, path)


def test_the_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.")


def test_the_docs_page_loads_everything_from_this_site(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode().lower()
    for outside in ("cdn", "unpkg", "jsdelivr", "https://", "http://"):
        assert outside not in html, outside
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts
    for script in scripts:
        assert script.startswith(("/static/", "/api/docs/?script="))
        assert client.get(script).status_code == 200, script
