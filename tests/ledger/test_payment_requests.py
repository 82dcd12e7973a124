"""Payment requests: Anna helped Bram, so she asks him to pay."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Status
from ledger import services
from ledger.models import (
    Account,
    AutoAccept,
    PaymentRequest,
    RequestStatus,
    Transfer,
    TransferKind,
)
from ledger.tasks import payment_requests_auto_accept
from ruilkring.errors import (
    IdempotencyKeyReused,
    InvalidInput,
    NotAllowed,
    PaymentRefused,
    TransitionNotAllowed,
)
from tests.ledger.conftest import next_key

pytestmark = pytest.mark.django_db


def ask(payee, payer, minutes, memo="Hulp in de tuin", actor=None, key=None):
    return services.payment_request_create(
        actor=actor or payee.membership.user,
        community=payee.community,
        payer=payer,
        payee=payee,
        amount=minutes,
        memo=memo,
        idempotency_key=key or next_key(),
    )


def balance(account):
    return Account.objects.get(pk=account.pk).balance


def test_anna_asks_bram_to_pay_and_nothing_moves_until_he_accepts(
    anna, bram, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = ask(anna, bram, 90)
    assert request.status == RequestStatus.PENDING
    assert (balance(anna), balance(bram)) == (0, 0)
    assert mail.outbox[-1].to == [bram.membership.user.email]
    assert "Hulp in de tuin" in mail.outbox[-1].body

    with django_capture_on_commit_callbacks(execute=True):
        services.payment_request_decide(
            actor=bram.membership.user, request=request, to_status=RequestStatus.ACCEPTED
        )
    request.refresh_from_db()
    assert request.status == RequestStatus.ACCEPTED
    assert request.transfer.kind == TransferKind.REQUESTED_PAYMENT
    assert (balance(anna), balance(bram)) == (90, -90)
    assert mail.outbox[-1].to == [anna.membership.user.email]
    steps = list(request.events.values_list("from_status", "to_status"))
    assert steps == [("", "pending"), ("pending", "accepted")]


def test_bram_declines_a_request_he_does_not_recognise(anna, bram):
    request = ask(anna, bram, 600, "Tien uur schilderen?")
    services.payment_request_decide(
        actor=bram.membership.user, request=request, to_status=RequestStatus.REJECTED
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.REJECTED
    assert (balance(anna), balance(bram), Transfer.objects.count()) == (0, 0, 0)


def test_anna_withdraws_her_request(anna, bram):
    request = ask(anna, bram, 60)
    with pytest.raises(NotAllowed):
        services.payment_request_decide(
            actor=bram.membership.user, request=request, to_status=RequestStatus.CANCELLED
        )
    services.payment_request_decide(
        actor=anna.membership.user, request=request, to_status=RequestStatus.CANCELLED
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.CANCELLED


def test_a_request_is_answered_once(anna, bram):
    request = ask(anna, bram, 60)
    services.payment_request_decide(
        actor=bram.membership.user, request=request, to_status=RequestStatus.ACCEPTED
    )
    with pytest.raises(TransitionNotAllowed):
        services.payment_request_decide(
            actor=bram.membership.user, request=request, to_status=RequestStatus.ACCEPTED
        )
    assert Transfer.objects.count() == 1


def test_asking_someone_else_to_pay_a_third_member_is_not_allowed(anna, bram, carla):
    with pytest.raises(NotAllowed):
        ask(anna, bram, 60, actor=carla.membership.user)
    assert not PaymentRequest.objects.exists()


def test_a_request_needs_a_description_and_a_positive_amount(anna, bram):
    with pytest.raises(InvalidInput):
        ask(anna, bram, 60, memo="  ")
    with pytest.raises(InvalidInput):
        ask(anna, bram, 0)
    assert not PaymentRequest.objects.exists()


def test_accepting_past_the_limit_is_refused_and_the_request_keeps_waiting(anna, bram, carla):
    services.transfer_create(
        actor=bram.membership.user,
        community=bram.community,
        kind=TransferKind.PAYMENT,
        payer=bram,
        payee=carla,
        amount=20 * 60,
        memo="Verhuizing",
        idempotency_key=next_key(),
    )
    request = ask(anna, bram, 60)
    with pytest.raises(PaymentRefused, match="past your credit limit"):
        services.payment_request_decide(
            actor=bram.membership.user, request=request, to_status=RequestStatus.ACCEPTED
        )
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert balance(anna) == 0


def test_the_same_request_sent_twice_is_one_request(anna, bram):
    first = ask(anna, bram, 60, key="ask-1")
    assert ask(anna, bram, 60, key="ask-1").pk == first.pk
    with pytest.raises(IdempotencyKeyReused):
        ask(anna, bram, 90, key="ask-1")
    assert PaymentRequest.objects.count() == 1


def test_a_retry_after_a_suspension_returns_the_request_it_made(anna, bram):
    first = ask(anna, bram, 60, key="ask-before-pause")
    bram.membership.status = Status.SUSPENDED
    bram.membership.save(update_fields=["status"])
    bram.refresh_from_db()
    assert ask(anna, bram, 60, key="ask-before-pause").pk == first.pk
    with pytest.raises(PaymentRefused) as refused:
        ask(anna, bram, 60, key="ask-after-pause")
    assert refused.value.code == "member_suspended"
    assert PaymentRequest.objects.count() == 1


def test_a_member_who_accepts_everything_pays_at_once(anna, bram):
    services.account_request_policy_set(
        actor=bram.membership.user, account=bram, auto_accept=AutoAccept.ALWAYS, days=14, trusted=[]
    )
    request = ask(anna, bram, 60)
    assert request.status == RequestStatus.ACCEPTED
    assert request.transfer.created_by is None, "the system paid, as Bram chose"
    assert balance(anna) == 60


def test_requests_from_trusted_members_are_paid_at_once_and_others_wait(anna, bram, carla):
    services.account_request_policy_set(
        actor=bram.membership.user,
        account=bram,
        auto_accept=AutoAccept.TRUSTED,
        days=14,
        trusted=[anna],
    )
    assert ask(anna, bram, 60).status == RequestStatus.ACCEPTED
    assert ask(carla, bram, 60).status == RequestStatus.PENDING


def test_after_the_agreed_days_the_scheduler_pays_the_request(anna, bram, coordinator):
    services.ledger_settings_set(
        actor=coordinator, community=anna.community, auto_accept=AutoAccept.AFTER_DAYS, days=7
    )
    request = ask(anna, bram, 60)
    assert request.auto_accept_at is not None
    assert payment_requests_auto_accept() == 0, "not due yet"
    PaymentRequest.objects.filter(pk=request.pk).update(
        auto_accept_at=timezone.now() - timedelta(minutes=1)
    )
    assert payment_requests_auto_accept.delay().get() == 1
    request.refresh_from_db()
    assert request.status == RequestStatus.ACCEPTED
    assert balance(anna) == 60


def test_a_due_request_that_cannot_be_paid_waits_for_the_payer(anna, bram, carla, coordinator):
    services.ledger_settings_set(
        actor=coordinator, community=anna.community, auto_accept=AutoAccept.AFTER_DAYS, days=1
    )
    request = ask(anna, bram, 60)
    services.transfer_create(
        actor=bram.membership.user,
        community=bram.community,
        kind=TransferKind.PAYMENT,
        payer=bram,
        payee=carla,
        amount=20 * 60,
        memo="Verhuizing",
        idempotency_key=next_key(),
    )
    PaymentRequest.objects.filter(pk=request.pk).update(
        auto_accept_at=timezone.now() - timedelta(minutes=1)
    )
    assert payment_requests_auto_accept() == 0
    request.refresh_from_db()
    assert (request.status, request.auto_accept_at) == (RequestStatus.PENDING, None)


def test_a_coordinator_accepts_for_a_member_who_is_not_online(anna, bram, coordinator):
    request = ask(anna, bram, 60)
    services.payment_request_decide(
        actor=coordinator, request=request, to_status=RequestStatus.ACCEPTED
    )
    request.refresh_from_db()
    assert request.transfer.created_by == coordinator


def test_a_member_cannot_make_a_requested_payment_without_a_request(anna, bram):
    with pytest.raises(InvalidInput):
        services.transfer_create(
            actor=bram.membership.user,
            community=bram.community,
            kind=TransferKind.REQUESTED_PAYMENT,
            payer=bram,
            payee=anna,
            amount=60,
            memo="x",
            idempotency_key=next_key(),
        )
