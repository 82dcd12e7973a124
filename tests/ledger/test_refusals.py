"""Every transfer the ledger refuses: it says why, and nothing changes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Status
from ledger import services
from ledger.models import Account, AccountKind, Entry, LimitChange, Transfer, TransferKind
from ledger.selectors import ledger_verify
from ruilkring.errors import (
    IdempotencyKeyReused,
    InvalidInput,
    NotAllowed,
    PaymentRefused,
    TransitionNotAllowed,
)
from tests.factories import CommunityFactory, MembershipFactory
from tests.ledger.conftest import next_key

pytestmark = pytest.mark.django_db


def pay(payer, payee, amount, *, actor=None, kind=TransferKind.PAYMENT, key=None, memo="x"):
    return services.transfer_create(
        actor=actor or payer.membership.user,
        community=payer.community,
        kind=kind,
        payer=payer,
        payee=payee,
        amount=amount,
        memo=memo,
        idempotency_key=key or next_key(),
    )


@pytest.fixture
def books():
    """What a person could observe of the ledger: every balance, version and row count."""

    def snapshot():
        return (
            sorted(Account.objects.values_list("pk", "balance", "version", "floor", "ceiling")),
            Transfer.objects.count(),
            Entry.objects.count(),
            LimitChange.objects.count(),
        )

    return snapshot


@pytest.mark.parametrize("amount", [0, -60, 1.5, 10**10 + 1, 10**30, True, "60"])
def test_an_amount_that_is_not_a_positive_whole_number_is_refused(anna, bram, books, amount):
    before = books()
    with pytest.raises(InvalidInput):
        pay(bram, anna, amount)
    assert books() == before


def test_paying_yourself_is_refused(anna, books):
    before = books()
    with pytest.raises(PaymentRefused, match="cannot pay yourself") as refused:
        pay(anna, anna, 60)
    assert refused.value.code == "self_payment"
    assert books() == before


def test_a_payment_to_another_circle_is_refused(anna, books):
    elsewhere = services.account_open(membership=MembershipFactory(community=CommunityFactory()))
    before = books()
    with pytest.raises(PaymentRefused, match="not possible yet") as refused:
        pay(anna, elsewhere, 60)
    assert refused.value.code == "cross_community"
    assert books() == before


def test_going_past_the_credit_limit_says_by_how_much_and_what_helps(anna, bram, books):
    pay(bram, anna, 19 * 60)
    before = books()
    with pytest.raises(PaymentRefused) as refused:
        pay(bram, anna, 150)
    assert str(refused.value) == (
        "This payment would take you 1.5\u00a0hours past your credit limit of "
        "\u221220\u00a0hours. Offering help brings you back within it."
    )
    assert refused.value.code == "limit_exceeded"
    assert books() == before


def test_the_refusal_is_in_dutch_for_a_dutch_reader(anna, bram, books, settings):
    from django.utils import translation

    pay(bram, anna, 19 * 60)
    with translation.override("nl"), pytest.raises(PaymentRefused) as refused:
        pay(bram, anna, 150)
    assert "1,5\u00a0uren" in str(refused.value)
    assert "kredietlimiet" in str(refused.value)


def test_going_past_the_receivers_maximum_is_refused(anna, bram, carla, coordinator, books):
    services.account_limits_set(actor=coordinator, account=anna, floor=None, ceiling=60, reason="x")
    before = books()
    with pytest.raises(PaymentRefused, match="past the maximum") as refused:
        pay(bram, anna, 90)
    assert refused.value.code == "ceiling_exceeded"
    assert books() == before


def test_a_suspended_member_cannot_give_or_receive(anna, member_factory, books):
    paused = member_factory("Dirk", Status.SUSPENDED)
    before = books()
    with pytest.raises(PaymentRefused, match="paused") as refused:
        pay(anna, paused, 60)
    assert refused.value.code == "member_suspended"
    with pytest.raises(PaymentRefused, match="paused"):
        pay(paused, anna, 60)
    assert books() == before


def test_a_leaving_member_cannot_move_away_from_zero(anna, bram, books):
    pay(bram, anna, 60)
    membership = anna.membership
    membership.status = Status.LEAVING
    membership.save()
    before = books()
    with pytest.raises(PaymentRefused, match="settle up") as refused:
        pay(bram, anna, 30)  # away from zero
    assert refused.value.code == "member_leaving"
    with pytest.raises(PaymentRefused, match="settle up"):
        pay(anna, bram, 90)  # past zero, to the other side
    assert books() == before


def test_someone_who_left_has_no_account_to_open(member_factory):
    from ledger.models import Account as LedgerAccount

    gone = MembershipFactory(status=Status.LEFT)
    with pytest.raises(PaymentRefused, match="not a member"):
        services.account_open(membership=gone)
    assert not LedgerAccount.objects.filter(membership=gone).exists()


def test_a_member_cannot_pay_from_someone_elses_account(anna, bram, carla, books):
    before = books()
    with pytest.raises(NotAllowed):
        pay(bram, anna, 60, actor=carla.membership.user)
    assert books() == before


def test_a_member_cannot_record_on_behalf_of_others(anna, bram, books):
    before = books()
    with pytest.raises(NotAllowed):
        pay(bram, anna, 60, actor=anna.membership.user, kind=TransferKind.COORDINATOR_ENTRY)
    assert books() == before


def test_the_pot_cannot_give_more_than_it_holds(carla, coordinator, books):
    pot = services.system_account_open(community=carla.community, kind=AccountKind.POT)
    before = books()
    with pytest.raises(PaymentRefused, match="community pot holds"):
        services.transfer_create(
            actor=coordinator,
            community=carla.community,
            kind=TransferKind.POT_GRANT,
            payer=pot,
            payee=carla,
            amount=60,
            memo="x",
            idempotency_key=next_key(),
        )
    assert books() == before


def test_a_reused_key_with_a_different_request_is_refused(anna, bram, books):
    pay(bram, anna, 60, key="same")
    before = books()
    with pytest.raises(IdempotencyKeyReused):
        pay(bram, anna, 90, key="same")
    assert books() == before


def test_a_missing_key_is_refused(anna, bram, books):
    before = books()
    with pytest.raises(InvalidInput):
        pay(bram, anna, 60, key="   ")
    assert books() == before


def test_a_batch_whose_total_does_not_match_records_nothing(anna, bram, coordinator, books):
    before = books()
    with pytest.raises(InvalidInput, match="add up to") as refused:
        services.transfer_batch_create(
            actor=coordinator,
            community=anna.community,
            lines=[
                services.ChequeLine(payer=bram, payee=anna, amount=60, memo="a"),
                services.ChequeLine(payer=anna, payee=bram, amount=30, memo="b"),
            ],
            declared_total=100,
            idempotency_key=next_key(),
        )
    assert refused.value.field == "declared_total"
    assert books() == before


def test_a_batch_with_one_refused_cheque_records_none_of_them(
    anna, bram, carla, coordinator, books
):
    before = books()
    with pytest.raises(PaymentRefused, match="Cheque 2"):
        services.transfer_batch_create(
            actor=coordinator,
            community=anna.community,
            lines=[
                services.ChequeLine(payer=bram, payee=anna, amount=60, memo="fine"),
                services.ChequeLine(payer=carla, payee=anna, amount=21 * 60, memo="too much"),
            ],
            declared_total=60 + 21 * 60,
            idempotency_key=next_key(),
        )
    assert books() == before


def test_a_transfer_is_reversed_once_only(anna, bram, coordinator, books):
    transfer = pay(bram, anna, 60)
    services.transfer_reverse(
        actor=coordinator, transfer=transfer, reason="Fout", idempotency_key=next_key()
    )
    before = books()
    with pytest.raises(TransitionNotAllowed, match="already been reversed"):
        services.transfer_reverse(
            actor=coordinator, transfer=transfer, reason="Nog eens", idempotency_key=next_key()
        )
    assert books() == before


def test_a_reversal_is_not_reversed(anna, bram, coordinator, books):
    reversal = services.transfer_reverse(
        actor=coordinator, transfer=pay(bram, anna, 60), reason="Fout", idempotency_key=next_key()
    )
    before = books()
    with pytest.raises(TransitionNotAllowed, match="cannot be reversed"):
        services.transfer_reverse(
            actor=coordinator, transfer=reversal, reason="x", idempotency_key=next_key()
        )
    assert books() == before


def test_only_a_coordinator_reverses_and_always_with_a_reason(anna, bram, coordinator, books):
    transfer = pay(bram, anna, 60)
    before = books()
    with pytest.raises(NotAllowed):
        services.transfer_reverse(
            actor=anna.membership.user, transfer=transfer, reason="x", idempotency_key=next_key()
        )
    with pytest.raises(InvalidInput, match="reason"):
        services.transfer_reverse(
            actor=coordinator, transfer=transfer, reason=" ", idempotency_key=next_key()
        )
    assert books() == before


def test_a_reversal_that_would_break_a_limit_is_refused(anna, bram, carla, coordinator, books):
    transfer = pay(bram, anna, 60)
    pay(anna, carla, 20 * 60 + 60)  # Anna spent it all and more, up to her limit
    before = books()
    with pytest.raises(PaymentRefused, match="credit limit"):
        services.transfer_reverse(
            actor=coordinator, transfer=transfer, reason="Fout", idempotency_key=next_key()
        )
    assert books() == before


def test_only_a_coordinator_sets_limits_and_with_a_reason(anna, coordinator, books):
    before = books()
    with pytest.raises(NotAllowed):
        services.account_limits_set(
            actor=anna.membership.user, account=anna, floor=-99999, ceiling=None, reason="Meer"
        )
    with pytest.raises(InvalidInput):
        services.account_limits_set(
            actor=coordinator, account=anna, floor=-600, ceiling=None, reason=""
        )
    with pytest.raises(InvalidInput):
        services.account_limits_set(
            actor=coordinator, account=anna, floor=600, ceiling=None, reason="positive floor"
        )
    assert books() == before
    assert ledger_verify().clean


@pytest.mark.parametrize("key", ["request:1", "a b", "x" * 101, "sleutel/1"])
def test_a_key_with_characters_the_ledger_reserves_is_refused(anna, bram, books, key):
    before = books()
    with pytest.raises(InvalidInput, match="idempotency key"):
        pay(bram, anna, 60, key=key)
    assert books() == before


def test_a_cheque_dated_in_the_future_or_long_ago_records_nothing(anna, bram, coordinator, books):
    before = books()
    today = timezone.localdate()
    for occurred_on, problem in [
        (today + timedelta(days=1), "in the future"),
        (today - timedelta(days=services.CHEQUE_MAX_AGE_DAYS + 1), "five years ago"),
    ]:
        with pytest.raises(InvalidInput, match=f"Cheque 2: .*{problem}"):
            services.transfer_batch_create(
                actor=coordinator,
                community=anna.community,
                lines=[
                    services.ChequeLine(payer=bram, payee=anna, amount=60, memo="a"),
                    services.ChequeLine(
                        payer=anna, payee=bram, amount=30, memo="b", occurred_on=occurred_on
                    ),
                ],
                declared_total=90,
                idempotency_key=next_key(),
            )
    assert books() == before
