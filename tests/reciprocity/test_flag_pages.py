"""The signal pages, as a coordinator, a member and an outsider use them.
Every form is a plain POST; a mistake shows its reason (400) and changes nothing."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from reciprocity.models import Flag, FlagEvent, ReciprocitySettings
from tests.factories import CommunityFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def make_flag(circle, membership, **changes):
    values = {
        "community": circle,
        "membership": membership,
        "kind": "overload",
        "numbers": {"load_30d": 720, "receipts": 1, "skew": 0.93},
        "sentence_nl": "Anna heeft veel gegeven. Misschien is het tijd om te vragen hoe het gaat.",
        "sentence_en": "Anna gave a lot. Perhaps it is time to ask how she is doing.",
        "period": date(2025, 6, 1),
        "last_seen_period": date(2025, 6, 1),
    }
    values.update(changes)
    return Flag.objects.create(**values)


def url(name, circle, *args):
    return reverse(f"reciprocity:{name}", args=[circle.slug, *args])


def test_the_list_shows_unresolved_signals_in_the_readers_language(client, circle, anna, mieke):
    make_flag(circle, anna)
    make_flag(circle, anna, kind="near_limit", status="resolved", sentence_en="Long ago.")
    client.force_login(mieke)
    page = client.get(url("flag_list", circle)).content.decode()
    assert "Anna gave a lot." in page and "Long ago." not in page
    dutch = client.get(url("flag_list", circle), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Anna heeft veel gegeven." in dutch
    resolved = client.get(url("flag_list", circle), {"status": "resolved"}).content.decode()
    assert "Long ago." in resolved and "Anna gave a lot." not in resolved
    by_kind = client.get(url("flag_list", circle), {"kind": "near_limit"}).content.decode()
    assert "Anna gave a lot." not in by_kind


def test_a_nonsense_filter_is_a_400_not_a_500(client, circle, mieke):
    client.force_login(mieke)
    assert client.get(url("flag_list", circle), {"status": "gone"}).status_code == 400


def test_the_detail_shows_the_numbers_the_member_page_and_the_private_history(
    client, circle, anna, mieke
):
    flag = make_flag(circle, anna)
    FlagEvent.objects.create(flag=flag, to_status="open")
    FlagEvent.objects.create(
        flag=flag, actor=mieke, from_status="open", to_status="contacted", note="Koffie gedronken."
    )
    client.force_login(mieke)
    page = client.get(url("flag_detail", circle, flag.pk)).content.decode()
    assert "12\u00a0hours" in page  # 720 minutes given in 30 days
    assert "0.93" in page
    assert reverse("accounts:member_detail", args=[circle.slug, anna.pk]) in page
    assert "Koffie gedronken." in page
    assert 'name="assignee"' in page and 'name="snoozed_until"' in page
    assert 'name="outcome"' in page


def test_a_coordinator_takes_each_step_with_a_plain_form(client, circle, anna, mieke, joost):
    flag = make_flag(circle, anna)
    client.force_login(mieke)
    step = url("flag_step", circle, flag.pk)
    assert client.post(step, {"status": "assigned", "assignee": joost.pk}).status_code == 302
    assert client.post(step, {"status": "contacted", "note": "Gebeld."}).status_code == 302
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert client.post(step, {"status": "snoozed", "snoozed_until": tomorrow}).status_code == 302
    assert client.post(step, {"status": "resolved", "outcome": "Rust."}).status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.assigned_to, flag.outcome) == ("resolved", joost, "Rust.")
    assert flag.events.count() == 4
    assert not Notification.objects.filter(user=anna.user).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"status": "contacted", "note": ""},
        {"status": "snoozed", "snoozed_until": "2020-01-01"},
        {"status": "snoozed", "snoozed_until": "not a date"},
        {"status": "resolved", "outcome": ""},
        {"status": "assigned", "assignee": "999999"},
        {"status": "open"},
        {"status": "deleted"},
    ],
)
def test_a_mistake_shows_why_with_a_400_and_changes_nothing(client, circle, anna, mieke, data):
    flag = make_flag(circle, anna)
    before = Flag.objects.values().get(pk=flag.pk)
    client.force_login(mieke)
    response = client.post(url("flag_step", circle, flag.pk), data)
    assert response.status_code == 400
    assert "Nothing has been changed." in response.content.decode()
    assert Flag.objects.values().get(pk=flag.pk) == before
    assert not flag.events.exists()


def test_members_get_403_and_outsiders_404_on_every_signal_page(client, circle, anna, mieke):
    flag = make_flag(circle, anna)
    pages = [
        url("flag_list", circle),
        url("flag_detail", circle, flag.pk),
        url("flag_settings", circle),
    ]
    for who, expected in ((anna.user, 403), (UserFactory(), 404)):
        client.force_login(who)
        for page in pages:
            assert client.get(page).status_code == expected, (who, page)
        step = client.post(
            url("flag_step", circle, flag.pk), {"status": "resolved", "outcome": "x"}
        )
        assert step.status_code == expected
    flag.refresh_from_db()
    assert flag.status == "open"


def test_another_circles_signal_is_404_for_a_coordinator(client, circle, mieke):
    elsewhere = CommunityFactory()
    theirs = make_flag(elsewhere, MembershipFactory(community=elsewhere))
    client.force_login(mieke)
    assert client.get(url("flag_detail", circle, theirs.pk)).status_code == 404
    response = client.post(
        url("flag_step", circle, theirs.pk), {"status": "resolved", "outcome": "x"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "open"


def test_the_settings_page_explains_each_threshold_and_saves_them(client, circle, mieke):
    client.force_login(mieke)
    page = client.get(url("flag_settings", circle)).content.decode()
    assert "Weekly help in a pair: weeks of the last 8" in page
    assert "at least this many of the last eight weeks" in page
    form = _defaults(page)
    form |= {"window_days": "180", "weekly_weeks": "5", "near_limit_share": "70"}
    assert client.post(url("flag_settings", circle), form).status_code == 302
    row = ReciprocitySettings.objects.get(community=circle)
    assert (row.window_days, row.thresholds) == (180, {"weekly_weeks": 5, "near_limit_share": 0.7})
    form["weekly_weeks"] = "9"
    response = client.post(url("flag_settings", circle), form)
    assert response.status_code == 400
    row.refresh_from_db()
    assert row.thresholds["weekly_weeks"] == 5


def _defaults(page: str) -> dict:
    return dict(re.findall(r'name="(\w+)" value="([^"]*)"', page))


def test_the_circle_page_links_signals_for_coordinators_only(client, circle, anna, mieke):
    link = url("flag_list", circle)
    client.force_login(mieke)
    assert (
        link
        in client.get(reverse("accounts:community_detail", args=[circle.slug])).content.decode()
    )
    client.force_login(anna.user)
    assert (
        link
        not in client.get(reverse("accounts:community_detail", args=[circle.slug])).content.decode()
    )
