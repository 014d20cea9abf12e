"""Core tables of the domain model.

Every user-data table carries ``owner_id`` (the future Citus distribution
key, and the column row-level security keys on). Secrets and captured text
are stored encrypted (``*_enc`` columns, AES-256-GCM under per-owner data
keys of the row's owner; ``data_keys`` records which master key wraps each).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SOURCE_KINDS = (
    "email", "ebook", "document", "message", "note",
    "calendar", "wearable", "location", "web", "other",
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    kinds = ", ".join(f"'{k}'" for k in SOURCE_KINDS)
    op.execute(
        f"""
        CREATE TABLE users (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            external_subject text NOT NULL UNIQUE,
            email text,
            name text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email IS NOT NULL;

        CREATE TABLE data_keys (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id uuid NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
            master_key_id text NOT NULL,
            wrapped bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            rotated_at timestamptz
        );
        CREATE INDEX data_keys_master_key_idx ON data_keys (master_key_id);

        CREATE TABLE streams (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            source text NOT NULL CHECK (source IN ({kinds})),
            settings jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX streams_owner_idx ON streams (owner_id, created_at, id);

        CREATE TABLE captures (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            stream_id uuid NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
            author_id uuid REFERENCES users(id) ON DELETE SET NULL,
            occurred_at timestamptz NOT NULL,
            captured_at timestamptz NOT NULL DEFAULT now(),
            title_enc bytea,
            content_enc bytea,
            data_enc bytea,
            content_hash bytea NOT NULL,
            size_bytes integer NOT NULL DEFAULT 0,
            external_id text,
            analysis_status text NOT NULL DEFAULT 'PENDING'
                CHECK (analysis_status IN ('PENDING', 'RUNNING', 'DONE', 'FAILED', 'SKIPPED')),
            analysis_error text,
            analysed_at timestamptz,
            search tsvector
        );
        CREATE UNIQUE INDEX captures_external_id_key ON captures (stream_id, external_id)
            WHERE external_id IS NOT NULL;
        CREATE UNIQUE INDEX captures_content_hash_key ON captures (stream_id, content_hash);
        CREATE INDEX captures_stream_time_idx ON captures (stream_id, occurred_at DESC, id DESC);
        CREATE INDEX captures_owner_time_idx ON captures (owner_id, occurred_at DESC, id DESC);
        CREATE INDEX captures_pending_idx ON captures (analysis_status)
            WHERE analysis_status IN ('PENDING', 'RUNNING');
        CREATE INDEX captures_search_idx ON captures USING gin (search);

        CREATE TABLE insights (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            kind text NOT NULL,
            text_enc bytea NOT NULL,
            confidence real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
            producer text NOT NULL,
            generated_at timestamptz NOT NULL DEFAULT now(),
            superseded_at timestamptz,
            search tsvector
        );
        CREATE INDEX insights_owner_idx ON insights (owner_id, generated_at DESC, id DESC);
        CREATE INDEX insights_search_idx ON insights USING gin (search);

        CREATE TABLE insight_sources (
            insight_id uuid NOT NULL REFERENCES insights(id) ON DELETE CASCADE,
            capture_id uuid NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            PRIMARY KEY (insight_id, capture_id)
        );
        CREATE INDEX insight_sources_capture_idx ON insight_sources (capture_id);

        CREATE TABLE concepts (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            kind text NOT NULL,
            name text NOT NULL,
            normalized_name text NOT NULL,
            aliases text[] NOT NULL DEFAULT '{{}}',
            merged_into uuid REFERENCES concepts(id) ON DELETE SET NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (owner_id, kind, normalized_name)
        );
        CREATE INDEX concepts_name_trgm_idx ON concepts USING gin (normalized_name gin_trgm_ops);

        CREATE TABLE edges (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            from_type text NOT NULL,
            from_id uuid NOT NULL,
            to_type text NOT NULL,
            to_id uuid NOT NULL,
            relation text NOT NULL,
            weight real NOT NULL DEFAULT 1.0,
            evidence jsonb,
            producer text NOT NULL CHECK (producer IN ('AI', 'USER')),
            created_by uuid REFERENCES users(id) ON DELETE SET NULL,
            valid_from timestamptz,
            valid_to timestamptz,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            superseded_at timestamptz
        );
        CREATE INDEX edges_from_idx ON edges (from_id, relation) WHERE superseded_at IS NULL;
        CREATE INDEX edges_to_idx ON edges (to_id, relation) WHERE superseded_at IS NULL;
        CREATE INDEX edges_history_idx ON edges (owner_id, recorded_at);

        CREATE TABLE grants (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            stream_id uuid NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
            grantee_id uuid REFERENCES users(id) ON DELETE CASCADE,
            grantee_email text,
            role text NOT NULL CHECK (role IN ('OWNER', 'COLLABORATOR', 'VIEWER')),
            created_by uuid REFERENCES users(id) ON DELETE SET NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CHECK (grantee_id IS NOT NULL OR grantee_email IS NOT NULL)
        );
        CREATE UNIQUE INDEX grants_stream_grantee_key ON grants (stream_id, grantee_id)
            WHERE grantee_id IS NOT NULL;
        CREATE UNIQUE INDEX grants_stream_invite_key ON grants (stream_id, lower(grantee_email))
            WHERE grantee_id IS NULL;
        CREATE INDEX grants_grantee_idx ON grants (grantee_id);

        CREATE TABLE api_tokens (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name text NOT NULL,
            token_hash bytea NOT NULL UNIQUE,
            prefix text NOT NULL,
            scopes text[] NOT NULL,
            stream_id uuid REFERENCES streams(id) ON DELETE CASCADE,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz,
            revoked_at timestamptz,
            last_used_at timestamptz
        );
        CREATE INDEX api_tokens_owner_idx ON api_tokens (owner_id);

        CREATE TABLE audit_log (
            id bigserial PRIMARY KEY,
            chain_id text NOT NULL,
            seq bigint NOT NULL,
            occurred_at timestamptz NOT NULL DEFAULT now(),
            actor text,
            action text NOT NULL,
            target_type text,
            target_id text,
            details jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            prev_hash bytea,
            row_hash bytea NOT NULL,
            UNIQUE (chain_id, seq)
        );

        CREATE TABLE events (
            id bigserial PRIMARY KEY,
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            stream_ids uuid[] NOT NULL DEFAULT '{{}}',
            kind text NOT NULL,
            node_type text,
            node_id uuid,
            payload jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX events_owner_idx ON events (owner_id, id);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE IF EXISTS events, audit_log, api_tokens, grants, edges, concepts,
            insight_sources, insights, captures, streams, data_keys, users CASCADE;
        """
    )
