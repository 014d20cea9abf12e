"""Embeddings: one vector per (owner, node, producer), searched with HNSW cosine.

``producer`` is the embedder's name (model and version): vectors of different
producers are never compared, so it is part of the key and of every query.
``node_id`` and ``stream_ids`` are text because the vector-index interface
speaks string ids (as Pinecone does); nodes are captures, insights, concepts.
The HNSW index serves large owners; small owners are answered exactly through
the primary key's ``owner_id`` prefix (the planner picks by cost).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE embeddings (
            owner_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            node_id text NOT NULL CHECK (length(node_id) BETWEEN 1 AND 512),
            producer text NOT NULL CHECK (length(producer) BETWEEN 1 AND 200),
            node_type text NOT NULL CHECK (node_type IN ('capture', 'insight', 'concept')),
            stream_ids text[] NOT NULL DEFAULT '{}',
            occurred_at timestamptz,
            embedding vector(384) NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (owner_id, node_id, producer)
        );
        CREATE INDEX embeddings_hnsw_cosine_idx ON embeddings
            USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
        CREATE INDEX embeddings_owner_producer_idx ON embeddings (owner_id, producer, node_type);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS embeddings")
