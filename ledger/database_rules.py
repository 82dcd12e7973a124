"""The ledger's invariants, enforced by the database itself.

The services check everything first and explain a refusal in words. These
rules are the backstop: no code path, admin action or raw SQL can break the
books. They are installed by migrations ``0002_database_rules`` and
``0008_entries_apply_themselves``; ``0010_memo_scrub`` then lets a transfer's
description be emptied (rule 1).

PostgreSQL enforces all of them:

1. Transfers, entries, batches and limit changes are append-only: UPDATE,
   DELETE and TRUNCATE are refused. Accounts are never deleted or truncated.
   One UPDATE of a transfer is allowed: setting its ``memo`` to the empty
   string while every other column stays as it was. That is how the free text
   of a member who has their data erased goes (``privacy.services``), while
   amounts, accounts, dates and keys stay. Its trigger function,
   ``ledger_transfer_refuse_change``, is defined in that migration, not in
   ``POSTGRES_INSTALL`` below: a later migration that reinstalls these rules
   must apply 0010's trigger again, or emptying a memo is refused once more.
2. A transfer's entries sum to zero and there are at least two of them
   (checked at commit, so the entries can be inserted one by one). Entries
   are written in the same transaction as their transfer, never added later.
3. An entry belongs to an account of the transfer's own community; it must
   carry the account's next version and the balance that results.
4. An account's balance and version change only by an entry: inserting the
   entry applies it to the account, in the same statement, one version at a
   time. A direct UPDATE of a balance or version is refused.
5. A new account starts at balance 0, version 0; its community, kind and
   membership never change.
6. Limits hold: a balance may not go below its floor or above its ceiling
   (the community's default when the account has none), except when it moves
   towards them, so a repayment is always possible after a limit was tightened.

Violations raise SQLSTATE 23514 (check_violation), which Django reports as an
IntegrityError.

SQLite, the embedded default for a small circle, gets rule 1 as triggers,
with the same exception for emptying a memo; rules 2 to 6 rest on the services
there (and on the CHECK constraints the models declare).
"""

POSTGRES_INSTALL = r"""
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger: % on % is not allowed: the books are append-only',
        TG_OP, TG_TABLE_NAME USING ERRCODE = '23514';
END $$;

DO $$
DECLARE journal text;
BEGIN
    FOREACH journal IN ARRAY ARRAY['ledger_transfer', 'ledger_entry',
                                   'ledger_transferbatch', 'ledger_limitchange']
    LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I
                        FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()',
                       journal || '_append_only', journal);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()',
                       journal || '_no_truncate', journal);
    END LOOP;
END $$;

CREATE TRIGGER ledger_account_no_delete BEFORE DELETE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_account_no_truncate BEFORE TRUNCATE ON ledger_account
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- Rule 2: checked at commit for every transfer (its entries can only be
-- written in the same transaction, see ledger_entry_apply).
CREATE OR REPLACE FUNCTION ledger_transfer_check_at_commit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE total numeric; lines bigint;
BEGIN
    SELECT coalesce(sum(amount), 0), count(*) INTO total, lines
      FROM ledger_entry WHERE transfer_id = NEW.id;
    IF lines < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'ledger: transfer % has % entries summing to %; '
                        'it needs at least two that sum to zero', NEW.id, lines, total
            USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_transfer_balanced AFTER INSERT ON ledger_transfer
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION ledger_transfer_check_at_commit();

-- Rules 2 (for entries), 3, 4 and 6, as each entry is inserted: the entry
-- belongs to a transfer written in this same transaction (so the transfer's
-- own check at commit covers it: nobody adds an entry to an old transfer),
-- to an account of that transfer's community, and it is the account's next
-- step. The database applies it to the account right here, and refuses a
-- move past the account's limits unless it is a move back towards them.
--
-- "Written in this transaction": the transfer row is visible to us and the
-- transaction that inserted it (its xmin) is still in progress. A row of
-- another transaction that is still in progress is never visible, so that
-- can only be this transaction or one of its savepoints. age(xmin) turns
-- the 32-bit xmin into a full transaction id, relative to our own.
CREATE OR REPLACE FUNCTION ledger_entry_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    transfer_community bigint; transfer_age integer;
    acc record;
BEGIN
    SELECT community_id, age(xmin) INTO transfer_community, transfer_age
      FROM ledger_transfer WHERE id = NEW.transfer_id;
    IF NOT FOUND OR pg_xact_status(
           (pg_current_xact_id()::text::bigint - transfer_age)::text::xid8
       ) IS DISTINCT FROM 'in progress' THEN
        RAISE EXCEPTION 'ledger: an entry is written together with its transfer; '
                        'transfer % was written before (or does not exist)', NEW.transfer_id
            USING ERRCODE = '23514';
    END IF;
    UPDATE ledger_account a
       SET balance = a.balance + NEW.amount, version = a.version + 1
      FROM accounts_community c
     WHERE a.id = NEW.account_id AND c.id = a.community_id
           AND a.community_id = transfer_community
    RETURNING a.balance, a.version,
              coalesce(a.floor, c.default_floor) AS lowest,
              coalesce(a.ceiling, c.default_ceiling) AS highest
      INTO acc;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger: account % is not in the community of transfer %',
            NEW.account_id, NEW.transfer_id USING ERRCODE = '23514';
    END IF;
    IF NEW.version <> acc.version OR NEW.balance_after <> acc.balance THEN
        RAISE EXCEPTION 'ledger: entry for account % must carry version % and balance %',
            NEW.account_id, acc.version, acc.balance USING ERRCODE = '23514';
    END IF;
    IF (NEW.amount < 0 AND acc.balance < acc.lowest)
       OR (NEW.amount > 0 AND acc.balance > acc.highest) THEN
        RAISE EXCEPTION 'ledger: account % would go to %, outside its limits % to %',
            NEW.account_id, acc.balance, acc.lowest, acc.highest USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_entry_apply BEFORE INSERT ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_apply();

-- Rule 5.
CREATE OR REPLACE FUNCTION ledger_account_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.balance <> 0 OR NEW.version <> 0 THEN
        RAISE EXCEPTION 'ledger: a new account starts at balance 0, version 0'
            USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_account_before_insert BEFORE INSERT ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_account_before_insert();

-- Rules 4 and 5, on every change of an account. Its balance and version
-- change only when ledger_entry_apply applies an entry: that is the one
-- place an account is updated from inside a trigger (pg_trigger_depth 2).
-- Limits and other settings may change; community, kind and membership not.
CREATE OR REPLACE FUNCTION ledger_account_before_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.community_id <> OLD.community_id OR NEW.kind <> OLD.kind
       OR NEW.membership_id IS DISTINCT FROM OLD.membership_id THEN
        RAISE EXCEPTION 'ledger: an account''s community, kind and membership never change'
            USING ERRCODE = '23514';
    END IF;
    IF (NEW.balance <> OLD.balance OR NEW.version <> OLD.version)
       AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'ledger: the balance of account % changes only with an entry', NEW.id
            USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_account_before_update BEFORE UPDATE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_account_before_update();
"""

POSTGRES_REMOVE = r"""
DROP TRIGGER IF EXISTS ledger_account_before_update ON ledger_account;
DROP TRIGGER IF EXISTS ledger_account_before_insert ON ledger_account;
DROP TRIGGER IF EXISTS ledger_entry_apply ON ledger_entry;
DROP TRIGGER IF EXISTS ledger_entry_balanced_and_applied ON ledger_entry;
DROP TRIGGER IF EXISTS ledger_entry_before_insert ON ledger_entry;
DROP TRIGGER IF EXISTS ledger_transfer_balanced ON ledger_transfer;
DROP TRIGGER IF EXISTS ledger_account_no_truncate ON ledger_account;
DROP TRIGGER IF EXISTS ledger_account_no_delete ON ledger_account;
DO $$
DECLARE journal text;
BEGIN
    FOREACH journal IN ARRAY ARRAY['ledger_transfer', 'ledger_entry',
                                   'ledger_transferbatch', 'ledger_limitchange']
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', journal || '_append_only', journal);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', journal || '_no_truncate', journal);
    END LOOP;
END $$;
DROP FUNCTION IF EXISTS ledger_account_before_update();
DROP FUNCTION IF EXISTS ledger_account_before_insert();
DROP FUNCTION IF EXISTS ledger_entry_apply();
DROP FUNCTION IF EXISTS ledger_entry_check_at_commit();
DROP FUNCTION IF EXISTS ledger_entry_before_insert();
DROP FUNCTION IF EXISTS ledger_transfer_check_at_commit();
DROP FUNCTION IF EXISTS ledger_transfer_is_balanced(bigint);
DROP FUNCTION IF EXISTS ledger_refuse_change();
"""

SQLITE_JOURNALS = ("ledger_transfer", "ledger_entry", "ledger_transferbatch", "ledger_limitchange")


def sqlite_install() -> list[str]:
    statements = []
    for table in SQLITE_JOURNALS:
        for operation in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'ledger: the books are append-only'); END"
            )
    statements.append(
        "CREATE TRIGGER ledger_account_no_delete BEFORE DELETE ON ledger_account "
        "BEGIN SELECT RAISE(ABORT, 'ledger: accounts are never deleted'); END"
    )
    return statements


def sqlite_remove() -> list[str]:
    names = [f"{t}_no_{op}" for t in SQLITE_JOURNALS for op in ("update", "delete")]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in [*names, "ledger_account_no_delete"]]


# A payment in one round trip. The service checks the request (amount, kind,
# who may do it) and builds the refusal messages; this function does the part
# that must happen under the accounts' locks, inside the database: lock both
# accounts (lowest id first, FOR NO KEY UPDATE) while reading what the checks
# need, check the holders' status and the limits, and write the transfer and
# its two entries (which apply themselves to the accounts, see
# ledger_entry_apply). The triggers above still check every row it writes.
#
# Returns one row: transfer_id and created_at when written; refused_account
# with the balance, holder's status and limits it was refused on, when a
# status or limit refuses it; all NULL when the idempotency key was used
# before (the caller looks that one up). A refused request looks for its key first, so a retry of a
# payment that used the last room is answered with the payment, not refused.
POSTGRES_TRANSFER_FUNCTION = r"""
DROP FUNCTION IF EXISTS ledger_transfer_post(
    bigint, text, text, text, bigint, text, text, bigint, bigint, bigint);

CREATE FUNCTION ledger_transfer_post(
    p_community bigint, p_kind text, p_memo text, p_reason text, p_created_by bigint,
    p_key text, p_fingerprint text, p_payer bigint, p_payee bigint, p_amount bigint,
    OUT transfer_id bigint, OUT created_at timestamptz,
    OUT refused_account bigint, OUT refused_balance bigint, OUT refused_status text,
    OUT refused_floor bigint, OUT refused_ceiling bigint
)
LANGUAGE plpgsql AS $$
DECLARE
    acc record;
    movement bigint;
    payer_balance bigint; payer_version bigint;
    payee_balance bigint; payee_version bigint;
    written_at timestamptz := now();
BEGIN
    FOR acc IN
        SELECT a.id, a.balance, a.version, a.kind, m.status,
               coalesce(a.floor, c.default_floor) AS lowest,
               coalesce(a.ceiling, c.default_ceiling) AS highest
          FROM ledger_account a
          JOIN accounts_community c ON c.id = a.community_id
          LEFT JOIN accounts_membership m ON m.id = a.membership_id
         WHERE a.id IN (p_payer, p_payee)
         ORDER BY a.id
           FOR NO KEY UPDATE OF a
    LOOP
        movement := CASE WHEN acc.id = p_payer THEN -p_amount ELSE p_amount END;
        IF (acc.kind = 'member' AND (
                acc.status IS DISTINCT FROM 'active' AND acc.status IS DISTINCT FROM 'leaving'
                OR (acc.status = 'leaving' AND NOT acc.balance + movement
                    BETWEEN least(acc.balance, 0) AND greatest(acc.balance, 0))))
           OR (movement < 0 AND acc.balance + movement < acc.lowest)
           OR (movement > 0 AND acc.balance + movement > acc.highest) THEN
            IF NOT EXISTS (SELECT 1 FROM ledger_transfer t
                            WHERE t.community_id = p_community AND t.idempotency_key = p_key) THEN
                refused_account := acc.id;
                refused_balance := acc.balance;
                refused_status := acc.status;
                refused_floor := acc.lowest;
                refused_ceiling := acc.highest;
            END IF;
            RETURN;
        END IF;
        IF acc.id = p_payer THEN
            payer_balance := acc.balance + movement; payer_version := acc.version + 1;
        ELSE
            payee_balance := acc.balance + movement; payee_version := acc.version + 1;
        END IF;
    END LOOP;

    INSERT INTO ledger_transfer (community_id, kind, memo, reason, created_by_id, created_at,
                                 idempotency_key, request_fingerprint)
    VALUES (p_community, p_kind, p_memo, p_reason, p_created_by, written_at,
            p_key, p_fingerprint)
    ON CONFLICT (community_id, idempotency_key) DO NOTHING
    RETURNING id INTO transfer_id;
    IF transfer_id IS NULL THEN
        RETURN;  -- the key was used before
    END IF;
    INSERT INTO ledger_entry (transfer_id, account_id, amount, balance_after, version)
    VALUES (transfer_id, p_payer, -p_amount, payer_balance, payer_version),
           (transfer_id, p_payee, p_amount, payee_balance, payee_version);
    created_at := written_at;
END $$;
"""

POSTGRES_TRANSFER_FUNCTION_REMOVE = (
    "DROP FUNCTION IF EXISTS ledger_transfer_post("
    "bigint, text, text, text, bigint, text, text, bigint, bigint, bigint)"
)
