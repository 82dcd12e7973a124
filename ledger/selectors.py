"""Reads from the ledger: accounts, balances and the verification of the books."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from accounts.models import Community
from ledger.models import Account


@dataclass
class VerificationReport:
    """What ``ledger_verify`` found: counts, and every difference in words."""

    communities: int = 0
    accounts: int = 0
    transfers: int = 0
    entries: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.differences


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def ledger_verify(*, community: Community | None = None) -> VerificationReport:
    """Recompute the books from the entries alone and compare with what is stored.

    Checks, per community or for all: every entry continues its account's chain
    (version one higher, balance after = previous balance + amount); every
    account's cached balance and version equal its last entry; every transfer
    has at least two entries summing to zero, all in its own community; every
    community sums to zero. Runs as a few set-based queries, not a loop over
    entries, so it stays quick on millions of them.
    """
    # Every query filters with "(no community given, or this one)", so the same
    # SQL serves both scopes and no text is pasted into it.
    scope_id = None if community is None else community.pk
    params = [scope_id, scope_id]
    report = VerificationReport()
    report.communities = 1 if community is not None else Community.objects.count()
    accounts = Account.objects.all() if community is None else community.accounts.all()
    report.accounts = accounts.count()

    for account_id, version, expected_version, balance_after, expected_balance in _rows(
        """
        SELECT account_id, version, previous_version + 1, balance_after,
               coalesce(previous_balance, 0) + amount
          FROM (SELECT e.account_id, e.version, e.amount, e.balance_after,
                       coalesce(lag(e.version) OVER w, 0) AS previous_version,
                       lag(e.balance_after) OVER w AS previous_balance
                  FROM ledger_entry e JOIN ledger_account a ON a.id = e.account_id
                 WHERE (CAST(%s AS bigint) IS NULL OR a.community_id = %s)
                WINDOW w AS (PARTITION BY e.account_id ORDER BY e.version)) chain
         WHERE version <> previous_version + 1
            OR balance_after <> coalesce(previous_balance, 0) + amount
         ORDER BY account_id, version
        """,
        params,
    ):
        report.differences.append(
            f"account {account_id}: entry version {version} (expected {expected_version}) "
            f"has balance {balance_after} (expected {expected_balance})"
        )

    for account_id, balance, version, entry_sum, entry_version in _rows(
        """
        SELECT a.id, a.balance, a.version, coalesce(sum(e.amount), 0),
               coalesce(max(e.version), 0)
          FROM ledger_account a LEFT JOIN ledger_entry e ON e.account_id = a.id
         WHERE (CAST(%s AS bigint) IS NULL OR a.community_id = %s)
         GROUP BY a.id, a.balance, a.version
        HAVING a.balance <> coalesce(sum(e.amount), 0) OR a.version <> coalesce(max(e.version), 0)
         ORDER BY a.id
        """,
        params,
    ):
        report.differences.append(
            f"account {account_id}: stored balance {balance} version {version}, "
            f"but its entries give {entry_sum} and version {entry_version}"
        )

    report.transfers, report.entries = _rows(
        """
        SELECT count(DISTINCT t.id), count(e.id)
          FROM ledger_transfer t LEFT JOIN ledger_entry e ON e.transfer_id = t.id
         WHERE (CAST(%s AS bigint) IS NULL OR t.community_id = %s)
        """,
        params,
    )[0]
    for transfer_id, lines, total, foreign in _rows(
        """
        SELECT t.id, count(e.id), coalesce(sum(e.amount), 0),
               sum(CASE WHEN a.community_id <> t.community_id THEN 1 ELSE 0 END)
          FROM ledger_transfer t
          LEFT JOIN ledger_entry e ON e.transfer_id = t.id
          LEFT JOIN ledger_account a ON a.id = e.account_id
         WHERE (CAST(%s AS bigint) IS NULL OR t.community_id = %s)
         GROUP BY t.id
        HAVING count(e.id) < 2 OR coalesce(sum(e.amount), 0) <> 0
            OR sum(CASE WHEN a.community_id <> t.community_id THEN 1 ELSE 0 END) > 0
         ORDER BY t.id
        """,
        params,
    ):
        report.differences.append(
            f"transfer {transfer_id}: {lines} entries summing to {total}, "
            f"{foreign or 0} in another community"
        )

    for community_id, total in _rows(
        """
        SELECT a.community_id, sum(a.balance) FROM ledger_account a
         WHERE (CAST(%s AS bigint) IS NULL OR a.community_id = %s)
         GROUP BY a.community_id HAVING sum(a.balance) <> 0
        """,
        params,
    ):
        report.differences.append(f"community {community_id}: balances sum to {total}, not 0")
    return report
