"""Two coordinators acting at the same moment, on real database connections."""

import contextlib
import threading

import pytest
from django.db import connection

from accounts import services
from accounts.models import Membership, Role, Status
from ruilkring.errors import TransitionNotAllowed
from tests.factories import CommunityFactory, CoordinatorFactory


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_stepping_down_at_once_leave_one_coordinator(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL: run `make test`")
    circle = CommunityFactory()
    first, second = CoordinatorFactory(community=circle), CoordinatorFactory(community=circle)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    # Hold each transaction open right after its "is there another coordinator?"
    # check, until the other one has checked too (or two seconds pass because it
    # is waiting for a lock). Without locking, both checks would pass.
    both_checked = threading.Barrier(2)
    check = services._ensure_another_coordinator_remains

    def check_then_wait(*, membership):
        check(membership=membership)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait(timeout=2)

    monkeypatch.setattr(services, "_ensure_another_coordinator_remains", check_then_wait)

    def step_down(membership: Membership) -> None:
        try:
            barrier.wait(timeout=10)
            services.membership_role_change(
                actor=membership.user, membership=membership, to_role=Role.MEMBER, reason="Rust"
            )
            outcomes.append("stepped down")
        except TransitionNotAllowed:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=step_down, args=(m,)) for m in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["refused", "stepped down"]
    assert (
        Membership.objects.filter(
            community=circle, role=Role.COORDINATOR, status=Status.ACTIVE
        ).count()
        == 1
    )
