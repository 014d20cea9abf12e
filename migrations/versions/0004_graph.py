"""Graph building: idempotent AI edges, concept matching keys, insight fingerprints.

- ``edges_current_ai_key``: at most one *current* AI edge per (owner, from,
  to, relation), so re-applying an analysis (a retried job) cannot duplicate
  edges; superseded rows and USER edges are outside the index.
- ``concepts.normalized_aliases`` / ``match_key``: exact alias lookup and a
  coarse near-duplicate key (a person's surname, an acronym) for merging.
- ``insights.fingerprint``: keyed hash of (capture, kind, text) so a retried
  or repeated analysis keeps the same insight instead of adding a copy.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE UNIQUE INDEX edges_current_ai_key ON edges (owner_id, from_id, to_id, relation)
            WHERE superseded_at IS NULL AND producer = 'AI';

        ALTER TABLE concepts
            ADD COLUMN normalized_aliases text[] NOT NULL DEFAULT '{}',
            ADD COLUMN match_key text;
        CREATE INDEX concepts_match_key_idx ON concepts (owner_id, kind, match_key)
            WHERE match_key IS NOT NULL;
        CREATE INDEX concepts_aliases_idx ON concepts USING gin (normalized_aliases);

        ALTER TABLE insights ADD COLUMN fingerprint bytea;
        CREATE UNIQUE INDEX insights_current_fingerprint_key ON insights (owner_id, fingerprint)
            WHERE superseded_at IS NULL AND fingerprint IS NOT NULL;
        CREATE INDEX insight_sources_owner_idx ON insight_sources (owner_id);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX IF EXISTS insight_sources_owner_idx;
        DROP INDEX IF EXISTS insights_current_fingerprint_key;
        ALTER TABLE insights DROP COLUMN IF EXISTS fingerprint;
        DROP INDEX IF EXISTS concepts_aliases_idx;
        DROP INDEX IF EXISTS concepts_match_key_idx;
        ALTER TABLE concepts DROP COLUMN IF EXISTS match_key,
            DROP COLUMN IF EXISTS normalized_aliases;
        DROP INDEX IF EXISTS edges_current_ai_key;
        """
    )
