"""The backup and restore drill: a dump of the books, loaded into a new
database, gives the same books, and ledger_verify finds them consistent."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
from django.db import connection

from accounts.models import Status
from ledger import services
from ledger.models import Entry, Transfer, TransferKind
from ruilkring import backup
from tests.factories import CommunityFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def payments_made(*amounts: int) -> None:
    """Anna helps Bram, and Bram thanks her with a payment, once per amount."""
    circle = CommunityFactory(default_floor=-20 * 60, default_ceiling=40 * 60)
    anna, bram = (
        services.account_open(
            membership=MembershipFactory(
                community=circle, status=Status.ACTIVE, user=UserFactory(display_name=name)
            )
        )
        for name in ("Anna", "Bram")
    )
    for number, amount in enumerate(amounts):
        services.transfer_create(
            actor=bram.membership.user,
            community=circle,
            kind=TransferKind.PAYMENT,
            payer=bram,
            payee=anna,
            amount=amount,
            memo="Hulp in de tuin",
            idempotency_key=f"backup-drill-{number}",
        )


@pytest.fixture
def client_programs(monkeypatch):
    """The harness's own PostgreSQL programs, of the server's version."""
    bindir = os.environ.get("RUILKRING_TEST_PG_BINDIR")
    if bindir:
        monkeypatch.setenv("RUILKRING_PG_BINDIR", bindir)


def database_url(name: str) -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
        f"{settings['PORT']}/{name}"
    )


@pytest.fixture
def new_database():
    name = f"restore_{uuid.uuid4().hex[:12]}"
    yield name
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restores_into_a_new_database_with_the_same_consistent_books(
    client_programs, new_database, tmp_path, capsys
):
    payments_made(150, 40)
    source = database_url(connection.settings_dict["NAME"])

    dump = backup.backup_write(database_url=source, path=tmp_path / "books.dump")
    backup.backup_restore(path=dump, database_url=database_url(new_database))

    assert "The books are consistent." in capsys.readouterr().out
    with psycopg.connect(database_url(new_database)) as restored:
        transfers = restored.execute("SELECT count(*) FROM ledger_transfer").fetchone()[0]
        entries = restored.execute("SELECT count(*) FROM ledger_entry").fetchone()[0]
        balances = restored.execute("SELECT id, balance FROM ledger_account ORDER BY id").fetchall()
    assert transfers == Transfer.objects.count() == 2
    assert entries == Entry.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, balance FROM ledger_account ORDER BY id")
        assert balances == cursor.fetchall()


def test_a_restore_never_writes_over_an_existing_database(client_programs, tmp_path):
    payments_made(150)
    source = database_url(connection.settings_dict["NAME"])
    dump = backup.backup_write(database_url=source, path=tmp_path / "books.dump")

    with pytest.raises(backup.BackupError, match="exists already"):
        backup.backup_restore(path=dump, database_url=source)

    assert Transfer.objects.count() == 1


def test_backup_refuses_a_database_that_is_not_postgresql(tmp_path):
    with pytest.raises(backup.BackupError, match="PostgreSQL"):
        backup.backup_write(database_url="sqlite:////tmp/x.sqlite3", path=tmp_path / "x.dump")

    assert not (tmp_path / "x.dump").exists()
