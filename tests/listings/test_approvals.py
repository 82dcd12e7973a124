"""A coordinator approves some payments before the member who was helped is asked.

Sterrenstelsel counts in hours (kept in minutes). Its coordinator Mieke wants to
look at every payment above an hour, and at the first exchange of each member.
"""

import pytest
from django.urls import reverse

from accounts.models import Role, Status
from ledger import services as ledger
from ledger.models import Account, AutoAccept, PaymentRequest, RequestStatus, Transfer
from listings import selectors, services
from listings.models import Exchange, ExchangeEvent, ExchangeSettings, ExchangeStatus
from ruilkring.errors import InvalidInput, NotAllowed, NotFound
from tests.factories import CoordinatorFactory, UserFactory

pytestmark = pytest.mark.django_db
S = ExchangeStatus


@pytest.fixture
def carla(member_factory):
    return member_factory("Carla")


@pytest.fixture
def rules(circle, coordinator):
    def rules(*, above=None, first=0):
        return services.exchange_settings_set(
            actor=coordinator, community=circle, approval_above=above, approval_first=first
        )

    return rules


@pytest.fixture
def mieke_offer(circle, coordinator, garden):
    """Mieke, a coordinator, offers help herself."""

    def mieke_offer():
        return services.listing_create(
            actor=coordinator,
            owner=coordinator.memberships.get(community=circle),
            kind="offer",
            title="Fietsen repareren",
            description="Banden plakken.",
            category=garden,
            help_type="practical",
        )

    return mieke_offer


@pytest.fixture
def agreed(anna, bram, place):
    """Bram asks for Anna's help in the garden and Anna agrees."""

    def agreed(receiver=None, listing=None):
        receiver = receiver or bram
        exchange = services.exchange_propose(
            actor=receiver.user, listing=listing or place(), description="De heg knippen"
        )
        return step(anna.user, exchange, S.ACCEPTED)

    return agreed


def step(actor, exchange, to_status, **extra):
    return services.exchange_step(actor=actor, exchange=exchange, to_status=to_status, **extra)


def balance(member):
    account = Account.objects.filter(membership=member).first()
    return account.balance if account else 0


# -- When a payment waits ---------------------------------------------------------


def test_without_settings_nothing_waits(circle, anna, agreed):
    assert selectors.exchange_settings_of(community=circle).pk is None
    assert step(anna.user, agreed(), S.DONE, amount=6000).status == S.DONE


def test_a_payment_above_the_circle_s_amount_waits_and_asks_nothing_yet(anna, bram, agreed, rules):
    rules(above=60)
    exchange = step(anna.user, agreed(), S.DONE, amount=90)
    assert (exchange.status, exchange.amount, exchange.payment_request) == (S.REVIEW, 90, None)
    assert not PaymentRequest.objects.exists()
    assert (balance(anna), balance(bram)) == (0, 0)
    event = ExchangeEvent.objects.filter(exchange=exchange).latest("pk")
    assert (event.role, event.from_status, event.to_status) == ("provider", "accepted", "review")


def test_a_payment_of_exactly_the_amount_does_not_wait(anna, agreed, rules):
    rules(above=60)
    exchange = step(anna.user, agreed(), S.DONE, amount=60)
    assert exchange.status == S.DONE
    assert exchange.payment_request.amount == 60


def test_an_amount_of_zero_has_every_payment_approved(anna, agreed, rules):
    rules(above=0)
    assert step(anna.user, agreed(), S.DONE, amount=1).status == S.REVIEW


def test_a_member_s_first_exchanges_wait_until_they_have_enough_paid_ones(
    anna, bram, carla, coordinator, agreed, rules
):
    rules(first=1)
    first = step(anna.user, agreed(bram), S.DONE, amount=30)
    assert first.status == S.REVIEW, "Anna and Bram have no paid exchange yet"
    first = step(coordinator, first, S.DONE)
    step(bram.user, first, S.PAID)
    assert step(anna.user, agreed(bram), S.DONE, amount=30).status == S.DONE
    assert step(anna.user, agreed(carla), S.DONE, amount=30).status == S.REVIEW, (
        "Carla is new, although Anna is not"
    )


def test_only_paid_exchanges_count_towards_a_member_s_first_ones(
    anna, bram, coordinator, agreed, rules
):
    rules(first=1)
    cancelled = step(anna.user, agreed(bram), S.DONE, amount=30)
    step(coordinator, cancelled, S.CANCELLED, note="Dubbel ingevoerd.")
    assert step(anna.user, agreed(bram), S.DONE, amount=30).status == S.REVIEW


def test_a_coordinator_who_reports_it_done_for_the_helper_needs_no_approval(
    anna, bram, coordinator, agreed, rules
):
    rules(above=0, first=5)
    exchange = step(coordinator, agreed(), S.DONE, amount=600)
    assert exchange.status == S.DONE
    assert exchange.payment_request.status == RequestStatus.PENDING


# -- Approving --------------------------------------------------------------------


def test_approving_asks_the_receiver_to_pay_the_amount_the_helper_reported(
    anna, bram, coordinator, agreed, rules
):
    rules(above=60)
    waiting = step(anna.user, agreed(), S.DONE, amount=90)
    approved = step(coordinator, waiting, S.DONE)
    request = approved.payment_request
    assert (approved.status, request.status, request.amount) == (S.DONE, "pending", 90)
    assert (request.payer.membership, request.payee.membership) == (bram, anna)
    assert (balance(anna), balance(bram)) == (0, 0), "Bram has not paid yet"
    paid = step(bram.user, approved, S.PAID)
    assert (paid.status, balance(anna), balance(bram)) == (S.PAID, 90, -90)
    assert list(paid.events.values_list("role", "from_status", "to_status"))[-3:] == [
        ("provider", "accepted", "review"),
        ("coordinator", "review", "done"),
        ("receiver", "done", "paid"),
    ]


def test_approving_pays_at_once_when_the_receiver_pays_automatically(
    anna, bram, coordinator, agreed, rules
):
    ledger.account_request_policy_set(
        actor=bram.user,
        account=ledger.account_open(membership=bram),
        auto_accept=AutoAccept.ALWAYS,
        days=14,
        trusted=[],
    )
    rules(above=60)
    waiting = step(anna.user, agreed(), S.DONE, amount=90)
    assert (waiting.status, balance(bram)) == (S.REVIEW, 0), "nothing is paid before approval"
    approved = step(coordinator, waiting, S.DONE)
    assert approved.status == S.PAID
    assert approved.transfer == PaymentRequest.objects.get().transfer
    assert (balance(anna), balance(bram)) == (90, -90)
    last = ExchangeEvent.objects.filter(exchange=approved).latest("pk")
    assert (last.role, last.from_status, last.to_status) == ("system", "done", "paid")


def test_approving_keeps_the_reported_amount(anna, coordinator, agreed, rules):
    rules(above=60)
    waiting = step(anna.user, agreed(), S.DONE, amount=90)
    with pytest.raises(InvalidInput):
        step(coordinator, waiting, S.DONE, amount=30)
    assert Exchange.objects.get(pk=waiting.pk).status == S.REVIEW
    assert not PaymentRequest.objects.exists()
    assert step(coordinator, waiting, S.DONE, amount=90).payment_request.amount == 90


def test_nobody_but_a_coordinator_approves(anna, bram, carla, agreed, rules):
    rules(above=0)
    waiting = step(anna.user, agreed(), S.DONE, amount=90)
    events = ExchangeEvent.objects.count()
    for member in (anna, bram):
        with pytest.raises(NotAllowed):
            step(member.user, waiting, S.DONE)
        with pytest.raises(NotAllowed):
            step(member.user, waiting, S.CANCELLED, note="Laat maar.")
    with pytest.raises(NotFound):
        step(carla.user, waiting, S.DONE)
    assert Exchange.objects.get(pk=waiting.pk).status == S.REVIEW
    assert ExchangeEvent.objects.count() == events
    assert not PaymentRequest.objects.exists()


def test_a_coordinator_does_not_approve_their_own_payment(
    circle, bram, coordinator, mieke_offer, rules
):
    """Mieke is a coordinator and offers help herself. Her payment waits like
    anyone's, and another coordinator approves it."""
    rules(above=0)
    offer = mieke_offer()
    other = CoordinatorFactory(community=circle, user=UserFactory(display_name="Joop")).user
    exchange = services.exchange_propose(actor=bram.user, listing=offer, description="Mijn band")
    step(coordinator, exchange, S.ACCEPTED)
    waiting = step(coordinator, exchange, S.DONE, amount=60)
    assert waiting.status == S.REVIEW, "as the helper, Mieke's payment waits too"
    with pytest.raises(NotAllowed, match="your own exchange"):
        step(coordinator, waiting, S.DONE)
    with pytest.raises(NotAllowed, match="your own exchange"):
        step(coordinator, waiting, S.CANCELLED, note="Toch niet.")
    assert Exchange.objects.get(pk=waiting.pk).status == S.REVIEW
    assert step(other, waiting, S.DONE).status == S.DONE


def test_the_only_coordinator_s_own_payment_does_not_wait_for_nobody(
    circle, bram, coordinator, mieke_offer, rules
):
    """Mieke is the circle's only coordinator: nobody else could approve her
    payment, so it goes to Bram at once instead of waiting for ever."""
    rules(above=0)
    offer = mieke_offer()
    exchange = services.exchange_propose(actor=bram.user, listing=offer, description="Mijn band")
    step(coordinator, exchange, S.ACCEPTED)
    assert step(coordinator, exchange, S.DONE, amount=60).status == S.DONE


# -- Turning down, and asking a coordinator ----------------------------------------


def test_turning_a_payment_down_needs_a_reason_and_asks_nothing(
    anna, bram, coordinator, agreed, rules
):
    rules(above=0)
    waiting = step(anna.user, agreed(), S.DONE, amount=90)
    events = ExchangeEvent.objects.count()
    with pytest.raises(InvalidInput):
        step(coordinator, waiting, S.CANCELLED)
    with pytest.raises(InvalidInput):
        step(coordinator, waiting, S.CANCELLED, note="   ")
    assert Exchange.objects.get(pk=waiting.pk).status == S.REVIEW
    assert ExchangeEvent.objects.count() == events
    cancelled = step(coordinator, waiting, S.CANCELLED, note="Dit was geen ruil maar een gift.")
    assert cancelled.status == S.CANCELLED
    assert cancelled.events.latest("pk").note == "Dit was geen ruil maar een gift."
    assert not PaymentRequest.objects.exists() and not Transfer.objects.exists()
    assert (balance(anna), balance(bram)) == (0, 0)


def test_a_member_asks_a_coordinator_while_it_waits_and_the_coordinator_settles(
    anna, bram, coordinator, agreed, rules
):
    rules(above=0)
    waiting = step(anna.user, agreed(), S.DONE, amount=120)
    disputed = step(bram.user, waiting, S.DISPUTED, note="Het was een uur, geen twee.")
    assert disputed.status == S.DISPUTED and not PaymentRequest.objects.exists()
    settled = step(coordinator, disputed, S.PAID, amount=60, note="Samen: een uur.")
    assert (settled.status, balance(anna), balance(bram)) == (S.PAID, 60, -60)


# -- The settings ----------------------------------------------------------------


def test_the_settings_are_kept_and_changed_by_a_coordinator(circle, coordinator):
    assert selectors.exchange_settings_of(community=circle).approval_above is None
    services.exchange_settings_set(
        actor=coordinator, community=circle, approval_above=120, approval_first=3
    )
    services.exchange_settings_set(
        actor=coordinator, community=circle, approval_above=None, approval_first=2
    )
    kept = ExchangeSettings.objects.get(community=circle)
    assert (kept.approval_above, kept.approval_first) == (None, 2)
    assert selectors.exchange_settings_of(community=circle) == kept


@pytest.mark.parametrize(
    ("above", "first"),
    [(-1, 0), (0, -1), (60, 101), ("60", 0), (60, True), (1.5, 0)],
)
def test_settings_that_make_no_sense_are_refused_and_change_nothing(
    circle, coordinator, above, first
):
    services.exchange_settings_set(
        actor=coordinator, community=circle, approval_above=60, approval_first=1
    )
    with pytest.raises(InvalidInput):
        services.exchange_settings_set(
            actor=coordinator, community=circle, approval_above=above, approval_first=first
        )
    kept = ExchangeSettings.objects.get(community=circle)
    assert (kept.approval_above, kept.approval_first) == (60, 1)


def test_only_a_coordinator_of_the_circle_sets_them(circle, anna):
    with pytest.raises(NotAllowed):
        services.exchange_settings_set(
            actor=anna.user, community=circle, approval_above=0, approval_first=0
        )
    elsewhere = CoordinatorFactory(role=Role.COORDINATOR, status=Status.ACTIVE).user
    with pytest.raises(NotAllowed):
        services.exchange_settings_set(
            actor=elsewhere, community=circle, approval_above=0, approval_first=0
        )
    assert not ExchangeSettings.objects.exists()


# -- On the pages -------------------------------------------------------------------


def url(name, circle, *args):
    return reverse(f"listings:{name}", args=[circle.slug, *args])


def test_a_coordinator_types_the_amount_in_hours_on_the_settings_page(client, circle, coordinator):
    client.force_login(coordinator)
    page = client.get(url("moderation", circle)).content.decode()
    assert url("exchange_settings", circle) in page
    response = client.post(
        url("exchange_settings", circle), {"approval_above": "1,5", "approval_first": "2"}
    )
    assert response.status_code == 302
    kept = ExchangeSettings.objects.get(community=circle)
    assert (kept.approval_above, kept.approval_first) == (90, 2)
    page = client.get(url("exchange_settings", circle)).content.decode()
    assert 'value="1.5"' in page and 'value="2"' in page
    client.post(url("exchange_settings", circle), {"approval_above": "", "approval_first": ""})
    kept.refresh_from_db()
    assert (kept.approval_above, kept.approval_first) == (None, 0)


def test_a_negative_amount_on_the_settings_page_is_refused_and_changes_nothing(
    client, circle, coordinator, rules
):
    rules(above=60, first=1)
    client.force_login(coordinator)
    response = client.post(
        url("exchange_settings", circle), {"approval_above": "-1", "approval_first": "1"}
    )
    assert response.status_code == 400
    assert "Enter zero or a positive number." in response.content.decode()
    response = client.post(
        url("exchange_settings", circle), {"approval_above": "1", "approval_first": "-2"}
    )
    assert response.status_code == 400
    kept = ExchangeSettings.objects.get(community=circle)
    assert (kept.approval_above, kept.approval_first) == (60, 1)


def test_members_cannot_open_the_settings_page(client, circle, anna):
    client.force_login(anna.user)
    response = client.get(url("exchange_settings", circle))
    assert response.status_code == 403
    assert "Only a coordinator" in response.content.decode()
    response = client.post(
        url("exchange_settings", circle), {"approval_above": "0", "approval_first": "0"}
    )
    assert response.status_code == 403
    assert not ExchangeSettings.objects.exists()


def test_from_done_through_approval_to_payment_on_the_pages(
    client, circle, anna, bram, coordinator, agreed, rules
):
    rules(above=60)
    exchange = agreed()
    client.force_login(anna.user)
    client.post(url("exchange_step", circle, exchange.pk), {"status": "done", "amount": "1,5"})
    assert Exchange.objects.get().status == S.REVIEW
    page = client.get(url("exchange", circle, exchange.pk)).content.decode()
    assert "A coordinator looks at this payment first." in page
    assert "Waiting for a coordinator" in page

    client.force_login(bram.user)
    page = client.get(url("exchange", circle, exchange.pk)).content.decode()
    assert "A coordinator looks at this payment first." in page
    assert "Nothing is asked of Bram until then." in page
    assert 'value="paid"' not in page and 'value="done"' not in page
    assert 'value="disputed"' in page, "Bram can still ask a coordinator"

    client.force_login(coordinator)
    page = client.get(url("moderation", circle)).content.decode()
    assert "Waiting for approval" in page and "Anna helps Bram" in page
    assert "1.5\u00a0hours" in page
    response = client.post(
        url("exchange_step", circle, exchange.pk), {"status": "done", "back": "moderation"}
    )
    assert response["Location"] == url("moderation", circle)
    assert Exchange.objects.get().status == S.DONE
    assert (
        "No payments waiting for approval."
        in client.get(url("moderation", circle)).content.decode()
    )

    client.force_login(bram.user)
    page = client.get(url("exchange", circle, exchange.pk)).content.decode()
    assert "Pay (1.5\u00a0hours)" in page
    client.post(url("exchange_step", circle, exchange.pk), {"status": "paid"})
    assert Exchange.objects.get().status == S.PAID and balance(anna) == 90


def test_turning_down_on_the_queue_page_needs_a_reason(
    client, circle, anna, coordinator, agreed, rules
):
    rules(above=0)
    exchange = step(anna.user, agreed(), S.DONE, amount=90)
    client.force_login(coordinator)
    page = client.get(url("exchange", circle, exchange.pk)).content.decode()
    assert "Approve: ask Bram to pay 1.5\u00a0hours" in page
    assert "Turn it down: no payment" in page
    response = client.post(
        url("exchange_step", circle, exchange.pk),
        {"status": "cancelled", "note": "", "back": "moderation"},
        follow=True,
    )
    assert "Give a reason; both members can read it." in response.content.decode()
    assert Exchange.objects.get().status == S.REVIEW
    client.post(
        url("exchange_step", circle, exchange.pk),
        {"status": "cancelled", "note": "Geen ruil.", "back": "moderation"},
    )
    assert Exchange.objects.get().status == S.CANCELLED


def test_a_member_who_posts_an_approval_is_refused(client, circle, anna, bram, agreed, rules):
    rules(above=0)
    exchange = step(anna.user, agreed(), S.DONE, amount=90)
    for member in (anna, bram):
        client.force_login(member.user)
        response = client.post(
            url("exchange_step", circle, exchange.pk), {"status": "done"}, follow=True
        )
        assert "Only a coordinator can change" in response.content.decode()
    assert Exchange.objects.get().status == S.REVIEW
    assert not PaymentRequest.objects.exists()


# -- Through the API -----------------------------------------------------------------


def api(name, circle, *args):
    return reverse(f"listings_api:{name}", args=[circle.slug, *args])


def put(client, path, body):
    return client.put(path, body, content_type="application/json")


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def test_a_coordinator_reads_and_sets_the_settings_through_the_api(client, circle, coordinator):
    client.force_login(coordinator)
    assert client.get(api("exchange_settings", circle)).json() == {
        "approval_above": None,
        "approval_first": 0,
    }
    response = put(
        client, api("exchange_settings", circle), {"approval_above": 90, "approval_first": 2}
    )
    assert response.status_code == 200
    assert response.json() == {"approval_above": 90, "approval_first": 2}
    kept = ExchangeSettings.objects.get(community=circle)
    assert (kept.approval_above, kept.approval_first) == (90, 2)


@pytest.mark.parametrize(
    "body",
    [
        {"approval_above": -1, "approval_first": 0},
        {"approval_above": "90", "approval_first": 0},
        {"approval_above": 1.5, "approval_first": 0},
        {"approval_above": 90, "approval_first": 40000},
        {"approval_above": 90},
        {},
    ],
)
def test_bad_settings_through_the_api_are_a_problem_and_change_nothing(
    client, circle, coordinator, rules, body
):
    rules(above=60, first=1)
    client.force_login(coordinator)
    response = put(client, api("exchange_settings", circle), body)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "code" in response.json()
    kept = ExchangeSettings.objects.get(community=circle)
    assert (kept.approval_above, kept.approval_first) == (60, 1)


def test_members_and_outsiders_cannot_use_the_settings_api(client, circle, anna, rules):
    rules(above=60)
    client.force_login(anna.user)
    assert client.get(api("exchange_settings", circle)).status_code == 403
    body = {"approval_above": None, "approval_first": 0}
    assert put(client, api("exchange_settings", circle), body).status_code == 403
    client.force_login(UserFactory())
    assert client.get(api("exchange_settings", circle)).status_code == 404
    assert ExchangeSettings.objects.get(community=circle).approval_above == 60


def test_approving_and_turning_down_through_the_step_api(
    client, circle, anna, bram, coordinator, agreed, rules
):
    rules(above=0)
    client.force_login(anna.user)
    first = agreed()
    done = post(client, api("exchange_step", circle, first.pk), {"status": "done", "amount": 90})
    assert (done.status_code, done.json()["status"]) == (200, "review")
    assert done.json()["payment_request"] is None

    client.force_login(bram.user)
    refused = post(client, api("exchange_step", circle, first.pk), {"status": "done"})
    assert refused.status_code == 403 and refused.json()["code"] == "not_allowed"

    client.force_login(coordinator)
    approved = post(client, api("exchange_step", circle, first.pk), {"status": "done"})
    assert approved.status_code == 200
    assert approved.json()["status"] == "done" and approved.json()["payment_request"]
    again = post(client, api("exchange_step", circle, first.pk), {"status": "done"})
    assert again.status_code == 409

    second = step(anna.user, agreed(), S.DONE, amount=30)
    no_reason = post(client, api("exchange_step", circle, second.pk), {"status": "cancelled"})
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "note"
    assert Exchange.objects.get(pk=second.pk).status == S.REVIEW
    turned_down = post(
        client,
        api("exchange_step", circle, second.pk),
        {"status": "cancelled", "note": "Geen ruil."},
    )
    assert turned_down.json()["status"] == "cancelled"
    assert PaymentRequest.objects.count() == 1


def test_a_coordinator_s_own_payment_shows_no_approval_for_them_on_the_pages(
    client, circle, bram, coordinator, mieke_offer, rules
):
    rules(above=0)
    offer = mieke_offer()
    other = CoordinatorFactory(community=circle, user=UserFactory(display_name="Joop")).user
    exchange = services.exchange_propose(actor=bram.user, listing=offer, description="Mijn band")
    step(coordinator, exchange, S.ACCEPTED)
    step(coordinator, exchange, S.DONE, amount=60)
    client.force_login(coordinator)
    queue = client.get(url("moderation", circle)).content.decode()
    assert "This is your own exchange: another coordinator decides on it." in queue
    assert 'name="back"' not in queue
    page = client.get(url("exchange", circle, exchange.pk)).content.decode()
    assert "Approve:" not in page and "Turn it down" not in page
    client.force_login(other)
    queue = client.get(url("moderation", circle)).content.decode()
    assert "own exchange" not in queue and 'name="back"' in queue
