"""Anna offers help in the garden; Bram responds. From agreement to a thank-you."""

import itertools

import pytest

from accounts.models import Status
from ledger import services as ledger
from ledger.models import Account, AutoAccept, PaymentRequest, RequestStatus, Transfer
from listings import services
from listings.models import Exchange, ExchangeEvent, ExchangeSettings, ExchangeStatus, ThankYou
from listings.transitions import EXCHANGE_TRANSITIONS, ExchangeParty
from ruilkring.errors import InvalidInput, NotAllowed, NotFound, TransitionNotAllowed
from tests.factories import CoordinatorFactory, UserFactory

pytestmark = pytest.mark.django_db
S = ExchangeStatus


@pytest.fixture
def carla(member_factory):
    return member_factory("Carla")


def balance(member):
    return Account.objects.get(membership=member).balance


def step(actor, exchange, to_status, **extra):
    return services.exchange_step(actor=actor, exchange=exchange, to_status=to_status, **extra)


def test_bram_responds_anna_helps_bram_pays_and_thanks(anna, bram, place):
    offer = place()
    exchange = services.exchange_propose(
        actor=bram.user, listing=offer, description="Zaterdag de heg knippen?"
    )
    assert (exchange.provider, exchange.receiver, exchange.status) == (anna, bram, S.PROPOSED)
    step(anna.user, exchange, S.ACCEPTED)
    done = step(anna.user, exchange, S.DONE, amount=90)
    assert done.payment_request.status == RequestStatus.PENDING
    assert (balance(anna), balance(bram)) == (0, 0), "nothing moves before Bram pays"
    paid = step(bram.user, exchange, S.PAID)
    assert paid.transfer == PaymentRequest.objects.get().transfer
    assert (balance(anna), balance(bram)) == (90, -90)
    services.exchange_thank(actor=bram.user, exchange=paid, body="Dank je wel, Anna!")
    assert ThankYou.objects.get().body == "Dank je wel, Anna!"
    assert (balance(anna), balance(bram)) == (90, -90), "a thank-you moves no credit"
    steps = list(exchange.events.values_list("role", "from_status", "to_status"))
    assert steps == [
        ("proposer", "", "proposed"),
        ("counterpart", "proposed", "accepted"),
        ("provider", "accepted", "done"),
        ("receiver", "done", "paid"),
    ]


def test_a_receiver_who_pays_automatically_pays_when_the_help_is_done(anna, bram, place):
    ledger.account_request_policy_set(
        actor=bram.user,
        account=ledger.account_open(membership=bram),
        auto_accept=AutoAccept.ALWAYS,
        days=14,
        trusted=[],
    )
    exchange = services.exchange_propose(actor=bram.user, listing=place(), description="Heg")
    step(anna.user, exchange, S.ACCEPTED)
    paid = step(anna.user, exchange, S.DONE, amount=60)
    assert paid.status == S.PAID and paid.transfer is not None
    assert ExchangeEvent.objects.filter(exchange=exchange).last().role == ExchangeParty.SYSTEM


def test_a_request_answered_on_the_ledger_pages_catches_up(anna, bram, place):
    exchange = services.exchange_propose(actor=bram.user, listing=place(), description="Heg")
    step(anna.user, exchange, S.ACCEPTED)
    done = step(anna.user, exchange, S.DONE, amount=60)
    ledger.payment_request_decide(
        actor=bram.user, request=done.payment_request, to_status=RequestStatus.ACCEPTED
    )
    assert services.exchange_payments_sync() == 1
    assert services.exchange_payments_sync() == 0
    assert Exchange.objects.get(pk=exchange.pk).status == S.PAID


def test_a_dispute_is_settled_in_part_by_a_coordinator_with_a_reason(
    anna, bram, coordinator, place
):
    exchange = services.exchange_propose(actor=bram.user, listing=place(), description="Heg")
    step(anna.user, exchange, S.ACCEPTED)
    step(anna.user, exchange, S.DONE, amount=120)
    disputed = step(bram.user, exchange, S.DISPUTED, note="Het was maar een uur.")
    assert PaymentRequest.objects.get().status == RequestStatus.REJECTED
    with pytest.raises(InvalidInput):
        step(coordinator, disputed, S.PAID, amount=60)
    settled = step(coordinator, disputed, S.PAID, amount=60, note="Samen afgesproken: een uur.")
    assert (settled.amount, balance(anna), balance(bram)) == (60, 60, -60)
    assert settled.transfer.reason == "Samen afgesproken: een uur."


def test_a_paid_exchange_that_went_wrong_is_cancelled_and_the_payment_reversed(
    anna, bram, coordinator, place
):
    exchange = services.exchange_propose(actor=bram.user, listing=place(), description="Heg")
    step(anna.user, exchange, S.ACCEPTED)
    step(anna.user, exchange, S.DONE, amount=90)
    step(bram.user, exchange, S.PAID)
    step(bram.user, exchange, S.DISPUTED, note="De heg is niet geknipt.")
    step(coordinator, exchange, S.CANCELLED, note="Anna bevestigt het; terugdraaien.")
    assert (balance(anna), balance(bram)) == (0, 0)
    assert Transfer.objects.filter(kind="reversal").count() == 1


def test_what_members_cannot_do_is_refused_and_changes_nothing(anna, bram, carla, place):
    offer = place()
    with pytest.raises(NotAllowed):
        services.exchange_propose(actor=anna.user, listing=offer, description="Mijzelf?")
    exchange = services.exchange_propose(actor=bram.user, listing=offer, description="Heg")
    with pytest.raises(NotAllowed):
        step(bram.user, exchange, S.ACCEPTED)  # Bram proposed it; Anna answers
    with pytest.raises(NotFound):
        step(carla.user, exchange, S.ACCEPTED)  # not hers
    step(anna.user, exchange, S.ACCEPTED)
    with pytest.raises(InvalidInput):
        step(anna.user, exchange, S.DONE)  # how much?
    step(anna.user, exchange, S.DONE, amount=60)
    step(bram.user, exchange, S.PAID)
    with pytest.raises(TransitionNotAllowed):
        step(bram.user, exchange, S.PAID)  # paying twice
    with pytest.raises(NotAllowed):
        services.exchange_thank(actor=anna.user, exchange=exchange, body="Graag gedaan")
    services.exchange_thank(actor=bram.user, exchange=exchange, body="Dank!")
    with pytest.raises(TransitionNotAllowed):
        services.exchange_thank(actor=bram.user, exchange=exchange, body="Nog eens dank!")
    with pytest.raises(NotFound):
        services.exchange_message_post(actor=carla.user, exchange=exchange, body="Hallo")
    assert (balance(anna), balance(bram)) == (60, -60)
    assert PaymentRequest.objects.count() == Transfer.objects.count() == 1


def test_a_coordinator_matches_two_members_and_the_helper_agrees(
    anna, bram, coordinator, member_factory
):
    exchange = services.exchange_match(
        actor=coordinator, provider=anna, receiver=bram, description="Boodschappen voor Bram"
    )
    assert exchange.proposer is None
    with pytest.raises(NotAllowed):
        step(bram.user, exchange, S.ACCEPTED)
    assert step(anna.user, exchange, S.ACCEPTED).status == S.ACCEPTED
    with pytest.raises(NotAllowed):
        services.exchange_match(actor=anna.user, provider=anna, receiver=bram, description="x")
    with pytest.raises(NotAllowed):
        services.exchange_match(
            actor=coordinator,
            provider=anna,
            receiver=member_factory("Dirk", Status.SUSPENDED),
            description="x",
        )


# -- Every status x every kind of actor x every target ---------------------------

ACTORS = ["proposer", "counterpart", "coordinator", "outsider", "system"]


def _walk_to(status, *, anna, bram, coordinator, listing):
    """A real exchange in ``status``, reached by the steps members take. Review:
    the circle has every payment approved, so Anna's "done" waits for approval."""
    exchange = services.exchange_propose(actor=bram.user, listing=listing, description="Heg")
    if status == S.REVIEW:
        ExchangeSettings.objects.create(community=listing.community, approval_above=0)
    path = {
        S.PROPOSED: [],
        S.ACCEPTED: [(anna, S.ACCEPTED, {})],
        S.DECLINED: [(anna, S.DECLINED, {})],
        S.CANCELLED: [(bram, S.CANCELLED, {})],
        S.DONE: [(anna, S.ACCEPTED, {}), (anna, S.DONE, {"amount": 30})],
        S.REVIEW: [(anna, S.ACCEPTED, {}), (anna, S.DONE, {"amount": 30})],
        S.PAID: [(anna, S.ACCEPTED, {}), (anna, S.DONE, {"amount": 30}), (bram, S.PAID, {})],
        S.DISPUTED: [(anna, S.ACCEPTED, {}), (anna, S.DISPUTED, {"note": "Oneens."})],
    }[status]
    for member, target, extra in path:
        exchange = step(member.user, exchange, target, **extra)
    assert exchange.status == status
    return exchange


@pytest.mark.parametrize(
    ("source", "target", "actor"),
    list(itertools.product(S.values, S.values, ACTORS)),
)
def test_a_step_is_taken_exactly_when_the_table_allows_it(
    anna, bram, carla, place, circle, source, target, actor
):
    coordinator = CoordinatorFactory(community=circle, user=UserFactory()).user
    exchange = _walk_to(source, anna=anna, bram=bram, coordinator=coordinator, listing=place())
    person = {
        "proposer": bram.user,  # also the receiver
        "counterpart": anna.user,  # also the provider
        "coordinator": coordinator,
        "outsider": carla.user,
        "system": None,
    }[actor]
    parties = {
        "proposer": {"proposer", "receiver"},
        "counterpart": {"counterpart", "provider"},
    }.get(actor, {actor})
    allowed = EXCHANGE_TRANSITIONS.get((source, target))
    events = ExchangeEvent.objects.count()
    extra = {"amount": 30, "note": "Met reden."}
    if actor == "outsider":
        expected = NotFound
    elif allowed is None:
        expected = TransitionNotAllowed
    elif not parties & allowed:
        expected = NotAllowed
    else:
        changed = step(person, exchange, target, **extra)
        assert changed.status == target
        assert ExchangeEvent.objects.filter(exchange=exchange, to_status=target).exists()
        return
    with pytest.raises(expected):
        step(person, exchange, target, **extra)
    assert Exchange.objects.get(pk=exchange.pk).status == source
    assert ExchangeEvent.objects.count() == events


def test_the_payment_says_what_the_help_was_on_both_statements(anna, bram, place):
    """The payment carries the listing's title, not the first message of the exchange."""
    offer = place()
    exchange = services.exchange_propose(
        actor=bram.user, listing=offer, description="Past het dinsdag?"
    )
    services.exchange_step(actor=anna.user, exchange=exchange, to_status=ExchangeStatus.ACCEPTED)
    exchange = services.exchange_step(
        actor=anna.user, exchange=exchange, to_status=ExchangeStatus.DONE, amount=60
    )
    assert exchange.payment_request.memo == offer.title
