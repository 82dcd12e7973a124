"""The one change the books allow: emptying a transfer's description.

Erasure removes what a member wrote, also the descriptions of their payments.
PostgreSQL lets an UPDATE through only when it empties ``memo`` and leaves every
other column as it was (ledger migration 0010_memo_scrub); everything else
stays refused, as raw SQL from a careless script would try it.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from ledger import services
from ledger.models import Entry, Transfer, TransferKind
from tests.privacy.conftest import next_key

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("this rule is PostgreSQL's own: run `make test`")


@pytest.fixture
def paid(circle, anna, bram):
    return services.transfer_create(
        actor=bram.user,
        community=circle,
        kind=TransferKind.PAYMENT,
        payer=services.account_open(membership=bram),
        payee=services.account_open(membership=anna),
        amount=90,
        memo="Tuin bij Anna aan de Parklaan",
        idempotency_key=next_key(),
    )


def refused(sql: str, params=()) -> str:
    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    return str(error.value)


def row(transfer_id: int) -> tuple:
    with connection.cursor() as c:
        c.execute("SELECT * FROM ledger_transfer WHERE id = %s", [transfer_id])
        return c.fetchone()


def test_emptying_the_memo_alone_is_allowed(paid):
    with connection.cursor() as c:
        c.execute("UPDATE ledger_transfer SET memo = '' WHERE id = %s", [paid.pk])
        assert c.rowcount == 1
    assert Transfer.objects.get(pk=paid.pk).memo == ""


def test_the_orm_update_the_erasure_uses_is_allowed(paid):
    assert Transfer.objects.filter(pk=paid.pk).update(memo="") == 1
    assert Transfer.objects.get(pk=paid.pk).memo == ""


def test_writing_another_memo_is_refused(paid):
    message = refused("UPDATE ledger_transfer SET memo = 'Iets anders' WHERE id = %s", [paid.pk])
    assert "append-only" in message
    assert Transfer.objects.get(pk=paid.pk).memo == "Tuin bij Anna aan de Parklaan"


@pytest.mark.parametrize(
    "change",
    [
        "id = id + 1000",
        "community_id = community_id + 1000",
        "kind = 'pot_donation'",
        "reason = 'changed'",
        "created_by_id = NULL",
        "created_at = created_at - interval '1 day'",
        "occurred_on = current_date - 1",
        "idempotency_key = 'another-key'",
        "request_fingerprint = 'another-fingerprint'",
    ],
)
def test_changing_any_other_column_with_the_memo_is_refused(paid, change):
    before = row(paid.pk)
    sql = f"UPDATE ledger_transfer SET memo = '', {change} WHERE id = %s"  # noqa: S608 - constants
    message = refused(sql, [paid.pk])
    assert "append-only" in message
    assert row(paid.pk) == before


def test_amounts_and_deleting_stay_refused(paid):
    assert "append-only" in refused("UPDATE ledger_entry SET amount = amount * 10")
    assert "append-only" in refused("DELETE FROM ledger_transfer WHERE id = %s", [paid.pk])
    assert sorted(Entry.objects.filter(transfer=paid).values_list("amount", flat=True)) == [
        -90,
        90,
    ]
