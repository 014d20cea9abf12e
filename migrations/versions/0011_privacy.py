"""Privacy: data exports and Clerk webhook deliveries (GDPR, issue 6).

- ``exports``: one row per ``exportMyData`` request; its archive is stored in
  ``export_chunks`` as AES-256-GCM ciphertext under the owner's data key, in
  chunks of about 1 MiB so neither building nor downloading holds the whole
  archive in memory. Both carry ``owner_id ... ON DELETE CASCADE``: erasing
  the user (or shredding their data key) leaves no readable export behind.
- ``clerk_webhook_deliveries``: the ``svix-id`` of every Clerk webhook
  processed, so a redelivered message is acknowledged without being applied
  twice. It holds Svix message ids and event types only, no user data.
- ``edges_created_by_idx``: erasure deletes the links a user drew in other
  people's graphs without scanning every edge.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE exports (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            status text NOT NULL DEFAULT 'PENDING'
                CHECK (status IN ('PENDING', 'READY', 'FAILED', 'EXPIRED')),
            created_at timestamptz NOT NULL DEFAULT now(),
            ready_at timestamptz,
            expires_at timestamptz NOT NULL,
            size_bytes bigint,
            chunk_count integer,
            sha256 bytea,
            error text
        );
        CREATE INDEX exports_owner_idx ON exports (owner_id, created_at DESC, id DESC);

        CREATE TABLE export_chunks (
            export_id uuid NOT NULL REFERENCES exports(id) ON DELETE CASCADE,
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            seq integer NOT NULL CHECK (seq >= 0),
            data_enc bytea NOT NULL,
            PRIMARY KEY (export_id, seq)
        );
        CREATE INDEX export_chunks_owner_idx ON export_chunks (owner_id);

        -- Erasure finds the links a user drew in other people's graphs.
        CREATE INDEX edges_created_by_idx ON edges (created_by) WHERE created_by IS NOT NULL;

        CREATE TABLE clerk_webhook_deliveries (
            svix_id text PRIMARY KEY CHECK (length(svix_id) BETWEEN 1 AND 200),
            event_type text NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX clerk_webhook_deliveries_received_idx
            ON clerk_webhook_deliveries (received_at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE IF EXISTS clerk_webhook_deliveries, export_chunks, exports;
        DROP INDEX IF EXISTS edges_created_by_idx;
        """
    )
