"""Reads from the ledger: accounts, balances and the verification of the books."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext_lazy as _

from accounts.models import Community
from ledger.models import (
    Account,
    AccountKind,
    AccountRequestPolicy,
    Entry,
    LedgerSettings,
    PaymentRequest,
    RequestStatus,
    Transfer,
)
from ruilkring.errors import NotFound


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


STATEMENT_PAGE_SIZE = 25


@dataclass(frozen=True)
class StatementLine:
    """One line of an account's statement, as its holder reads it."""

    entry: Entry
    transfer: Transfer
    counterparties: list[str]
    reversed: bool


@dataclass(frozen=True)
class StatementPage:
    lines: list[StatementLine]
    older_than: int | None  # pass as ``before`` for the next, older page


def account_statement(
    *, account: Account, before: int | None = None, page_size: int = STATEMENT_PAGE_SIZE
) -> StatementPage:
    """A page of the account's entries, newest first, each with the balance after it.

    Keyset pagination on the account's version: a page costs the same on the
    first day and after ten thousand exchanges, and no balance is re-summed.
    """
    entries = Entry.objects.filter(account=account).select_related(
        "transfer", "transfer__created_by"
    )
    if before is not None:
        entries = entries.filter(version__lt=before)
    rows = list(entries.order_by("-version")[: page_size + 1])
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    transfer_ids = [row.transfer_id for row in rows]
    others: dict[int, list[str]] = {}
    for other in (
        Entry.objects.filter(transfer_id__in=transfer_ids)
        .exclude(account=account)
        .select_related("account__membership__user")
        .order_by("transfer_id", "pk")
    ):
        others.setdefault(other.transfer_id, []).append(account_holder_name(other.account))
    reversed_ids = set(
        Transfer.objects.filter(reverses_id__in=transfer_ids).values_list("reverses_id", flat=True)
    )
    lines = [
        StatementLine(
            entry=row,
            transfer=row.transfer,
            counterparties=others.get(row.transfer_id, []),
            reversed=row.transfer_id in reversed_ids,
        )
        for row in rows
    ]
    return StatementPage(lines=lines, older_than=rows[-1].version if has_more else None)


def account_statement_rows(*, account: Account):
    """Every entry of the account, oldest first, for a CSV export; streamed, not loaded."""
    return (
        Entry.objects.filter(account=account)
        .select_related("transfer")
        .order_by("version")
        .iterator(chunk_size=2000)
    )


def account_holder_name(account: Account) -> str:
    if account.kind == AccountKind.MEMBER:
        return account.membership.user.display_name
    return str(AccountKind(account.kind).label)


def accounts_of_community(*, community: Community):
    """Every account of the community with its holder, system accounts first."""
    return (
        Account.objects.filter(community=community)
        .select_related("membership__user", "community")
        .order_by("kind", "membership__user__display_name")
    )


def account_of_community_get(*, community: Community, account_id) -> Account:
    try:
        return Account.objects.select_related("membership__user", "community").get(
            community=community, pk=account_id
        )
    except (Account.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("This account does not exist in this community.")) from exc


def transfer_of_community_get(*, community: Community, transfer_id) -> Transfer:
    try:
        return (
            Transfer.objects.select_related("created_by", "reverses")
            .prefetch_related("entries__account__membership__user", "reversals")
            .get(community=community, pk=transfer_id)
        )
    except (Transfer.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("This transfer does not exist in this community.")) from exc


def payment_requests_for(*, account: Account):
    """Requests waiting for this account's holder to answer, and those they sent."""
    waiting = (
        PaymentRequest.objects.filter(payer=account, status=RequestStatus.PENDING)
        .select_related("payee__membership__user")
        .order_by("created_at")
    )
    sent = (
        PaymentRequest.objects.filter(payee=account, status=RequestStatus.PENDING)
        .select_related("payer__membership__user")
        .order_by("created_at")
    )
    return list(waiting), list(sent)


def payment_request_of_community_get(*, community: Community, request_id) -> PaymentRequest:
    try:
        return PaymentRequest.objects.select_related(
            "community", "payer__membership__user", "payee__membership__user"
        ).get(community=community, pk=request_id)
    except (PaymentRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("This request does not exist in this community.")) from exc


def request_policy_of(*, account: Account) -> AccountRequestPolicy | None:
    return AccountRequestPolicy.objects.filter(account=account).first()


def ledger_settings_of(*, community: Community) -> LedgerSettings:
    """The community's ledger settings; the defaults when never changed."""
    return LedgerSettings.objects.filter(community=community).first() or LedgerSettings(
        community=community
    )
