"""Sharing: personas and persona grants (issue 6).

A persona groups streams its owner owns; a persona share is a bundle of
grants kept in step with the persona's streams. Each grant a persona share
produced carries ``persona_share_id`` (cascade-deleted with the share), so a
person can hold one direct grant and any number of persona grants on the
same stream: their role is the highest of them, and removing a stream from
a persona revokes only the grants that came from it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE personas (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX personas_owner_name_key ON personas (owner_id, lower(name));

        CREATE TABLE persona_streams (
            persona_id uuid NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
            stream_id uuid NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            added_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (persona_id, stream_id)
        );
        CREATE INDEX persona_streams_stream_idx ON persona_streams (stream_id);

        CREATE TABLE persona_shares (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            persona_id uuid NOT NULL REFERENCES personas(id) ON DELETE CASCADE,
            grantee_id uuid REFERENCES users(id) ON DELETE CASCADE,
            grantee_email text,
            role text NOT NULL CHECK (role IN ('COLLABORATOR', 'VIEWER')),
            created_by uuid REFERENCES users(id) ON DELETE SET NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CHECK (grantee_id IS NOT NULL OR grantee_email IS NOT NULL)
        );
        CREATE UNIQUE INDEX persona_shares_grantee_key ON persona_shares (persona_id, grantee_id)
            WHERE grantee_id IS NOT NULL;
        CREATE UNIQUE INDEX persona_shares_invite_key
            ON persona_shares (persona_id, lower(grantee_email)) WHERE grantee_id IS NULL;
        CREATE INDEX persona_shares_invite_email_idx ON persona_shares (lower(grantee_email))
            WHERE grantee_id IS NULL;
        CREATE INDEX persona_shares_grantee_idx ON persona_shares (grantee_id);

        ALTER TABLE grants
            ADD COLUMN persona_share_id uuid REFERENCES persona_shares(id) ON DELETE CASCADE;
        -- One direct grant (persona_share_id NULL) and one grant per persona
        -- share for each (stream, person).
        DROP INDEX grants_stream_grantee_key;
        DROP INDEX grants_stream_invite_key;
        CREATE UNIQUE INDEX grants_stream_grantee_key
            ON grants (stream_id, grantee_id, persona_share_id) NULLS NOT DISTINCT
            WHERE grantee_id IS NOT NULL;
        CREATE UNIQUE INDEX grants_stream_invite_key
            ON grants (stream_id, lower(grantee_email), persona_share_id) NULLS NOT DISTINCT
            WHERE grantee_id IS NULL;
        CREATE INDEX grants_invite_email_idx ON grants (lower(grantee_email))
            WHERE grantee_id IS NULL;
        CREATE INDEX grants_persona_share_idx ON grants (persona_share_id)
            WHERE persona_share_id IS NOT NULL;
        CREATE INDEX grants_stream_idx ON grants (stream_id, created_at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX IF EXISTS grants_stream_idx;
        DROP INDEX IF EXISTS grants_persona_share_idx;
        DROP INDEX IF EXISTS grants_invite_email_idx;
        DELETE FROM grants WHERE persona_share_id IS NOT NULL;
        DROP INDEX grants_stream_grantee_key;
        DROP INDEX grants_stream_invite_key;
        ALTER TABLE grants DROP COLUMN persona_share_id;
        CREATE UNIQUE INDEX grants_stream_grantee_key ON grants (stream_id, grantee_id)
            WHERE grantee_id IS NOT NULL;
        CREATE UNIQUE INDEX grants_stream_invite_key ON grants (stream_id, lower(grantee_email))
            WHERE grantee_id IS NULL;
        DROP TABLE IF EXISTS persona_shares, persona_streams, personas;
        """
    )
