"""The coordinators hear when something waits for them: a reported listing, an
exchange in dispute, a payment to approve. Each in their own language, in the
inbox, and by mail as each of them chose.

Sterrenstelsel has two coordinators: Mieke (English, mail at once) and Joop
(Dutch). Another coordinator, Zeger, is suspended and hears nothing.
"""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Membership, Notification, NotificationPreference, Role, Status
from accounts.notifications import NOTIFICATION_KINDS, notification_preference_set
from ledger import services as ledger
from ledger.models import RequestStatus
from listings import services
from listings.models import ExchangeStatus
from tests.factories import CoordinatorFactory, UserFactory

pytestmark = pytest.mark.django_db
S = ExchangeStatus
KINDS = ("listing_reported", "exchange_disputed", "exchange_review")


@pytest.fixture
def joop(circle):
    return CoordinatorFactory(
        community=circle, user=UserFactory(display_name="Joop", language="nl")
    ).user


@pytest.fixture
def zeger(circle):
    return CoordinatorFactory(
        community=circle, status=Status.SUSPENDED, user=UserFactory(display_name="Zeger")
    ).user


@pytest.fixture
def elsewhere():
    """A coordinator of another circle."""
    return CoordinatorFactory(role=Role.COORDINATOR).user


@pytest.fixture
def everyone(anna, bram, coordinator, joop, zeger, elsewhere):
    return {"anna": anna.user, "bram": bram.user, "mieke": coordinator, "joop": joop}


def step(actor, exchange, to_status, **extra):
    return services.exchange_step(actor=actor, exchange=exchange, to_status=to_status, **extra)


def told(kind):
    return {n.user.display_name: n for n in Notification.objects.filter(kind=kind)}


def test_a_reported_listing_reaches_every_active_coordinator_of_the_circle(
    circle, everyone, place, django_capture_on_commit_callbacks
):
    notification_preference_set(user=everyone["joop"], kind="listing_reported", channel="none")
    offer = place(title="Goedkope zonnepanelen")
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_report(actor=everyone["bram"], listing=offer, reason="Dit is reclame.")
    notices = told("listing_reported")
    assert set(notices) == {"Mieke", "Joop"}
    moderation = reverse("listings:moderation", args=[circle.slug])
    for notice in notices.values():
        assert notice.link == moderation
        assert "Goedkope zonnepanelen" in notice.subject
        assert notice.community == circle
    assert "Reason: Dit is reclame." in notices["Mieke"].body
    assert "Reden: Dit is reclame." in notices["Joop"].body
    assert [message.to for message in mail.outbox] == [[everyone["mieke"].email]], (
        "Joop chose no mail for this; it waits in his inbox"
    )
    assert "Goedkope zonnepanelen" in mail.outbox[0].subject


def test_reporting_the_same_listing_again_tells_nobody_again(everyone, place):
    offer = place()
    services.listing_report(actor=everyone["bram"], listing=offer, reason="Reclame")
    services.listing_report(actor=everyone["bram"], listing=offer, reason="Echt reclame")
    assert Notification.objects.filter(kind="listing_reported").count() == 2


def test_a_dispute_reaches_the_coordinators_with_the_reason_and_a_link_to_the_exchange(
    circle, everyone, place, django_capture_on_commit_callbacks
):
    notification_preference_set(user=everyone["joop"], kind="exchange_disputed", channel="digest")
    exchange = services.exchange_propose(actor=everyone["bram"], listing=place(), description="Heg")
    step(everyone["anna"], exchange, S.ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        step(everyone["bram"], exchange, S.DISPUTED, note="Niet gedaan")
    notices = told("exchange_disputed")
    assert set(notices) == {"Mieke", "Joop"}
    link = reverse("listings:exchange", args=[circle.slug, exchange.pk])
    assert {notice.link for notice in notices.values()} == {link}
    assert "Anna" in notices["Mieke"].subject and "Bram" in notices["Mieke"].subject
    assert "Reason: Niet gedaan" in notices["Mieke"].body
    assert "Reden: Niet gedaan" in notices["Joop"].body
    assert notices["Joop"].mailed_at is None, "Joop reads it in his weekly digest"
    to_coordinators = [m.to for m in mail.outbox if m.to != [everyone["anna"].email]]
    assert to_coordinators == [[everyone["mieke"].email]]


def test_a_payment_request_declined_on_the_ledger_pages_reaches_the_coordinators(everyone, place):
    exchange = services.exchange_propose(actor=everyone["bram"], listing=place(), description="Heg")
    step(everyone["anna"], exchange, S.ACCEPTED)
    done = step(everyone["anna"], exchange, S.DONE, amount=60)
    ledger.payment_request_decide(
        actor=everyone["bram"], request=done.payment_request, to_status=RequestStatus.REJECTED
    )
    assert not told("exchange_disputed")
    assert services.exchange_payments_sync() == 1
    assert set(told("exchange_disputed")) == {"Mieke", "Joop"}


def test_a_payment_to_approve_reaches_the_coordinators_with_the_amount_in_their_language(
    circle, everyone, place
):
    services.exchange_settings_set(
        actor=everyone["mieke"], community=circle, approval_above=60, approval_first=0
    )
    exchange = services.exchange_propose(actor=everyone["bram"], listing=place(), description="Heg")
    step(everyone["anna"], exchange, S.ACCEPTED)
    step(everyone["anna"], exchange, S.DONE, amount=60)
    assert not told("exchange_review"), "not above the amount: nothing to approve"

    second = services.exchange_propose(actor=everyone["bram"], listing=place(), description="Gras")
    step(everyone["anna"], second, S.ACCEPTED)
    step(everyone["anna"], second, S.DONE, amount=90)
    notices = told("exchange_review")
    assert set(notices) == {"Mieke", "Joop"}
    assert "1.5\u00a0hours" in notices["Mieke"].subject
    assert "1,5\u00a0uren" in notices["Joop"].subject
    assert notices["Mieke"].link == reverse("listings:exchange", args=[circle.slug, second.pk])
    assert "Anna" in notices["Mieke"].body and "Gras" in notices["Mieke"].body


def test_a_coordinator_is_not_told_of_their_own_step(circle, bram, coordinator, joop, garden):
    """Mieke helps Bram herself; her payment waits, and only Joop is asked."""
    services.exchange_settings_set(
        actor=coordinator, community=circle, approval_above=0, approval_first=0
    )
    mieke = coordinator.memberships.get(community=circle)
    offer = services.listing_create(
        actor=coordinator,
        owner=mieke,
        kind="offer",
        title="Fietsen repareren",
        description="Banden plakken.",
        category=garden,
        help_type="practical",
    )
    exchange = services.exchange_propose(actor=bram.user, listing=offer, description="Mijn band")
    step(coordinator, exchange, S.ACCEPTED)
    step(coordinator, exchange, S.DONE, amount=30)
    assert set(told("exchange_review")) == {"Joop"}
    step(coordinator, exchange, S.DISPUTED, note="Bram is er niet")
    assert set(told("exchange_disputed")) == {"Joop"}


def test_members_are_not_told_what_waits_for_coordinators(everyone, place):
    offer = place()
    services.listing_report(actor=everyone["bram"], listing=offer, reason="Reclame")
    exchange = services.exchange_propose(actor=everyone["bram"], listing=offer, description="Heg")
    step(everyone["anna"], exchange, S.ACCEPTED)
    step(everyone["bram"], exchange, S.DISPUTED, note="Niet gedaan")
    members = Membership.objects.filter(role=Role.MEMBER).values("user")
    assert not Notification.objects.filter(kind__in=KINDS, user__in=members).exists()


def test_coordinators_choose_how_they_hear_of_each_on_the_notifications_page(client, joop):
    assert set(KINDS) <= set(NOTIFICATION_KINDS)
    client.force_login(joop)
    page = client.get(reverse("accounts:notifications")).content.decode()
    for kind in KINDS:
        assert f'name="channel-{kind}"' in page
    client.post(reverse("accounts:notifications"), {"channel-exchange_review": "digest"})
    page = client.get(reverse("accounts:notifications")).content.decode()
    assert 'name="channel-exchange_review" value="digest" checked' in page


def test_members_are_not_offered_mail_choices_for_what_only_coordinators_get(client, everyone):
    client.force_login(everyone["bram"])
    page = client.get(reverse("accounts:notifications")).content.decode()
    assert 'name="channel-exchange_message"' in page
    for kind in KINDS:
        assert f'name="channel-{kind}"' not in page
    # A forged choice for such a kind is not stored either.
    client.post(reverse("accounts:notifications"), {"channel-exchange_review": "none"})
    assert not NotificationPreference.objects.filter(
        user=everyone["bram"], kind="exchange_review"
    ).exists()
