"""Graph queries: indexes for bounded traversal (neighbours, paths) and time travel.

- ``edges_from_weight_idx`` / ``edges_to_weight_idx``: current edges of a node
  strongest first, so a hop takes the top *k* edges of each frontier node by
  reading *k* index entries, even for a hub with tens of thousands of edges.
- ``edges_from_time_idx`` / ``edges_to_time_idx``: every version of a node's
  edges (superseded ones included) for ``asOf`` queries, which the partial
  current-edge indexes cannot serve.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX edges_from_weight_idx ON edges (from_id, weight DESC, id)
            WHERE superseded_at IS NULL;
        CREATE INDEX edges_to_weight_idx ON edges (to_id, weight DESC, id)
            WHERE superseded_at IS NULL;
        CREATE INDEX edges_from_time_idx ON edges (from_id, recorded_at);
        CREATE INDEX edges_to_time_idx ON edges (to_id, recorded_at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX IF EXISTS edges_to_time_idx;
        DROP INDEX IF EXISTS edges_from_time_idx;
        DROP INDEX IF EXISTS edges_to_weight_idx;
        DROP INDEX IF EXISTS edges_from_weight_idx;
        """
    )
