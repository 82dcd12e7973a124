"""Writes to the ledger: opening accounts, transfers, reversals, limits.

Every function takes keyword-only arguments. It either records the whole
operation or raises a ``ruilkring.errors.DomainError`` that explains, in the
reader's language, why not and what would help; then nothing has changed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from psycopg import Cursor as ServerCursor
from psycopg.types.numeric import Int8

from accounts.models import AuditAction, Community, Membership, Status, User
from accounts.notifications import email_queue
from accounts.selectors import user_is_coordinator
from accounts.services import audit_record
from accounts.units import amount_format
from ledger.locking import accounts_lock, atomic_with_retry
from ledger.models import (
    MAX_AMOUNT,
    UNLIMITED,
    Account,
    AccountKind,
    AccountRequestPolicy,
    AutoAccept,
    Entry,
    LedgerSettings,
    LimitChange,
    PaymentRequest,
    PaymentRequestEvent,
    RequestStatus,
    Transfer,
    TransferBatch,
    TransferKind,
)
from ledger.selectors import ledger_settings_of
from ledger.transitions import REQUEST_TRANSITIONS, Party
from ruilkring.errors import (
    IdempotencyKeyReused,
    InvalidInput,
    NotAllowed,
    PaymentRefused,
    TransitionNotAllowed,
)

CLIENT_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,100}")


@dataclass(frozen=True)
class KindRule:
    """Who may record a transfer of this kind, and between which kinds of account."""

    by_coordinator: bool
    payer_kinds: frozenset[str]
    payee_kinds: frozenset[str]


M, C, P = AccountKind.MEMBER, AccountKind.COMMUNITY, AccountKind.POT
KIND_RULES: dict[str, KindRule] = {
    # A member pays another member, or gives to the pot, from their own account;
    # a coordinator may record these on a member's behalf (see _pair_check).
    TransferKind.PAYMENT: KindRule(False, frozenset({M}), frozenset({M})),
    TransferKind.POT_DONATION: KindRule(False, frozenset({M}), frozenset({P})),
    # The payer accepted a request; made by the payer too.
    TransferKind.REQUESTED_PAYMENT: KindRule(False, frozenset({M}), frozenset({M})),
    # Coordinators record trades on members' behalf (paper cheques, phone calls),
    # give from the pot, and book to and from the community account.
    TransferKind.COORDINATOR_ENTRY: KindRule(True, frozenset({M}), frozenset({M})),
    TransferKind.POT_GRANT: KindRule(True, frozenset({P}), frozenset({M})),
    TransferKind.COMMUNITY_ENTRY: KindRule(True, frozenset({M, C}), frozenset({M, C})),
}


# -- Accounts ---------------------------------------------------------------


def account_open(*, membership: Membership) -> Account:
    """The member's account in their community, opened on first use.

    Raises PaymentRefused for a membership that is not (or no longer) active.
    """
    account = Account.objects.filter(membership=membership).first()
    if account is not None:
        return account
    if membership.status not in (Status.ACTIVE, Status.LEAVING, Status.SUSPENDED):
        raise PaymentRefused(
            _("%(name)s is not a member of %(community)s.")
            % {"name": membership.user.display_name, "community": membership.community.name},
            code="not_a_member",
        )
    try:
        with transaction.atomic():
            return Account.objects.create(
                community_id=membership.community_id,
                kind=AccountKind.MEMBER,
                membership=membership,
            )
    except IntegrityError:
        # Opened at the same moment by another request.
        return Account.objects.get(membership=membership)


def system_account_open(*, community: Community, kind: str) -> Account:
    """The community account or the pot, opened on first use.

    Both start without credit: the pot can give only what members gave it,
    and the community account only what it received. Coordinators can change
    that with ``account_limits_set``.
    """
    if kind not in (AccountKind.COMMUNITY, AccountKind.POT):
        raise InvalidInput(_("Unknown kind of account."))
    account = Account.objects.filter(community=community, kind=kind).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                community=community, kind=kind, floor=0, ceiling=UNLIMITED
            )
    except IntegrityError:
        return Account.objects.get(community=community, kind=kind)


def account_label(account: Account) -> str:
    """How a person reads an account's holder: a name, or "the community pot"."""
    if account.kind == AccountKind.MEMBER:
        return account.membership.user.display_name
    if account.kind == AccountKind.POT:
        return _("the community pot")
    return _("the community account")


def _audit_party(account: Account) -> int | str:
    """An account as the audit log names it: the holder's membership id, or the
    kind of a system account ("pot", "community"). Never a name."""
    return account.membership_id if account.membership_id is not None else account.kind


def account_limits_set(
    *, actor: User, account: Account, floor: int | None, ceiling: int | None, reason: str
) -> Account:
    """Set an account's own credit limit and maximum (None: the community's default).

    Only a coordinator of the account's community may, with a reason; the
    change is recorded. A balance already outside a tightened limit stays as it
    is, and can only move back towards it. Raises NotAllowed or InvalidInput.
    """
    if not user_is_coordinator(user=actor, community=account.community):
        raise NotAllowed(_("Only a coordinator of this community can change limits."))
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Give a reason; the member can read it."), field="reason")
    for value in (floor, ceiling):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidInput(_("Limits are whole amounts."))
    if floor is not None and not -MAX_AMOUNT * 10 <= floor <= 0:
        raise InvalidInput(_("The credit limit is zero or below."), field="floor")
    if ceiling is not None and not 0 <= ceiling <= UNLIMITED:
        raise InvalidInput(_("The maximum is zero or above."), field="ceiling")

    def work() -> Account:
        locked = accounts_lock([account.pk])[account.pk]
        if (locked.floor, locked.ceiling) == (floor, ceiling):
            return locked
        LimitChange.objects.create(
            account=locked,
            changed_by=actor,
            old_floor=locked.floor,
            new_floor=floor,
            old_ceiling=locked.ceiling,
            new_ceiling=ceiling,
            reason=reason,
        )
        audit_record(
            actor=actor,
            community=locked.community,
            action=AuditAction.LIMITS_SET,
            subject=locked,
            member=locked.membership,
            details={
                "account": _audit_party(locked),
                "floor": [locked.floor, floor],
                "ceiling": [locked.ceiling, ceiling],
            },
            reason=reason,
        )
        Account.objects.filter(pk=locked.pk).update(floor=floor, ceiling=ceiling)
        locked.floor, locked.ceiling = floor, ceiling
        return locked

    return atomic_with_retry(work)


# -- Checks -------------------------------------------------------------------


def _amount_check(amount: object) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise InvalidInput(_("The amount must be a whole number of minor units."), field="amount")
    if amount <= 0:
        raise InvalidInput(_("The amount must be more than zero."), field="amount")
    if amount > MAX_AMOUNT:
        raise InvalidInput(_("That amount is too large."), field="amount")
    return amount


def _key_check(key: str) -> str:
    """A client's idempotency key: letters, digits, "-" and "_", at most 100.

    Keys the ledger derives itself contain a colon (a batch's cheques, an
    accepted request), so a client's key can never collide with one of them.
    """
    key = (key or "").strip()
    if not CLIENT_KEY_PATTERN.fullmatch(key):
        raise InvalidInput(
            _(
                "Every transfer needs an idempotency key of at most 100 letters, digits, "
                "hyphens or underscores."
            ),
            field="idempotency_key",
        )
    return key


def _fingerprint(**request: object) -> str:
    canonical = json.dumps(request, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(*, community: Community, key: str, fingerprint: str) -> Transfer | None:
    """The transfer already made with this key, if the request is the same one."""
    existing = Transfer.objects.filter(community=community, idempotency_key=key).first()
    if existing is None:
        return None
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            _("This idempotency key was already used for a different transfer."),
            field="idempotency_key",
        )
    return existing


def _movement_check(*, account: Account, amount: int, actor: User | None) -> None:
    """Refuse a move that the account holder's status or limits do not allow."""
    community = account.community
    before, after = account.balance, account.balance + amount
    name = account_label(account)
    is_actor = (
        actor is not None
        and account.kind == AccountKind.MEMBER
        and account.membership.user_id == actor.pk
    )

    def fmt(value: int) -> str:
        return amount_format(community=community, amount=value)

    if account.kind == AccountKind.MEMBER:
        status = account.membership.status
        if status == Status.SUSPENDED:
            raise PaymentRefused(
                _(
                    "%(name)s's membership is paused, so it cannot give or receive now. "
                    "A coordinator can tell you more."
                )
                % {"name": name},
                code="member_suspended",
            )
        if status == Status.LEAVING and not (min(before, 0) <= after <= max(before, 0)):
            raise PaymentRefused(
                _(
                    "%(name)s is leaving the circle and can only settle up: the balance of "
                    "%(balance)s can move towards zero, not away from it."
                )
                % {"name": name, "balance": fmt(before)},
                code="member_leaving",
            )
        if status not in (Status.ACTIVE, Status.LEAVING):
            raise PaymentRefused(
                _("%(name)s is not a member of %(community)s.")
                % {"name": name, "community": community.name},
                code="not_a_member",
            )

    floor, ceiling = account.effective_floor, account.effective_ceiling
    if amount < 0 and after < floor:
        over = fmt(floor - after)
        if account.kind == AccountKind.POT:
            message = _(
                "The community pot holds %(balance)s, not enough for this gift of %(amount)s."
            ) % {"balance": fmt(before), "amount": fmt(-amount)}
        elif is_actor:
            message = _(
                "This payment would take you %(over)s past your credit limit of %(floor)s. "
                "Offering help brings you back within it."
            ) % {"over": over, "floor": fmt(floor)}
        else:
            message = _(
                "This would take %(name)s %(over)s past the credit limit of %(floor)s. "
                "Giving help brings them back within it, or a coordinator can change the limit."
            ) % {"name": name, "over": over, "floor": fmt(floor)}
        raise PaymentRefused(message, code="limit_exceeded")
    if amount > 0 and after > ceiling:
        over = fmt(after - ceiling)
        if is_actor:
            message = _(
                "This would take you %(over)s past your maximum of %(ceiling)s. "
                "Asking for help, or giving to the community pot, makes room again."
            ) % {"over": over, "ceiling": fmt(ceiling)}
        else:
            message = _(
                "This would take %(name)s %(over)s past the maximum of %(ceiling)s. "
                "Once they receive some help there is room again, or a coordinator can "
                "raise the maximum."
            ) % {"name": name, "over": over, "ceiling": fmt(ceiling)}
        raise PaymentRefused(message, code="ceiling_exceeded")


def _journal(*, transfer: Transfer, movements: dict[int, int], locked: dict[int, Account]) -> None:
    """Write one entry per account and advance each account by one version.

    On PostgreSQL, inserting an entry applies it to its account (see
    ``ledger.database_rules``); elsewhere the accounts are updated here.
    """
    entries = []
    for account_id, amount in movements.items():
        account = locked[account_id]
        account.balance += amount
        account.version += 1
        entries.append(
            Entry(
                transfer=transfer,
                account=account,
                amount=amount,
                balance_after=account.balance,
                version=account.version,
            )
        )
    Entry.objects.bulk_create(entries)
    if connection.vendor == "postgresql":
        return
    for account_id in movements:
        account = locked[account_id]
        Account.objects.filter(pk=account_id).update(
            balance=account.balance, version=account.version
        )


def _pair_check(
    *, actor: User | None, community: Community, kind: str, payer: Account, payee: Account
) -> None:
    """Check the accounts fit the kind of transfer, and (unless ``actor`` is None,
    for callers that check the actor themselves) that the actor may record it."""
    if payer.community_id != community.pk or payee.community_id != community.pk:
        raise PaymentRefused(
            _(
                "Both accounts must belong to %(community)s; transfers between circles "
                "are not possible yet."
            )
            % {"community": community.name},
            code="cross_community",
        )
    if payer.pk == payee.pk:
        raise PaymentRefused(_("You cannot pay yourself."), code="self_payment")
    rule = KIND_RULES.get(kind)
    if rule is None:
        raise InvalidInput(_("Unknown kind of transfer."), field="kind")
    if payer.kind not in rule.payer_kinds or payee.kind not in rule.payee_kinds:
        raise InvalidInput(_("These accounts cannot be used for this kind of transfer."))
    if kind == TransferKind.COMMUNITY_ENTRY and (payer.kind == C) == (payee.kind == C):
        raise InvalidInput(_("One side of a community account entry is the community account."))
    if actor is None:
        return
    if not rule.by_coordinator and payer.membership and payer.membership.user_id == actor.pk:
        return  # a member paying from their own account
    if user_is_coordinator(user=actor, community=community):
        return  # coordinators may record anything, also on a member's behalf
    if rule.by_coordinator:
        raise NotAllowed(_("Only a coordinator of this community can record this."))
    if payer.membership is None or payer.membership.user_id != actor.pk:
        raise NotAllowed(_("You can only pay from your own account."))


# -- Transfers ----------------------------------------------------------------


def transfer_kind_for_accounts(*, payer: Account, payee: Account) -> str:
    """The kind of a transfer a coordinator records between these two accounts."""
    kinds = (payer.kind, payee.kind)
    if kinds == (M, M):
        return TransferKind.COORDINATOR_ENTRY
    if kinds == (P, M):
        return TransferKind.POT_GRANT
    if kinds == (M, P):
        return TransferKind.POT_DONATION
    if kinds in ((C, M), (M, C)):
        return TransferKind.COMMUNITY_ENTRY
    raise InvalidInput(_("These accounts cannot be used for this kind of transfer."))


def transfer_create(
    *,
    actor: User,
    community: Community,
    kind: str,
    payer: Account,
    payee: Account,
    amount: int,
    memo: str = "",
    reason: str = "",
    idempotency_key: str,
) -> Transfer:
    """Move ``amount`` from ``payer`` to ``payee`` and record who did it.

    Guarantees: the transfer and its two entries are written together or not
    at all; the accounts are locked in id order; neither account passes its
    limits (a move towards them is always allowed); a leaving member only
    moves towards zero, a suspended one not at all. Sending the same request
    again with the same ``idempotency_key`` returns the first transfer.

    Raises InvalidInput (amount, key, kind), NotAllowed (actor),
    PaymentRefused (limits, status, accounts) or IdempotencyKeyReused; nothing
    has changed then.
    """
    amount = _amount_check(amount)
    key = _key_check(idempotency_key)
    memo, reason = memo.strip()[:500], reason.strip()
    if kind == TransferKind.REQUESTED_PAYMENT:
        # Only accepting a payment request makes one: see payment_request_decide.
        raise InvalidInput(_("Unknown kind of transfer."), field="kind")
    _pair_check(actor=actor, community=community, kind=kind, payer=payer, payee=payee)
    if kind == TransferKind.COORDINATOR_ENTRY and not (memo or reason):
        raise InvalidInput(_("Say what the exchange was for."), field="memo")
    # Recorded by someone else than the payer (a coordinator: _pair_check) goes in
    # the audit log. A member's own payment needs no query for it and stays one
    # statement; payer.membership is loaded by _pair_check already.
    on_behalf = payer.membership_id is None or payer.membership.user_id != actor.pk
    fingerprint = _fingerprint(
        kind=kind,
        payer=payer.pk,
        payee=payee.pk,
        amount=amount,
        memo=memo,
        reason=reason,
        actor=actor.pk,
    )

    def work() -> Transfer:
        transfer = _transfer_write(
            community=community,
            kind=kind,
            payer=payer,
            payee=payee,
            amount=amount,
            memo=memo,
            reason=reason,
            actor=actor,
            key=key,
            fingerprint=fingerprint,
        )
        if on_behalf:
            audit_record(
                actor=actor,
                community=community,
                action=AuditAction.TRANSFER_ON_BEHALF,
                subject=transfer,
                member=payer.membership or payee.membership,
                details={
                    "kind": kind,
                    "payer": _audit_party(payer),
                    "payee": _audit_party(payee),
                    "amount": amount,
                },
                reason=reason,
                once=True,  # a request sent again returns the first transfer
            )
        return transfer

    return _with_key_race_handled(
        work,
        community=community,
        key=key,
        fingerprint=fingerprint,
        single_statement=connection.vendor == "postgresql" and not on_behalf,
    )


TRANSFER_POST = "SELECT * FROM ledger_transfer_post(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _transfer_post(*arguments: object) -> tuple:
    """Call ``ledger_transfer_post`` as a prepared statement.

    The call is the same every time, so it is parsed and planned once per
    connection instead of once per payment. Django's own cursors bind
    parameters on the client, which rules that out; this one cursor binds them
    on the server, with the integers typed as bigint so that every call
    shares one prepared statement. Behind a pooler that cannot keep prepared
    statements, DJANGO_DB_PREPARED_STATEMENTS=false turns preparing off.
    """
    db = connections[DEFAULT_DB_ALIAS]
    db.ensure_connection()
    db.validate_no_broken_transaction()
    values = [Int8(value) if isinstance(value, int) else value for value in arguments]
    with db.wrap_database_errors, ServerCursor(db.connection) as cursor:
        cursor.execute(TRANSFER_POST, values)
        return cursor.fetchone()


def _transfer_posted(**row: object) -> Transfer:
    """The Transfer that ``ledger_transfer_post`` wrote, built without a query."""
    names = [field.attname for field in Transfer._meta.concrete_fields]
    return Transfer.from_db(DEFAULT_DB_ALIAS, names, [row[name] for name in names])


def _transfer_write(
    *,
    community: Community,
    kind: str,
    payer: Account,
    payee: Account,
    amount: int,
    memo: str,
    reason: str,
    actor: User | None,
    key: str,
    fingerprint: str,
) -> Transfer:
    """Lock both accounts, check the move, and journal it. Runs inside a transaction;
    the caller has checked the amount, the accounts and the actor.

    On PostgreSQL this is one call to ``ledger_transfer_post`` (see
    ``ledger.database_rules``): one round trip instead of six, which is most
    of the ledger's speed. Elsewhere the same steps run through the ORM.
    """
    if connection.vendor == "postgresql":
        transfer_id, created_at, refused_account, refused_balance, status, lowest, highest = (
            _transfer_post(
                community.pk,
                kind,
                memo,
                reason,
                actor.pk if actor else None,
                key,
                fingerprint,
                payer.pk,
                payee.pk,
                amount,
            )
        )
        if transfer_id is not None:
            transfer = _transfer_posted(
                id=transfer_id,
                community_id=community.pk,
                kind=kind,
                memo=memo,
                reason=reason,
                created_by_id=actor.pk if actor else None,
                created_at=created_at,
                idempotency_key=key,
                request_fingerprint=fingerprint,
                reverses_id=None,
                batch_id=None,
                occurred_on=None,
            )
            transfer.community, transfer.created_by = community, actor
            return transfer
        if refused_account is None:
            # The key was taken, possibly a moment ago by a concurrent request.
            replayed = _replay(community=community, key=key, fingerprint=fingerprint)
            if replayed is None:  # pragma: no cover - the function saw it, so it exists
                raise IntegrityError(f"transfer key {key!r} taken but not found")
            return replayed
        # Explain the refusal from what the function saw under the locks (a
        # copy: the caller's objects stay as they were), without another query.
        refused = copy.copy(payer if refused_account == payer.pk else payee)
        refused.community = community
        refused.balance, refused.floor, refused.ceiling = refused_balance, lowest, highest
        if refused.membership_id is not None:
            refused.membership = copy.copy(refused.membership)
            refused.membership.status = status
        _movement_check(
            account=refused, amount=-amount if refused_account == payer.pk else amount, actor=actor
        )
        raise PaymentRefused(_("This transfer cannot be made now."), code="refused")
    locked = accounts_lock([payer.pk, payee.pk])
    # Under the locks and before the limits, like the PostgreSQL function: a
    # retry of a payment that used the last room finds that payment.
    replayed = _replay(community=community, key=key, fingerprint=fingerprint)
    if replayed is not None:
        return replayed
    _movement_check(account=locked[payer.pk], amount=-amount, actor=actor)
    _movement_check(account=locked[payee.pk], amount=amount, actor=actor)
    transfer = Transfer.objects.create(
        community=community,
        kind=kind,
        memo=memo,
        reason=reason,
        created_by=actor,
        idempotency_key=key,
        request_fingerprint=fingerprint,
    )
    _journal(transfer=transfer, movements={payer.pk: -amount, payee.pk: amount}, locked=locked)
    return transfer


def _with_key_race_handled(
    work, *, community: Community, key: str, fingerprint: str, single_statement: bool = False
):
    """Two requests with one key at the same moment: the second finds the first's transfer."""
    try:
        return atomic_with_retry(work, single_statement=single_statement)
    except IntegrityError:
        if transaction.get_connection().in_atomic_block:
            raise
        replayed = _replay(community=community, key=key, fingerprint=fingerprint)
        if replayed is None:
            raise
        return replayed


@dataclass(frozen=True)
class ChequeLine:
    """One paper cheque: who gave, who received, how much, for what, and when.

    ``occurred_on`` is the date on the cheque; without it the exchange counts
    as happening on the day it is recorded.
    """

    payer: Account
    payee: Account
    amount: int
    memo: str
    occurred_on: date | None = None


# A cheque older than this is almost certainly a typing error in the year.
CHEQUE_MAX_AGE_DAYS = 5 * 366


def _cheque_date_check(*, community: Community, occurred_on: date | None) -> None:
    if occurred_on is None:
        return
    today = timezone.localdate()
    if occurred_on > today:
        raise InvalidInput(
            _("The date on the cheque is in the future. Check the date."), field="lines"
        )
    if (today - occurred_on).days > CHEQUE_MAX_AGE_DAYS:
        raise InvalidInput(
            _("The date on the cheque is more than five years ago. Check the year."),
            field="lines",
        )


def transfer_batch_create(
    *,
    actor: User,
    community: Community,
    lines: list[ChequeLine],
    declared_total: int,
    idempotency_key: str,
    note: str = "",
) -> TransferBatch:
    """Enter a stack of paper cheques on members' behalf: all of them, or none.

    The coordinator types the stack's total; it must equal the sum of the
    lines, which catches a mistyped cheque. Each cheque becomes its own
    transfer in the batch. Raises like ``transfer_create``, naming the cheque
    that was refused; then none of them is recorded.
    """
    if not user_is_coordinator(user=actor, community=community):
        raise NotAllowed(_("Only a coordinator of this community can record this."))
    if not lines:
        raise InvalidInput(_("Add at least one cheque."), field="lines")
    key = _key_check(idempotency_key)
    for number, line in enumerate(lines, start=1):
        try:
            _amount_check(line.amount)
            _cheque_date_check(community=community, occurred_on=line.occurred_on)
            _pair_check(
                actor=actor,
                community=community,
                kind=TransferKind.COORDINATOR_ENTRY,
                payer=line.payer,
                payee=line.payee,
            )
        except (InvalidInput, PaymentRefused, NotAllowed) as error:
            raise type(error)(
                _("Cheque %(number)s: %(problem)s") % {"number": number, "problem": error},
                code=error.code,
                field="lines",
            ) from error
    total = sum(line.amount for line in lines)
    if total != declared_total:
        raise InvalidInput(
            _(
                "The cheques add up to %(sum)s, but the total you typed is %(total)s. "
                "Check the amounts, then try again."
            )
            % {
                "sum": amount_format(community=community, amount=total),
                "total": amount_format(community=community, amount=declared_total),
            },
            field="declared_total",
        )

    fingerprint = _fingerprint(
        lines=[
            (line.payer.pk, line.payee.pk, line.amount, line.memo.strip())
            + ((line.occurred_on.isoformat(),) if line.occurred_on else ())
            for line in lines
        ],
        total=declared_total,
        note=note.strip(),
        actor=actor.pk,
    )

    def work() -> TransferBatch:
        locked = accounts_lock([a.pk for line in lines for a in (line.payer, line.payee)])
        # Each cheque's transfer carries the batch's key with its number, and
        # the fingerprint of the whole stack. Looked up under the locks, so a
        # concurrent retry waits for the first and then finds it.
        replayed = _replay(community=community, key=f"{key}:1", fingerprint=fingerprint)
        if replayed is not None:
            return replayed.batch
        batch = TransferBatch.objects.create(
            community=community, created_by=actor, declared_total=declared_total, note=note
        )
        for number, line in enumerate(lines, start=1):
            memo = line.memo.strip()[:500]
            try:
                _movement_check(account=locked[line.payer.pk], amount=-line.amount, actor=actor)
                _movement_check(account=locked[line.payee.pk], amount=line.amount, actor=actor)
            except PaymentRefused as error:
                raise PaymentRefused(
                    _("Cheque %(number)s: %(problem)s") % {"number": number, "problem": error},
                    code=error.code,
                    field="lines",
                ) from error
            transfer = Transfer.objects.create(
                community=community,
                kind=TransferKind.COORDINATOR_ENTRY,
                memo=memo,
                created_by=actor,
                idempotency_key=f"{key}:{number}",
                request_fingerprint=fingerprint,
                batch=batch,
                occurred_on=line.occurred_on,
            )
            _journal(
                transfer=transfer,
                movements={line.payer.pk: -line.amount, line.payee.pk: line.amount},
                locked=locked,
            )
        audit_record(
            actor=actor,
            community=community,
            action=AuditAction.BATCH_ENTER,
            subject=batch,
            details={"cheques": len(lines), "total": declared_total},
            reason=note,
        )
        return batch

    try:
        return atomic_with_retry(work)
    except IntegrityError:
        if transaction.get_connection().in_atomic_block:
            raise
        replayed = _replay(community=community, key=f"{key}:1", fingerprint=fingerprint)
        if replayed is None:
            raise
        return replayed.batch


def account_settle_on_leaving(
    *, actor: User | None, account: Account, into: str, key: str, reason: str
) -> Transfer | None:
    """Bring a leaving member's account to zero with one transfer to or from the
    community's system account of kind ``into`` (the pot or the community account).

    The member's own request to leave (or the retention rule) is the authority
    here, where moving credit out of a system account otherwise needs a
    coordinator. Moving towards zero is always within the member's limits; the
    system account's own limits may refuse (a pot with too little in it), and
    then PaymentRefused says why and nothing changes. Runs inside the caller's
    transaction. ``key`` is derived by the caller and contains a colon, which no
    client's key can (``_key_check``). None when the balance is already zero.
    """
    if into not in (AccountKind.POT, AccountKind.COMMUNITY):
        raise InvalidInput(_("Choose where the balance goes."), field="into")
    if ":" not in key:
        raise InvalidInput(_("A settlement needs a key of its own."), field="key")
    community = account.community
    system = system_account_open(community=community, kind=into)
    locked = accounts_lock([account.pk, system.pk])
    member, other = locked[account.pk], locked[system.pk]
    if member.balance == 0:
        return None
    payer, payee = (member, other) if member.balance > 0 else (other, member)
    amount = abs(member.balance)
    return _transfer_write(
        community=community,
        kind=transfer_kind_for_accounts(payer=payer, payee=payee),
        payer=payer,
        payee=payee,
        amount=amount,
        memo="",
        reason=reason,
        actor=actor,
        key=key,
        fingerprint=_fingerprint(into=into, payer=payer.pk, payee=payee.pk, amount=amount),
    )


def transfer_reverse(
    *, actor: User, transfer: Transfer, reason: str, idempotency_key: str
) -> Transfer:
    """Undo a transfer with a new one that moves everything back.

    Only a coordinator may, with a reason, and only once per transfer; a
    reversal itself is not reversed (record a new entry instead). The reversal
    must fit the limits like any transfer. Both parties are told by mail.
    Raises NotAllowed, InvalidInput, TransitionNotAllowed or PaymentRefused.
    """
    community = transfer.community
    if not user_is_coordinator(user=actor, community=community):
        raise NotAllowed(_("Only a coordinator of this community can reverse a transfer."))
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Give a reason; both members can read it."), field="reason")
    if transfer.kind == TransferKind.REVERSAL:
        raise TransitionNotAllowed(_("A reversal cannot be reversed. Record a new entry instead."))
    key = _key_check(idempotency_key)
    fingerprint = _fingerprint(reverses=transfer.pk, reason=reason, actor=actor.pk)

    def work() -> Transfer:
        original = list(transfer.entries.values_list("account_id", "amount"))
        locked = accounts_lock([account_id for account_id, _amount in original])
        replayed = _replay(community=community, key=key, fingerprint=fingerprint)
        if replayed is not None:
            return replayed
        if Transfer.objects.filter(reverses=transfer).exists():
            raise TransitionNotAllowed(_("This transfer has already been reversed."))
        movements = {account_id: -amount for account_id, amount in original}
        for account_id, amount in movements.items():
            _movement_check(account=locked[account_id], amount=amount, actor=actor)
        reversal = Transfer.objects.create(
            community=community,
            kind=TransferKind.REVERSAL,
            memo=transfer.memo,
            reason=reason,
            created_by=actor,
            idempotency_key=key,
            request_fingerprint=fingerprint,
            reverses=transfer,
        )
        _journal(transfer=reversal, movements=movements, locked=locked)
        payer = next(locked[account_id] for account_id, amount in original if amount < 0)
        payee = next(locked[account_id] for account_id, amount in original if amount > 0)
        audit_record(
            actor=actor,
            community=community,
            action=AuditAction.TRANSFER_REVERSE,
            subject=reversal,
            member=payer.membership or payee.membership,
            details={
                "reverses": transfer.pk,
                "payer": _audit_party(payer),
                "payee": _audit_party(payee),
                "amount": sum(amount for _account_id, amount in original if amount > 0),
            },
            reason=reason,
        )
        _reversal_notify(reversal=reversal, accounts=list(locked.values()))
        return reversal

    try:
        return _with_key_race_handled(work, community=community, key=key, fingerprint=fingerprint)
    except IntegrityError as error:
        # Two coordinators reversing the same transfer at once: one wins.
        if Transfer.objects.filter(reverses=transfer).exists():
            raise TransitionNotAllowed(_("This transfer has already been reversed.")) from error
        raise


def _reversal_notify(*, reversal: Transfer, accounts: list[Account]) -> None:
    for account in accounts:
        if account.kind != AccountKind.MEMBER:
            continue
        user = account.membership.user
        with translation.override(user.language):
            context = {
                "user": user,
                "community": reversal.community,
                "reversal": reversal,
                "original": reversal.reverses,
                "movement": amount_format(
                    community=reversal.community,
                    amount=next(
                        e.amount for e in reversal.entries.all() if e.account_id == account.pk
                    ),
                ),
            }
            subject = render_to_string("ledger/email/reversal_subject.txt", context)
            body = render_to_string("ledger/email/reversal_body.txt", context)
        email_queue(subject=" ".join(subject.split()), body=body, to=[user.email])


# -- Payment requests ---------------------------------------------------------


def _request_policy(payer: Account) -> tuple[str, int, set[int]]:
    """The payer's auto-accept policy: their own choice, else the community's."""
    policy = AccountRequestPolicy.objects.filter(account=payer).first()
    if policy is not None:
        return (
            policy.auto_accept,
            policy.auto_accept_days,
            set(policy.trusted.values_list("pk", flat=True)),
        )
    settings_row = ledger_settings_of(community=payer.community)
    return settings_row.auto_accept, settings_row.auto_accept_days, set()


def _request_party(*, actor: User | None, request: PaymentRequest) -> str:
    if actor is None:
        return Party.SYSTEM
    if request.payer.membership.user_id == actor.pk:
        return Party.PAYER
    if request.payee.membership.user_id == actor.pk:
        return Party.PAYEE
    if user_is_coordinator(user=actor, community=request.community):
        return Party.COORDINATOR
    raise NotAllowed(_("Only the two members and a coordinator can answer this request."))


def payment_request_create(
    *,
    actor: User,
    community: Community,
    payer: Account,
    payee: Account,
    amount: int,
    memo: str,
    idempotency_key: str,
) -> PaymentRequest:
    """Ask ``payer`` to pay ``payee`` for help given. Moves nothing yet.

    The payee asks, or a coordinator on their behalf. Under the payer's
    auto-accept policy the request is paid at once (always, or from a trusted
    member) or gets a date when it will be (after N days); if paying at once
    is refused, it simply waits for an answer. The payer is told by mail.
    Raises InvalidInput, NotAllowed, PaymentRefused or IdempotencyKeyReused.
    """
    amount = _amount_check(amount)
    key = _key_check(idempotency_key)
    memo = memo.strip()[:500]
    if not memo:
        raise InvalidInput(
            _("Say what the help was, so the other member recognises it."), field="memo"
        )
    _pair_check(
        actor=None,
        community=community,
        kind=TransferKind.REQUESTED_PAYMENT,
        payer=payer,
        payee=payee,
    )
    is_payee = payee.membership.user_id == actor.pk
    if not is_payee and not user_is_coordinator(user=actor, community=community):
        raise NotAllowed(_("You can only ask for a payment to your own account."))
    fingerprint = _fingerprint(
        payer=payer.pk, payee=payee.pk, amount=amount, memo=memo, actor=actor.pk
    )

    def work() -> PaymentRequest:
        # The key first: a retry is answered with the request it made, even when
        # a member's status has changed since.
        existing = _request_replay(community=community, key=key, fingerprint=fingerprint)
        if existing is not None:
            return existing
        for account in (payer, payee):
            if account.membership.status not in (Status.ACTIVE, Status.LEAVING):
                raise PaymentRefused(
                    _("%(name)s cannot give or receive now.") % {"name": account_label(account)},
                    code="member_suspended"
                    if account.membership.status == Status.SUSPENDED
                    else "not_a_member",
                )
        mode, days, trusted = _request_policy(payer)
        request = PaymentRequest.objects.create(
            community=community,
            payer=payer,
            payee=payee,
            amount=amount,
            memo=memo,
            created_by=actor,
            idempotency_key=key,
            request_fingerprint=fingerprint,
            auto_accept_at=(
                timezone.now() + timedelta(days=days) if mode == AutoAccept.AFTER_DAYS else None
            ),
        )
        PaymentRequestEvent.objects.create(
            request=request, actor=actor, from_status="", to_status=RequestStatus.PENDING
        )
        if not is_payee:
            audit_record(
                actor=actor,
                community=community,
                action=AuditAction.REQUEST_ON_BEHALF,
                subject=request,
                member=payee.membership,
                details={
                    "payer": _audit_party(payer),
                    "payee": _audit_party(payee),
                    "amount": amount,
                },
            )
        if mode == AutoAccept.ALWAYS or (mode == AutoAccept.TRUSTED and payee.pk in trusted):
            try:
                with transaction.atomic():
                    return _request_step(
                        request=request,
                        actor=None,
                        to_status=RequestStatus.ACCEPTED,
                        note=_("Accepted automatically, as %(name)s chose.")
                        % {"name": account_label(payer)},
                    )
            except PaymentRefused:
                pass  # it waits for the payer, like any other request
        _request_notify(request=request, template="request_new", recipient=payer)
        return request

    try:
        return atomic_with_retry(work)
    except IntegrityError:
        if transaction.get_connection().in_atomic_block:
            raise
        existing = _request_replay(community=community, key=key, fingerprint=fingerprint)
        if existing is None:
            raise
        return existing


def _request_replay(*, community: Community, key: str, fingerprint: str) -> PaymentRequest | None:
    """The request already made with this key, if it is the same request."""
    existing = PaymentRequest.objects.filter(community=community, idempotency_key=key).first()
    if existing is not None and existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            _("This idempotency key was already used for a different request."),
            field="idempotency_key",
        )
    return existing


def _request_step(
    *, request: PaymentRequest, actor: User | None, to_status: str, note: str = ""
) -> PaymentRequest:
    """Take one step of ``REQUEST_TRANSITIONS``; the caller holds the request's lock."""
    party = _request_party(actor=actor, request=request)
    allowed = REQUEST_TRANSITIONS.get((request.status, to_status))
    if allowed is None:
        raise TransitionNotAllowed(
            _("This request is “%(status)s” and cannot become “%(to)s”.")
            % {"status": request.get_status_display(), "to": RequestStatus(to_status).label}
        )
    if party not in allowed:
        raise NotAllowed(
            _("Only %(parties)s can do this.")
            % {"parties": _(" or ").join(str(Party(p).label) for p in sorted(allowed))}
        )
    if to_status == RequestStatus.ACCEPTED:
        request.transfer = _transfer_write(
            community=request.community,
            kind=TransferKind.REQUESTED_PAYMENT,
            payer=request.payer,
            payee=request.payee,
            amount=request.amount,
            memo=request.memo,
            reason="",
            actor=actor,
            key=f"request:{request.pk}",
            fingerprint=_fingerprint(request=request.pk),
        )
    from_status = request.status
    request.status = to_status
    request.auto_accept_at = None
    request.save(update_fields=["status", "transfer", "auto_accept_at"])
    PaymentRequestEvent.objects.create(
        request=request, actor=actor, from_status=from_status, to_status=to_status, note=note[:500]
    )
    return request


def payment_request_decide(
    *, actor: User | None, request: PaymentRequest, to_status: str, note: str = ""
) -> PaymentRequest:
    """Pay, decline or withdraw a request (``actor=None``: the auto-accept job).

    Paying makes a transfer like any payment: the limits and statuses apply,
    and a refusal explains itself and leaves the request waiting. The other
    member is told by mail. Raises NotAllowed, TransitionNotAllowed,
    PaymentRefused or InvalidInput.
    """
    if to_status not in RequestStatus.values:
        raise InvalidInput(_("Unknown status."), field="status")

    def work() -> PaymentRequest:
        locked = (
            PaymentRequest.objects.select_for_update(of=("self",))
            .select_related("community", "payer__membership__user", "payee__membership__user")
            .get(pk=request.pk)
        )
        from_status = locked.status
        stepped = _request_step(request=locked, actor=actor, to_status=to_status, note=note)
        parties = (stepped.payer.membership.user_id, stepped.payee.membership.user_id)
        if actor is not None and actor.pk not in parties:  # a coordinator, as the table allowed
            audit_record(
                actor=actor,
                community=stepped.community,
                action=AuditAction.REQUEST_DECIDE,
                subject=stepped,
                member=stepped.payer.membership,
                details={
                    "from": from_status,
                    "to": to_status,
                    "payer": _audit_party(stepped.payer),
                    "payee": _audit_party(stepped.payee),
                    "amount": stepped.amount,
                },
                reason=note,
            )
        recipient = stepped.payer if to_status == RequestStatus.CANCELLED else stepped.payee
        _request_notify(request=stepped, template="request_decided", recipient=recipient)
        return stepped

    return atomic_with_retry(work)


def payment_requests_auto_accept_due(*, now=None) -> int:
    """Pay every waiting request whose auto-accept moment has passed; return how many.

    A request that cannot be paid now (a limit, a paused member) stops waiting
    for the clock and waits for the payer instead.
    """
    now = now or timezone.now()
    due = PaymentRequest.objects.filter(
        status=RequestStatus.PENDING, auto_accept_at__lte=now
    ).values_list("pk", flat=True)
    paid = 0
    for request_id in list(due):
        request = PaymentRequest.objects.get(pk=request_id)
        try:
            payment_request_decide(
                actor=None,
                request=request,
                to_status=RequestStatus.ACCEPTED,
                note=_("Accepted automatically: no answer within the agreed days."),
            )
            paid += 1
        except (PaymentRefused, TransitionNotAllowed):
            PaymentRequest.objects.filter(pk=request_id, status=RequestStatus.PENDING).update(
                auto_accept_at=None
            )
    return paid


def ledger_settings_set(*, actor: User, community: Community, auto_accept: str, days: int):
    """A coordinator sets how requests are accepted in the community by default."""
    if not user_is_coordinator(user=actor, community=community):
        raise NotAllowed(_("Only a coordinator of this community can change this."))
    if auto_accept not in AutoAccept.values or auto_accept == AutoAccept.TRUSTED:
        raise InvalidInput(_("Choose how requests are accepted."), field="auto_accept")
    if not isinstance(days, int) or not 1 <= days <= 365:
        raise InvalidInput(_("Choose between 1 and 365 days."), field="days")
    with transaction.atomic():
        before = ledger_settings_of(community=community)
        row, _created = LedgerSettings.objects.update_or_create(
            community=community, defaults={"auto_accept": auto_accept, "auto_accept_days": days}
        )
        if (before.auto_accept, before.auto_accept_days) != (auto_accept, days):
            audit_record(
                actor=actor,
                community=community,
                action=AuditAction.REQUEST_SETTINGS,
                subject=row,
                details={
                    "auto_accept": [before.auto_accept, auto_accept],
                    "days": [before.auto_accept_days, days],
                },
            )
    return row


def account_request_policy_set(
    *, actor: User, account: Account, auto_accept: str | None, days: int, trusted: list[Account]
) -> AccountRequestPolicy | None:
    """A member chooses how requests to them are accepted (None: the community's choice)."""
    if account.membership is None or account.membership.user_id != actor.pk:
        raise NotAllowed(_("You can only change this for your own account."))
    if auto_accept is None:
        AccountRequestPolicy.objects.filter(account=account).delete()
        return None
    if auto_accept not in AutoAccept.values:
        raise InvalidInput(_("Choose how requests are accepted."), field="auto_accept")
    if not isinstance(days, int) or not 1 <= days <= 365:
        raise InvalidInput(_("Choose between 1 and 365 days."), field="days")
    if any(t.community_id != account.community_id or t.pk == account.pk for t in trusted):
        raise InvalidInput(_("Choose members of this community."), field="trusted")
    with transaction.atomic():
        policy, _created = AccountRequestPolicy.objects.update_or_create(
            account=account, defaults={"auto_accept": auto_accept, "auto_accept_days": days}
        )
        policy.trusted.set(trusted)
    return policy


def _request_notify(*, request: PaymentRequest, template: str, recipient: Account) -> None:
    user = recipient.membership.user
    with translation.override(user.language):
        context = {
            "user": user,
            "request": request,
            "community": request.community,
            "amount": amount_format(community=request.community, amount=request.amount),
            "payer": account_label(request.payer),
            "payee": account_label(request.payee),
        }
        subject = render_to_string(f"ledger/email/{template}_subject.txt", context)
        body = render_to_string(f"ledger/email/{template}_body.txt", context)
    email_queue(subject=" ".join(subject.split()), body=body, to=[user.email])
