"""How the coordinator's member list and the municipality overview hold up in a
large regional exchange (2,200 members), next to a small circle (60).

Run with `make bench`. Prints wall times and query counts; the only assertion
is that the number of queries does not grow with the number of members.
"""

import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, Status, User
from tests.factories import AreaFactory, CommunityFactory, CoordinatorFactory

pytestmark = pytest.mark.django_db
ROUNDS = 15


def _circle(size: int):
    community = CommunityFactory()
    areas = [AreaFactory(community=community) for _ in range(8)]
    users = User.objects.bulk_create(
        User(email=f"m{size}-{n}@example.org", display_name=f"Lid {n:05d}") for n in range(size)
    )
    Membership.objects.bulk_create(
        Membership(
            user=user,
            community=community,
            status=Status.ACTIVE if n % 10 else Status.APPLIED,
            area=areas[n % len(areas)],
        )
        for n, user in enumerate(users)
    )
    return community, CoordinatorFactory(community=community).user


def _measure(client, url: str) -> tuple[float, int]:
    timings = []
    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - start)
        assert response.status_code == 200
    return statistics.median(timings), len(queries)


def test_member_list_and_overview_scale_with_members(client):
    small, small_coordinator = _circle(60)
    large, large_coordinator = _circle(2200)
    rows = []
    for label, community, coordinator in (
        ("60 members", small, small_coordinator),
        ("2,200 members", large, large_coordinator),
    ):
        client.force_login(coordinator)
        rows.append(
            (label, *_measure(client, reverse("accounts:member_list", args=[community.slug])))
        )
    observer = User.objects.create_user(
        email="observer@example.org", display_name="Gemeente", is_municipality_observer=True
    )
    client.force_login(observer)
    overview = _measure(client, reverse("accounts:observer_overview"))

    print(f"\nmember list, first page ({ROUNDS} rounds, median):")
    for label, seconds, queries in rows:
        print(f"  {label:>14}: {seconds * 1000:7.1f} ms, {queries} queries")
    print(f"  ratio 2,200 / 60: {rows[1][1] / rows[0][1]:.2f}x")
    print(
        f"observer overview, 2,260 members in 2 circles: {overview[0] * 1000:.1f} ms, "
        f"{overview[1]} queries"
    )
    assert rows[0][2] == rows[1][2], "queries must not grow with the number of members"
