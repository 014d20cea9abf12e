"""API tokens and share links (issue 6).

``api_tokens`` already holds both kinds of token (ingest tokens have
``stream_id`` set); here its scopes are constrained to the known ones and
the owner's listing gets an index. ``share_links`` holds the hash of each
link token, never the token.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scopes_known
            CHECK (cardinality(scopes) > 0
                   AND scopes <@ ARRAY['read', 'write', 'subscribe']::text[]);
        CREATE INDEX api_tokens_owner_created_idx ON api_tokens (owner_id, created_at DESC, id DESC);

        CREATE TABLE share_links (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            node_type text NOT NULL CHECK (node_type IN ('capture', 'insight', 'concept')),
            node_id uuid NOT NULL,
            token_hash bytea NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz,
            last_used_at timestamptz
        );
        CREATE INDEX share_links_owner_created_idx
            ON share_links (owner_id, created_at DESC, id DESC);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE IF EXISTS share_links;
        DROP INDEX IF EXISTS api_tokens_owner_created_idx;
        ALTER TABLE api_tokens DROP CONSTRAINT IF EXISTS api_tokens_scopes_known;
        """
    )
