import pytest
from django.core.management import call_command

from accounts.models import Community, Membership, MembershipEvent, Role, Status, User

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int]:
    return (
        User.objects.count(),
        Community.objects.count(),
        Membership.objects.count(),
        MembershipEvent.objects.count(),
    )


def test_the_demo_has_two_circles_sixty_members_and_the_three_logins(client):
    call_command("seed_demo")
    assert set(Community.objects.values_list("slug", flat=True)) == {"niksen", "sterrenstelsel"}
    assert 55 <= Membership.objects.filter(role=Role.MEMBER).count() <= 65
    assert Membership.objects.filter(role=Role.COORDINATOR, status=Status.ACTIVE).count() == 2
    assert User.objects.filter(is_municipality_observer=True).count() == 1
    for email in ("anna@ruilkring.demo", "coordinator@ruilkring.demo", "gemeente@ruilkring.demo"):
        response = client.post("/account/login/", {"login": email, "password": "ruilkring-demo"})
        assert response.status_code == 302, email
        client.logout()


def test_seeding_twice_gives_the_same_demo_not_two():
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
