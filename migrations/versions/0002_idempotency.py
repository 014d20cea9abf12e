"""Idempotency keys: a retried request returns the first response.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
            scope text NOT NULL,
            request_hash bytea NOT NULL,
            response jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (owner_id, scope, key)
        );
        CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS idempotency_keys")
