"""Capture ingest throughput (issue 3): captures are born linked to their analysis job.

``jobs.outbox.JobsAtInsert`` queues a batch's analysis jobs first and inserts
the captures with ``analysis_job_id`` already set, instead of rewriting every
new row afterwards (``UPDATE captures SET analysis_job_id``), which cost as
much as the insert itself for a 1,000-item batch. Two schema changes serve it:

* ``captures_analysis_job_idx`` goes: rows would now enter it at insert time,
  and no query reads it (the outbox reaches ``analysis_job_id`` from a capture
  found by id or by status, ``captures_pending_idx``, then looks the job up
  by the job's primary key).
* ``lifeos_forget_new_jobs(ids)``: when some items of a batch turn out to be
  duplicates, the jobs queued for them are replaced. The request path's role
  may not delete jobs; this SECURITY DEFINER function deletes only jobs that
  are still ``todo`` and were inserted by the calling transaction itself
  (``xmin``), which no worker can have seen yet.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

APP_ROLE = "lifeos_app"
FORGET = "lifeos_forget_new_jobs(ids bigint[])"


def _execute_raw(sql: str) -> None:
    """Run ``sql`` on the migration's psycopg connection (``:`` and ``%`` as is)."""
    driver = op.get_bind().connection.driver_connection
    assert driver is not None  # a live psycopg connection while migrating
    driver.execute(sql)


def upgrade() -> None:
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar()
    op.execute("DROP INDEX IF EXISTS captures_analysis_job_idx")
    # txid_current() is epoch-extended; xmin is its low 32 bits.
    _execute_raw(
        f"""
        CREATE FUNCTION {FORGET} RETURNS bigint[] LANGUAGE sql VOLATILE
        SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
            WITH gone AS (
                DELETE FROM procrastinate_jobs
                WHERE id = ANY(ids) AND status = 'todo'
                  AND xmin::text::bigint = txid_current() % 4294967296
                RETURNING id)
            SELECT coalesce(array_agg(id), '{{}}') FROM gone
        $$;
        REVOKE ALL ON FUNCTION {FORGET} FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION {FORGET} TO {APP_ROLE};
        """
    )


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {FORGET}")
    op.execute(
        """
        CREATE INDEX IF NOT EXISTS captures_analysis_job_idx ON captures (analysis_job_id)
            WHERE analysis_job_id IS NOT NULL AND analysis_status IN ('PENDING', 'RUNNING')
        """
    )
