"""Search: a smaller full-text index over current insights.

Search only ever looks at current insights; superseded ones pile up with
every re-analysis, so a partial GIN index stays small and hot. Captures
(``captures_search_idx``) and concept names (``concepts_name_trgm_idx``)
are already indexed by 0001.

``captures.search`` / ``insights.search`` are filled by the analysis job
(``lifeos_gql.domains.search.indexing``): the text is encrypted at rest, so
SQL cannot backfill them; captures analysed before this revision get their
vector once they are re-analysed (``requestAnalysis``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX insights_current_search_idx ON insights USING gin (search)"
        " WHERE superseded_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS insights_current_search_idx")
