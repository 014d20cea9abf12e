"""Audit: append-only trigger, chain heads and pseudonyms (issue 6).

- ``audit_log`` refuses UPDATE, DELETE and TRUNCATE (triggers), so history
  can only grow; erasure never touches it.
- ``audit_heads`` holds each chain's last seq and hash. A BEFORE INSERT
  trigger on ``audit_log`` checks that a new row extends its chain's head
  exactly (seq + 1, prev_hash = head hash) and advances the head, so removing
  the newest rows of a chain is detectable: the head points past them. The
  head itself may only advance one step at a time and is never deleted.
- ``audit_pseudonyms`` maps a user to the random pseudonym audit rows carry
  instead of the user id. It cascades with the user row, so after erasure
  the trail stays verifiable but no longer leads to the person.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE audit_pseudonyms (
            user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            pseudonym text NOT NULL UNIQUE CHECK (pseudonym ~ '^p_[0-9a-f]{32}$'),
            created_at timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE audit_heads (
            chain_id text PRIMARY KEY,
            last_seq bigint NOT NULL CHECK (last_seq >= 1),
            last_hash bytea NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        );

        -- Chains written before this revision get their head from their last row.
        INSERT INTO audit_heads (chain_id, last_seq, last_hash)
        SELECT DISTINCT ON (chain_id) chain_id, seq, row_hash
        FROM audit_log ORDER BY chain_id, seq DESC;

        -- Pseudonyms of users, made on first need: 'p_' and 128 bits drawn
        -- from two gen_random_uuid() (the server's strong random source).
        -- With the definer's rights: pseudonymising a grantee must not depend
        -- on whether the acting user's row-level-security view shows them.
        CREATE FUNCTION audit_pseudonyms_for(ids uuid[])
        RETURNS TABLE (user_id uuid, pseudonym text)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        #variable_conflict use_column
        BEGIN
            INSERT INTO audit_pseudonyms (user_id, pseudonym)
            SELECT u.id, 'p_' || encode(substring(sha256(
                       uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())
                   ) FROM 1 FOR 16), 'hex')
            FROM users u
            WHERE u.id = ANY(ids)
              AND NOT EXISTS (SELECT 1 FROM audit_pseudonyms p WHERE p.user_id = u.id)
            ON CONFLICT (user_id) DO NOTHING;
            -- A new statement, so a mapping a concurrent transaction committed
            -- (our insert then did nothing) is visible here.
            RETURN QUERY
                SELECT p.user_id, p.pseudonym FROM audit_pseudonyms p WHERE p.user_id = ANY(ids);
        END $$;

        -- The acting user's own pseudonym (lifeos.actor_id), for reading
        -- their trail; never makes one.
        CREATE FUNCTION audit_actor_pseudonym() RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT pseudonym FROM audit_pseudonyms
            WHERE user_id = NULLIF(current_setting('lifeos.actor_id', true), '')::uuid
        $$;

        -- Serialise appends to a chain (until commit) and return its head,
        -- read after the lock is held. Definer's rights: a collaborator
        -- appends to the stream owner's chain without being able to read it.
        CREATE FUNCTION audit_lock_chain(chain text)
        RETURNS TABLE (last_seq bigint, last_hash bytea)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        #variable_conflict use_column
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtextextended(chain, 7));
            RETURN QUERY SELECT h.last_seq, h.last_hash FROM audit_heads h WHERE h.chain_id = chain;
        END $$;

        CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Audit rows are never changed or removed; append a new row instead.';
        END $$;

        -- SECURITY DEFINER: the head moves only through this trigger, so the
        -- app role needs no write access to audit_heads at all.
        CREATE FUNCTION audit_log_extend_head() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
            head_seq bigint;
            head_hash bytea;
        BEGIN
            SELECT last_seq, last_hash INTO head_seq, head_hash
            FROM audit_heads WHERE chain_id = NEW.chain_id FOR UPDATE;
            IF NOT FOUND THEN
                IF NEW.seq <> 1 OR NEW.prev_hash IS NOT NULL THEN
                    RAISE EXCEPTION 'audit_log: chain % starts at seq 1 with no prev_hash',
                        NEW.chain_id USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                INSERT INTO audit_heads (chain_id, last_seq, last_hash)
                VALUES (NEW.chain_id, NEW.seq, NEW.row_hash);
            ELSE
                IF NEW.seq <> head_seq + 1 OR NEW.prev_hash IS DISTINCT FROM head_hash THEN
                    RAISE EXCEPTION 'audit_log: seq % does not extend chain % (head at seq %)',
                        NEW.seq, NEW.chain_id, head_seq
                        USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                UPDATE audit_heads
                SET last_seq = NEW.seq, last_hash = NEW.row_hash, updated_at = now()
                WHERE chain_id = NEW.chain_id;
            END IF;
            RETURN NEW;
        END $$;

        CREATE FUNCTION audit_heads_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            -- NEW is NULL for DELETE and TRUNCATE: test it only on UPDATE.
            IF TG_OP = 'UPDATE' THEN
                IF NEW.chain_id = OLD.chain_id AND NEW.last_seq = OLD.last_seq + 1 THEN
                    RETURN NEW;
                END IF;
            END IF;
            RAISE EXCEPTION 'audit_heads only move forward one row at a time: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;

        CREATE TRIGGER audit_log_append_only
            BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
        CREATE TRIGGER audit_log_no_truncate
            BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
        CREATE TRIGGER audit_log_chain_head
            BEFORE INSERT ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_extend_head();
        CREATE TRIGGER audit_heads_forward_only
            BEFORE UPDATE OR DELETE ON audit_heads
            FOR EACH ROW EXECUTE FUNCTION audit_heads_guard();
        CREATE TRIGGER audit_heads_no_truncate
            BEFORE TRUNCATE ON audit_heads
            FOR EACH STATEMENT EXECUTE FUNCTION audit_heads_guard();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
        DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
        DROP TRIGGER IF EXISTS audit_log_chain_head ON audit_log;
        DROP TABLE IF EXISTS audit_heads, audit_pseudonyms;
        DROP FUNCTION IF EXISTS audit_log_refuse_change(), audit_log_extend_head(),
            audit_heads_guard(), audit_pseudonyms_for(uuid[]), audit_actor_pseudonym(),
            audit_lock_chain(text);
        """
    )
