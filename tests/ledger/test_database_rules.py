"""Raw SQL cannot corrupt the books: PostgreSQL itself refuses.

Each test goes around the services, the way a careless script, an admin
action or an attacker with the application's database access would.
"""

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from ledger import services
from ledger.models import Account, Entry, Transfer, TransferKind
from tests.factories import CommunityFactory, MembershipFactory
from tests.ledger.conftest import next_key

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("these rules are PostgreSQL's own: run `make test`")


@pytest.fixture
def paid(anna, bram):
    return services.transfer_create(
        actor=bram.membership.user,
        community=bram.community,
        kind=TransferKind.PAYMENT,
        payer=bram,
        payee=anna,
        amount=90,
        memo="Tuin",
        idempotency_key=next_key(),
    )


def refused(sql: str, params=()) -> str:
    """Run SQL in a savepoint with deferred checks made immediate; return the refusal."""
    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as c:
        c.execute("SET CONSTRAINTS ALL IMMEDIATE")
        c.execute(sql, params)
    return str(error.value)


def test_an_entry_cannot_be_updated(paid):
    assert "append-only" in refused("UPDATE ledger_entry SET amount = amount * 10")


def test_an_entry_or_a_transfer_cannot_be_deleted(paid):
    assert "append-only" in refused("DELETE FROM ledger_entry")
    assert "append-only" in refused("DELETE FROM ledger_transfer")


def test_the_journal_cannot_be_truncated(paid):
    assert "append-only" in refused("TRUNCATE ledger_entry, ledger_transfer CASCADE")


def test_an_account_cannot_be_deleted(paid, anna):
    assert "append-only" in refused("DELETE FROM ledger_account WHERE id = %s", [anna.pk])


def test_a_balance_cannot_be_changed_directly(paid, anna):
    message = refused("UPDATE ledger_account SET balance = balance + 1000 WHERE id = %s", [anna.pk])
    assert "changes only with an entry" in message
    message = refused(
        "UPDATE ledger_account SET balance = balance + 1000, version = version + 1 WHERE id = %s",
        [anna.pk],
    )
    assert "changes only with an entry" in message


def _raw_transfer(community_id: int, key: str) -> int:
    with connection.cursor() as c:
        c.execute(
            "INSERT INTO ledger_transfer (community_id, kind, memo, reason, created_at, "
            "idempotency_key, request_fingerprint) VALUES (%s, 'payment', '', '', now(), %s, '') "
            "RETURNING id",
            [community_id, key],
        )
        return c.fetchone()[0]


ENTRY = "INSERT INTO ledger_entry (transfer_id, account_id, amount, balance_after, version) "


def refused_with_transfer(community_id: int, entries_sql: str, params) -> str:
    """A new transfer written by hand, then ``entries_sql`` (``%(t)s`` is its id)."""
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        transfer_id = _raw_transfer(community_id, next_key())
        with connection.cursor() as c:
            c.execute(entries_sql, [transfer_id if p is TRANSFER else p for p in params])
            c.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return str(error.value)


TRANSFER = object()  # stands for the hand-written transfer's id in params


def test_an_unbalanced_transfer_is_refused_at_commit(anna):
    with pytest.raises(IntegrityError, match="summing to"), transaction.atomic():
        transfer_id = _raw_transfer(anna.community_id, "raw-1")
        with connection.cursor() as c:
            c.execute(ENTRY + "VALUES (%s, %s, 500, 500, 1)", [transfer_id, anna.pk])
            c.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert Account.objects.get(pk=anna.pk).balance == 0


def test_a_transfer_without_entries_is_refused_at_commit(anna):
    with pytest.raises(IntegrityError, match="needs at least two"), transaction.atomic():
        _raw_transfer(anna.community_id, "raw-2")
        with connection.cursor() as c:
            c.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_an_entry_must_continue_the_accounts_chain(paid, anna, bram):
    message = refused_with_transfer(
        anna.community_id,
        ENTRY + "VALUES (%s, %s, 10, 999, 7), (%s, %s, -10, -100, 2)",
        [TRANSFER, anna.pk, TRANSFER, bram.pk],
    )
    assert "must carry version 2 and balance 100" in message


@pytest.mark.django_db(transaction=True)
def test_an_entry_cannot_be_added_to_an_earlier_transfer(paid, anna, bram):
    """Two more entries that balance each other, slipped into yesterday's payment
    (committed before: this test runs outside the usual test transaction)."""
    message = refused(
        ENTRY + "VALUES (%s, %s, 10, 100, 2), (%s, %s, -10, -100, 2)",
        [paid.pk, anna.pk, paid.pk, bram.pk],
    )
    assert f"transfer {paid.pk} was written before" in message
    assert Entry.objects.filter(transfer=paid).count() == 2


def test_a_transfer_written_by_hand_is_applied_to_its_accounts(paid, anna, bram, capsys):
    """Well-formed rows need nothing more: inserting an entry moves its account."""
    with transaction.atomic():
        transfer_id = _raw_transfer(anna.community_id, "raw-3")
        with connection.cursor() as c:
            c.execute(
                ENTRY + "VALUES (%s, %s, 10, 100, 2), (%s, %s, -10, -100, 2)",
                [transfer_id, anna.pk, transfer_id, bram.pk],
            )
            c.execute("SET CONSTRAINTS ALL IMMEDIATE")
    accounts = {
        a.pk: (a.balance, a.version) for a in Account.objects.filter(community=anna.community)
    }
    assert (accounts[anna.pk], accounts[bram.pk]) == ((100, 2), (-100, 2))
    call_command("ledger_verify")
    assert "consistent" in capsys.readouterr().out


def test_an_entry_on_another_communitys_account_is_refused(paid):
    stranger = services.account_open(membership=MembershipFactory(community=CommunityFactory()))
    message = refused_with_transfer(
        paid.community_id,
        ENTRY + "VALUES (%s, %s, 10, 10, 1)",
        [TRANSFER, stranger.pk],
    )
    assert "not in the community" in message


def test_an_entry_needs_an_existing_transfer_and_account(paid, anna):
    message = refused(ENTRY + "VALUES (%s, %s, 10, 100, 2)", [paid.pk + 1000, anna.pk])
    assert f"transfer {paid.pk + 1000} was written before" in message
    message = refused_with_transfer(
        anna.community_id, ENTRY + "VALUES (%s, %s, 10, 10, 1)", [TRANSFER, 10**9]
    )
    assert f"account {10**9} is not in the community" in message


def test_raw_sql_cannot_take_an_account_past_its_limit(anna, bram):
    """A well-formed transfer, written by hand, that breaks Bram's credit limit."""
    too_much = 21 * 60
    message = refused_with_transfer(
        anna.community_id,
        ENTRY + "VALUES (%s, %s, %s, %s, 1), (%s, %s, %s, %s, 1)",
        [TRANSFER, anna.pk, too_much, too_much, TRANSFER, bram.pk, -too_much, -too_much],
    )
    assert "outside its limits" in message
    assert [Account.objects.get(pk=a.pk).balance for a in (anna, bram)] == [0, 0]


def test_an_account_cannot_move_to_another_community(paid, anna):
    other = CommunityFactory()
    assert "never change" in refused(
        "UPDATE ledger_account SET community_id = %s WHERE id = %s", [other.pk, anna.pk]
    )


def test_a_new_account_starts_at_zero(anna):
    membership = MembershipFactory(community=anna.community)
    assert "starts at balance 0" in refused(
        "INSERT INTO ledger_account (community_id, kind, membership_id, balance, version, "
        "created_at) VALUES (%s, 'member', %s, 500, 0, now())",
        [anna.community_id, membership.pk],
    )


def test_ledger_verify_finds_what_was_changed_with_the_rules_switched_off(paid, anna, capsys):
    call_command("ledger_verify")
    assert "consistent" in capsys.readouterr().out
    with connection.cursor() as c:
        # Only a database superuser can do this; the application's role cannot.
        c.execute("SET session_replication_role = replica")
        c.execute("UPDATE ledger_account SET balance = balance + 5 WHERE id = %s", [anna.pk])
        c.execute("SET session_replication_role = origin")
    with pytest.raises(CommandError) as failure:
        call_command("ledger_verify", "--community", anna.community.slug)
    assert failure.value.returncode == 1
    err = capsys.readouterr().err
    assert f"account {anna.pk}: stored balance 95" in err
    assert "balances sum to 5" in err
    assert Transfer.objects.count() == 1 and Entry.objects.count() == 2
