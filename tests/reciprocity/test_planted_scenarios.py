"""A year of a planted circle, analysed month by month with the real
pipeline (``community_backfill``): every planted pattern gets its signal, and
the ordinary members stay almost entirely unflagged.

Run with ``-s`` to see which role got which signals."""

from collections import Counter, defaultdict

import pytest

from accounts.models import Notification
from reciprocity.models import Flag
from reciprocity.services import community_backfill
from tests.reciprocity.scenario import planted_circle

pytestmark = pytest.mark.django_db

EXPECTED = {
    "giver": "overload",
    "withdrawer": "withdrawal",
    "pair_giver": "one_way_pair",
    "clique": "outside",
    "near_limit": "near_limit",
}
FALSE_POSITIVES_AT_MOST = 0.02


@pytest.fixture(scope="module")
def analysed(django_db_setup, django_db_blocker):
    """Build and analyse the circle once for the module; removed afterwards."""
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            planted = planted_circle()
            community_backfill(community=planted.community, months=12)
            flags = list(Flag.objects.filter(community=planted.community))
            notifications = Notification.objects.filter(community=planted.community).values_list(
                "user_id", flat=True
            )
            result = planted, flags, set(notifications)
            transaction.set_rollback(True)
    return result


def flags_by_member(flags):
    found = defaultdict(set)
    for flag in flags:
        found[flag.membership_id].add(flag.kind)
        if flag.other_id:
            found[flag.other_id].add(f"{flag.kind} (other)")
    return found


def test_print_the_table_of_roles_and_their_signals(analysed):
    planted, flags, _notified = analysed
    found = flags_by_member(flags)
    rows = defaultdict(Counter)
    members = Counter(planted.roles.values())
    for membership_id, role in planted.roles.items():
        for kind in found.get(membership_id, ()):
            rows[role][kind] += 1
    print("\nrole           members  signals (members with it)")
    for role, count in members.items():
        kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(rows[role].items())) or "-"
        print(f"{role:<14} {count:>7}  {kinds}")
    assert flags


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_every_planted_member_gets_the_signal_of_their_pattern(analysed, role):
    planted, flags, _notified = analysed
    found = flags_by_member(flags)
    missing = [
        planted.names[pk] for pk in planted.of_role(role) if EXPECTED[role] not in found.get(pk, ())
    ]
    assert missing == []


def test_each_one_way_pair_is_flagged_from_the_giver_to_the_member_they_help(analysed):
    planted, flags, _notified = analysed
    pairs = {(f.membership_id, f.other_id) for f in flags if f.kind == "one_way_pair"}
    assert set(planted.one_way.items()) <= pairs


def test_ordinary_members_are_hardly_ever_flagged(analysed):
    planted, flags, _notified = analysed
    found = flags_by_member(flags)
    control = planted.of_role("control")
    flagged = [pk for pk in control if found.get(pk)]
    assert len(control) > 250
    assert len(flagged) / len(control) < FALSE_POSITIVES_AT_MOST, [
        (planted.names[pk], sorted(found[pk])) for pk in flagged
    ]


def test_no_member_was_told_anything(analysed):
    planted, _flags, notified = analysed
    assert notified.isdisjoint(planted.roles)
