"""Every address of the site, read from the URL configuration and the API schema.

A page is tried with GET and POST (a page without a form answers POST with 405,
or treats it as GET); an API operation with exactly the methods its schema
describes. Nothing is listed by hand, so a new address cannot be left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

API_PREFIX = "api/v1/"
PAGE_METHODS = ("GET", "POST")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A path parameter: <converter:name> in a path(), (?P<name>...) in a re_path().
_PARAMETER = re.compile(r"<(?:\w+:)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Endpoint:
    """One address: its name (or, without one, its namespace and route), its
    route as the URL configuration spells it, and how it is reached."""

    key: str
    route: str
    api: bool
    methods: tuple[str, ...]

    @property
    def parameters(self) -> list[str]:
        return [m.group("name") or m.group("group") for m in _PARAMETER.finditer(self.route)]

    def path(self, value_of: Callable[[str], str]) -> str:
        """The address with every parameter filled by ``value_of(name)``."""

        def fill(match: re.Match) -> str:
            return value_of(match.group("name") or match.group("group"))

        path = _PARAMETER.sub(fill, self.route)
        return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[tuple]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _patterns(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            name = entry.name or f"<{route}>"
            yield (f"{namespace}:{name}" if namespace else name), route


def openapi_path(route: str) -> str:
    """A route as the schema writes it: ``api/v1/c/<slug:slug>/`` is ``/api/v1/c/{slug}/``."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def api_operations() -> dict[str, tuple[str, ...]]:
    """Every path of the API schema with its methods, upper case."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        path: tuple(method.upper() for method in item if method.upper() in {"GET", *WRITE_METHODS})
        for path, item in schema["paths"].items()
    }


@dataclass(frozen=True)
class Inventory:
    endpoints: list[Endpoint]
    # API routes the schema does not describe, and schema paths no route serves.
    undescribed: list[str]
    unrouted: list[str]


def inventory() -> Inventory:
    operations = api_operations()
    endpoints, undescribed = [], []
    for key, route in _patterns(get_resolver()):
        if route.startswith(API_PREFIX):
            methods = operations.get(openapi_path(route))
            if methods is None:
                undescribed.append(route)
                continue
            endpoints.append(Endpoint(key=key, route=route, api=True, methods=methods))
        else:
            endpoints.append(Endpoint(key=key, route=route, api=False, methods=PAGE_METHODS))
    routed = {openapi_path(e.route) for e in endpoints if e.api}
    unrouted = sorted(set(operations) - routed)
    return Inventory(endpoints=endpoints, undescribed=undescribed, unrouted=unrouted)
