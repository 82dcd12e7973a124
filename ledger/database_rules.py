"""The ledger's invariants, enforced by the database itself.

The services check everything first and explain a refusal in words. These
rules are the backstop: no code path, admin action or raw SQL can break the
books. They are installed by migration ``0002_database_rules``.

PostgreSQL enforces all of them:

1. Transfers, entries, batches and limit changes are append-only: UPDATE,
   DELETE and TRUNCATE are refused. Accounts are never deleted or truncated.
2. A transfer's entries sum to zero and there are at least two of them
   (checked at commit, so the entries can be inserted one by one).
3. An entry belongs to an account of the transfer's own community; it must
   carry the account's next version and the balance that results.
4. An account's balance and version change only together with such an entry,
   one version at a time, and at commit every entry has been applied.
5. A new account starts at balance 0, version 0; its community, kind and
   membership never change.
6. Limits hold: a balance may not go below its floor or above its ceiling
   (the community's default when the account has none), except when it moves
   towards them, so a repayment is always possible after a limit was tightened.

Violations raise SQLSTATE 23514 (check_violation), which Django reports as an
IntegrityError.

SQLite, the embedded default for a small circle, gets rule 1 as triggers;
rules 2 to 6 rest on the services there (and on the CHECK constraints the
models declare).
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

-- Rule 2: checked at commit for every transfer and every entry inserted.
CREATE OR REPLACE FUNCTION ledger_transfer_is_balanced(the_transfer bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE total numeric; lines bigint;
BEGIN
    SELECT coalesce(sum(amount), 0), count(*) INTO total, lines
      FROM ledger_entry WHERE transfer_id = the_transfer;
    IF lines < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'ledger: transfer % has % entries summing to %; '
                        'it needs at least two that sum to zero', the_transfer, lines, total
            USING ERRCODE = '23514';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION ledger_transfer_check_at_commit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_transfer_is_balanced(NEW.id);
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_transfer_balanced AFTER INSERT ON ledger_transfer
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION ledger_transfer_check_at_commit();

-- Rules 3 and 4, on insert: the entry is the account's next step.
CREATE OR REPLACE FUNCTION ledger_entry_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE acc record; transfer_community bigint;
BEGIN
    SELECT community_id INTO transfer_community FROM ledger_transfer WHERE id = NEW.transfer_id;
    SELECT community_id, balance, version INTO acc FROM ledger_account WHERE id = NEW.account_id;
    IF acc.community_id IS DISTINCT FROM transfer_community THEN
        RAISE EXCEPTION 'ledger: account % is not in the community of transfer %',
            NEW.account_id, NEW.transfer_id USING ERRCODE = '23514';
    END IF;
    IF NEW.version <> acc.version + 1 OR NEW.balance_after <> acc.balance + NEW.amount THEN
        RAISE EXCEPTION 'ledger: entry for account % must carry version % and balance %',
            NEW.account_id, acc.version + 1, acc.balance + NEW.amount USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_entry_before_insert BEFORE INSERT ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_before_insert();

-- Rules 2 and 4, at commit: the transfer balances and the entry was applied.
CREATE OR REPLACE FUNCTION ledger_entry_check_at_commit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE applied bigint;
BEGIN
    PERFORM ledger_transfer_is_balanced(NEW.transfer_id);
    SELECT version INTO applied FROM ledger_account WHERE id = NEW.account_id;
    IF applied < NEW.version THEN
        RAISE EXCEPTION 'ledger: entry % was never applied to account %', NEW.id, NEW.account_id
            USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_entry_balanced_and_applied AFTER INSERT ON ledger_entry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION ledger_entry_check_at_commit();

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

-- Rules 4, 5 and 6, on every change of an account.
CREATE OR REPLACE FUNCTION ledger_account_before_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE lowest bigint; highest bigint;
BEGIN
    IF NEW.id <> OLD.id OR NEW.community_id <> OLD.community_id OR NEW.kind <> OLD.kind
       OR NEW.membership_id IS DISTINCT FROM OLD.membership_id THEN
        RAISE EXCEPTION 'ledger: an account''s community, kind and membership never change'
            USING ERRCODE = '23514';
    END IF;
    IF NEW.balance = OLD.balance AND NEW.version = OLD.version THEN
        RETURN NEW;
    END IF;
    IF NEW.version <> OLD.version + 1 OR NOT EXISTS (
        SELECT 1 FROM ledger_entry
         WHERE account_id = NEW.id AND version = NEW.version AND balance_after = NEW.balance
    ) THEN
        RAISE EXCEPTION 'ledger: the balance of account % changes only with an entry', NEW.id
            USING ERRCODE = '23514';
    END IF;
    SELECT coalesce(NEW.floor, c.default_floor), coalesce(NEW.ceiling, c.default_ceiling)
      INTO lowest, highest FROM accounts_community c WHERE c.id = NEW.community_id;
    IF (NEW.balance < lowest AND NEW.balance < OLD.balance)
       OR (NEW.balance > highest AND NEW.balance > OLD.balance) THEN
        RAISE EXCEPTION 'ledger: account % would go to %, outside its limits % to %',
            NEW.id, NEW.balance, lowest, highest USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_account_before_update BEFORE UPDATE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_account_before_update();
"""

POSTGRES_REMOVE = r"""
DROP TRIGGER IF EXISTS ledger_account_before_update ON ledger_account;
DROP TRIGGER IF EXISTS ledger_account_before_insert ON ledger_account;
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
# accounts (lowest id first, FOR NO KEY UPDATE), check the holders' status and
# the limits, and write the transfer, its two entries and both accounts. The
# triggers above still check every row it writes.
#
# Returns one row: (transfer_id, created_at) when written; (NULL, NULL,
# refused_account, its balance) when a status or limit refuses it; all NULL
# when the idempotency key was used before (the caller looks that one up).
# The key is looked up under the locks and before the limits, so a retry of a
# payment that used the last room is answered with the payment, not refused.
POSTGRES_TRANSFER_FUNCTION = r"""
CREATE OR REPLACE FUNCTION ledger_transfer_post(
    p_community bigint, p_kind text, p_memo text, p_reason text, p_created_by bigint,
    p_key text, p_fingerprint text, p_payer bigint, p_payee bigint, p_amount bigint
) RETURNS TABLE (transfer_id bigint, created_at timestamptz,
                 refused_account bigint, refused_balance bigint)
LANGUAGE plpgsql AS $$
DECLARE
    acc record;
    movement bigint;
    payer_balance bigint; payer_version bigint;
    payee_balance bigint; payee_version bigint;
    new_transfer bigint;
    written_at timestamptz := now();
BEGIN
    PERFORM 1 FROM ledger_account WHERE id IN (p_payer, p_payee)
     ORDER BY id FOR NO KEY UPDATE;
    -- Under the locks, a retry finds the first request's transfer, even when
    -- that one used the last room within a limit.
    IF EXISTS (SELECT 1 FROM ledger_transfer
                WHERE community_id = p_community AND idempotency_key = p_key) THEN
        RETURN QUERY SELECT NULL::bigint, NULL::timestamptz, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;
    FOR acc IN
        SELECT a.id, a.balance, a.version, a.kind, m.status,
               coalesce(a.floor, c.default_floor) AS lowest,
               coalesce(a.ceiling, c.default_ceiling) AS highest
          FROM ledger_account a
          JOIN accounts_community c ON c.id = a.community_id
          LEFT JOIN accounts_membership m ON m.id = a.membership_id
         WHERE a.id IN (p_payer, p_payee)
         ORDER BY a.id
    LOOP
        movement := CASE WHEN acc.id = p_payer THEN -p_amount ELSE p_amount END;
        IF (acc.kind = 'member' AND (
                acc.status IS DISTINCT FROM 'active' AND acc.status IS DISTINCT FROM 'leaving'
                OR (acc.status = 'leaving' AND NOT acc.balance + movement
                    BETWEEN least(acc.balance, 0) AND greatest(acc.balance, 0))))
           OR (movement < 0 AND acc.balance + movement < acc.lowest)
           OR (movement > 0 AND acc.balance + movement > acc.highest) THEN
            RETURN QUERY SELECT NULL::bigint, NULL::timestamptz, acc.id, acc.balance;
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
    RETURNING id INTO new_transfer;
    IF new_transfer IS NULL THEN
        RETURN QUERY SELECT NULL::bigint, NULL::timestamptz, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    INSERT INTO ledger_entry (transfer_id, account_id, amount, balance_after, version)
    VALUES (new_transfer, p_payer, -p_amount, payer_balance, payer_version),
           (new_transfer, p_payee, p_amount, payee_balance, payee_version);
    UPDATE ledger_account
       SET balance = CASE WHEN id = p_payer THEN payer_balance ELSE payee_balance END,
           version = CASE WHEN id = p_payer THEN payer_version ELSE payee_version END
     WHERE id IN (p_payer, p_payee);
    RETURN QUERY SELECT new_transfer, written_at, NULL::bigint, NULL::bigint;
END $$;
"""

POSTGRES_TRANSFER_FUNCTION_REMOVE = (
    "DROP FUNCTION IF EXISTS ledger_transfer_post("
    "bigint, text, text, text, bigint, text, text, bigint, bigint, bigint)"
)
