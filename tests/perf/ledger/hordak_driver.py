"""django-hordak 2.0 under the same load as the project's ledger (systems H and H+L).

Runs in its own virtualenv (``var/bench/hordak-venv``, made by the bench script
from ``hordak-requirements.txt``); hordak is not a dependency of the project.

    python tests/perf/ledger/hordak_driver.py setup --database-url URL
    python tests/perf/ledger/hordak_driver.py run --mode H  --database-url URL --processes 4
    python tests/perf/ledger/hordak_driver.py run --mode HL --database-url URL --processes 4

- H: ``Account.transfer_to(payee, Money(amount, "EUR"))``, which runs in its own
  ``transaction.atomic()`` (hordak decorates it), one transaction per transfer.
- HL: what an application has to add to hordak to enforce a credit limit: lock
  both accounts in id order (``SELECT ... FOR NO KEY UPDATE``), read the payer's
  balance (hordak keeps none, so it sums the legs), refuse (roll back) when the
  payer would go below the floor, else ``transfer_to``.

The members' accounts are hordak asset accounts in EUR, one unit per minute;
the floor is the same -1,200 as the project's community. Each command prints
one JSON object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from decimal import Decimal

# The runner lives beside this file (standard library only).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from runner import log, measure

MEMBERS = 1000
FLOOR = Decimal(-1200)
AMOUNT_RANGE = (15, 240)
CURRENCY = "EUR"


class Refused(Exception):
    """The payer would go below the floor: roll back, as the project's service does."""


def _django(database_url: str) -> None:
    import dj_database_url
    import django
    from django.conf import settings

    database = dj_database_url.parse(database_url)
    database["CONN_MAX_AGE"] = 0
    database["ATOMIC_REQUESTS"] = False
    settings.configure(
        DEBUG=False,
        SECRET_KEY="hordak-bench-not-secret",
        DATABASES={"default": database},
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "mptt",
            "djmoney",
            "hordak",
        ],
        USE_TZ=True,
        TIME_ZONE="Europe/Amsterdam",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        DEFAULT_CURRENCY=CURRENCY,
        CURRENCIES=[CURRENCY],
        HORDAK_CURRENCIES=[CURRENCY],
        LOGGING_CONFIG=None,
    )
    django.setup()


def setup(args) -> dict:
    from django.core.management import call_command
    from django.db import transaction
    from hordak.models import Account, AccountType

    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    with transaction.atomic():
        for n in range(args.members):
            Account.objects.create(
                name=f"Lid {n:04d}", code=f"{n:04d}", type=AccountType.asset, currencies=[CURRENCY]
            )
    log(
        f"hordak: migrated and opened {args.members} accounts in {time.monotonic() - started:.1f} s"
    )
    return {"members": args.members}


def run(args) -> dict:
    from django.db import connection, connections, transaction
    from hordak.models import Account, Transaction
    from moneyed import Money

    transactions_before = Transaction.objects.count()
    connections.close_all()  # each process opens its own connection after the fork
    locked = args.mode == "HL"

    def make_step(index: int):
        rng = random.Random(os.urandom(16))
        accounts = list(Account.objects.filter(type="AS").order_by("pk"))
        assert len(accounts) >= 2
        low, high = AMOUNT_RANGE

        def plain() -> str:
            payer, payee = rng.sample(accounts, 2)
            # transfer_to is itself decorated with transaction.atomic(): one
            # transaction per transfer, without the savepoint an outer block adds.
            payer.transfer_to(payee, Money(rng.randint(low, high), CURRENCY))
            return "ok"

        def with_limit() -> str:
            payer, payee = rng.sample(accounts, 2)
            amount = Decimal(rng.randint(low, high))
            try:
                with transaction.atomic():
                    ids = sorted((payer.pk, payee.pk))
                    list(
                        Account.objects.select_for_update(no_key=True)
                        .filter(pk__in=ids)
                        .order_by("pk")
                        .values_list("pk", flat=True)
                    )
                    balance = payer.get_simple_balance()[CURRENCY].amount
                    if balance - amount < FLOOR:
                        raise Refused
                    payer.transfer_to(payee, Money(amount, CURRENCY))
            except Refused:
                return "refused"
            return "ok"

        connection.ensure_connection()
        return with_limit if locked else plain

    result = measure(make_step, args.processes, args.seconds)
    result.update(_invariants(mode=args.mode, transactions_before=transactions_before))
    result["invariants_ok"] = (
        result["accounting_equation_ok"]
        and result["unbalanced_transactions"] == 0
        and (not locked or result["below_floor"] == 0)
        and result["errors"] == 0
        and result["transactions_written"] >= result["committed"]
    )
    return result


def _invariants(*, mode: str, transactions_before: int) -> dict:
    from django.db import connection
    from hordak.exceptions import AccountingEquationViolationError
    from hordak.models import Account, Transaction

    try:
        Account.validate_accounting_equation()
        equation_ok = True
    except AccountingEquationViolationError:
        equation_ok = False
    balances = [a.balance[CURRENCY].amount for a in Account.objects.with_balances()]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT transaction_id FROM hordak_leg GROUP BY transaction_id "
            "HAVING sum(coalesce(debit, 0) - coalesce(credit, 0)) <> 0 OR count(*) < 2) t"
        )
        unbalanced = cursor.fetchone()[0]
    return {
        "transactions_written": Transaction.objects.count() - transactions_before,
        "accounting_equation_ok": equation_ok,
        "sum_of_balances": str(sum(balances, Decimal(0))),
        "lowest_balance": str(min(balances)),
        "below_floor": sum(1 for balance in balances if balance < FLOOR),
        "unbalanced_transactions": unbalanced,
        "mode": mode,
    }


def versions(args) -> dict:
    from importlib.metadata import version

    import django
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    return {
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "django-hordak": version("django-hordak"),
        "django-money": version("django-money"),
        "django-mptt": version("django-mptt"),
        "psycopg": psycopg.__version__,
        "postgresql": server,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["setup", "run", "versions"])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--mode", choices=["H", "HL"], default="H")
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    _django(args.database_url)
    result = {"setup": setup, "run": run, "versions": versions}[args.command](args)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
