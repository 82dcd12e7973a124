"""The ledger, told as what happens in a circle.

Sterrenstelsel counts in time: one ster is one hour, kept in minutes.
"""

import pytest
from django.core import mail

from ledger import services
from ledger.models import Account, AccountKind, Entry, LimitChange, Transfer, TransferKind
from ledger.selectors import ledger_verify
from tests.ledger.conftest import next_key

pytestmark = pytest.mark.django_db


def pay(payer, payee, minutes, memo="", kind=TransferKind.PAYMENT, actor=None, key=None):
    return services.transfer_create(
        actor=actor or payer.membership.user,
        community=payer.community,
        kind=kind,
        payer=payer,
        payee=payee,
        amount=minutes,
        memo=memo,
        idempotency_key=key or next_key(),
    )


def balances(*accounts):
    return [Account.objects.get(pk=a.pk).balance for a in accounts]


def test_anna_helps_bram_for_90_minutes_and_bram_pays_her(anna, bram):
    transfer = pay(bram, anna, 90, "Help in de tuin")

    assert balances(anna, bram) == [90, -90]
    entries = {e.account_id: e for e in transfer.entries.all()}
    assert (entries[anna.pk].amount, entries[anna.pk].balance_after, entries[anna.pk].version) == (
        90,
        90,
        1,
    )
    assert (entries[bram.pk].amount, entries[bram.pk].balance_after, entries[bram.pk].version) == (
        -90,
        -90,
        1,
    )
    assert transfer.created_by == bram.membership.user
    assert ledger_verify().clean


def test_each_entry_keeps_the_balance_after_it_so_the_statement_needs_no_sums(anna, bram):
    pay(bram, anna, 90)
    pay(anna, bram, 30)
    pay(bram, anna, 45)
    chain = list(
        Entry.objects.filter(account=anna)
        .order_by("version")
        .values_list("version", "amount", "balance_after")
    )
    assert chain == [(1, 90, 90), (2, -30, 60), (3, 45, 105)]
    assert Account.objects.get(pk=anna.pk).version == 3


def test_sending_the_same_payment_twice_makes_one_transfer(anna, bram):
    first = pay(bram, anna, 60, "Fiets", key="tab-1")
    again = pay(bram, anna, 60, "Fiets", key="tab-1")
    assert again.pk == first.pk
    assert balances(anna, bram) == [60, -60]


def test_anna_gives_to_the_pot_and_the_pot_helps_carla(anna, bram, carla, coordinator):
    pot = services.system_account_open(community=anna.community, kind=AccountKind.POT)
    pay(bram, anna, 180)
    pay(anna, pot, 120, "Voor wie het nodig heeft", kind=TransferKind.POT_DONATION)
    services.transfer_create(
        actor=coordinator,
        community=anna.community,
        kind=TransferKind.POT_GRANT,
        payer=pot,
        payee=carla,
        amount=60,
        memo="Boodschappen voor Carla",
        idempotency_key=next_key(),
    )
    assert balances(anna, bram, carla, pot) == [60, -180, 60, 60]
    assert ledger_verify().clean


def test_a_coordinator_records_a_trade_for_two_members_who_are_not_online(anna, bram, coordinator):
    transfer = pay(
        bram, anna, 120, "Papieren cheque", kind=TransferKind.COORDINATOR_ENTRY, actor=coordinator
    )
    assert transfer.created_by == coordinator
    assert balances(anna, bram) == [120, -120]


def test_a_stack_of_paper_cheques_is_entered_at_once(anna, bram, carla, coordinator):
    lines = [
        services.ChequeLine(payer=bram, payee=anna, amount=60, memo="Tuin"),
        services.ChequeLine(payer=carla, payee=bram, amount=30, memo="Koffie en een praatje"),
        services.ChequeLine(payer=anna, payee=carla, amount=90, memo="Fiets"),
    ]
    batch = services.transfer_batch_create(
        actor=coordinator,
        community=anna.community,
        lines=lines,
        declared_total=180,
        idempotency_key="stack-2026-11",
    )
    assert batch.transfers.count() == 3
    assert balances(anna, bram, carla) == [-30, -30, 60]
    again = services.transfer_batch_create(
        actor=coordinator,
        community=anna.community,
        lines=lines,
        declared_total=180,
        idempotency_key="stack-2026-11",
    )
    assert again.pk == batch.pk
    assert Transfer.objects.count() == 3


def test_a_coordinator_reverses_a_mistake_and_both_members_are_told(
    anna, bram, coordinator, django_capture_on_commit_callbacks
):
    mistake = pay(bram, anna, 600, "Tien uur? Dat moest één uur zijn")
    with django_capture_on_commit_callbacks(execute=True):
        reversal = services.transfer_reverse(
            actor=coordinator,
            transfer=mistake,
            reason="Verkeerd bedrag ingevuld",
            idempotency_key=next_key(),
        )
    assert reversal.reverses == mistake
    assert balances(anna, bram) == [0, 0]
    assert Transfer.objects.count() == 2, "nothing is deleted; the correction is its own transfer"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [anna.membership.user.email, bram.membership.user.email]
    )
    assert "Verkeerd bedrag ingevuld" in mail.outbox[0].body


def test_a_coordinator_sets_a_limit_with_a_reason_and_it_is_recorded(anna, coordinator):
    services.account_limits_set(
        actor=coordinator, account=anna, floor=-30 * 60, ceiling=None, reason="Veel zorg nodig"
    )
    anna.refresh_from_db()
    assert (anna.floor, anna.effective_floor, anna.effective_ceiling) == (-1800, -1800, 2400)
    change = LimitChange.objects.get(account=anna)
    assert (change.old_floor, change.new_floor, change.changed_by, change.reason) == (
        None,
        -1800,
        coordinator,
        "Veel zorg nodig",
    )


def test_after_a_tighter_limit_paying_back_is_still_possible(anna, bram, coordinator):
    pay(bram, anna, 15 * 60)  # Bram received 15 hours of help
    services.account_limits_set(
        actor=coordinator, account=bram, floor=-10 * 60, ceiling=None, reason="Afspraak"
    )
    pay(anna, bram, 60, "Bram helpt Anna weer")  # back towards the limit: allowed
    assert balances(bram) == [-14 * 60]


def test_a_leaving_member_settles_up_towards_zero(anna, bram, coordinator):
    pay(bram, anna, 120)
    membership = anna.membership
    membership.status = "leaving"
    membership.save()
    pay(anna, bram, 120, "Afronden")
    assert balances(anna, bram) == [0, 0]
