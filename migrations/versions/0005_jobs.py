"""Background jobs: procrastinate's schema, and the analysis outbox columns.

procrastinate (the job queue) keeps its jobs in the primary Postgres. Its
schema is applied from the installed package's own ``schema.sql`` (the
version is recorded as a comment on ``procrastinate_jobs``); a later
procrastinate release that changes the schema ships migration files, to be
applied by a new Alembic revision.

``captures.analysis_status = 'PENDING'`` is the outbox: an acknowledged
capture is analysed eventually even when no job was ever queued for it. The
columns added here let the sweeper tell a capture whose job is alive from
one whose job was lost or whose worker died:

* ``analysis_job_id`` — the procrastinate job responsible for the capture
  (set when a job is queued for it, and when a job claims it);
* ``analysis_run_id`` — the claim token of the run that set ``RUNNING``;
  only that run may mark the capture ``DONE``/``FAILED``, so a run that
  outlived its claim (a worker presumed dead) cannot write a second time;
* ``analysis_claimed_at`` — when the current run claimed it;
* ``analysis_attempts`` — runs started since the last request, a bound on
  crash loops (a capture that kills its worker every time ends ``FAILED``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from importlib.metadata import version

from alembic import op
from procrastinate.schema import SchemaManager

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _execute_raw(sql: str) -> None:
    """Run ``sql`` on the migration's psycopg connection, in its transaction.

    Not through SQLAlchemy: ``text()`` reads the plpgsql's ``:`` as bind
    parameters and the driver path reads ``%`` as placeholders; psycopg given
    no parameters takes the script as it is.
    """
    driver = op.get_bind().connection.driver_connection
    assert driver is not None  # a live psycopg connection while migrating
    driver.execute(sql)


def upgrade() -> None:
    _execute_raw(SchemaManager.get_schema())
    _execute_raw(
        f"COMMENT ON TABLE procrastinate_jobs IS 'procrastinate schema {version('procrastinate')}'"
    )
    op.execute(
        """
        ALTER TABLE captures
            ADD COLUMN analysis_job_id bigint,
            ADD COLUMN analysis_run_id uuid,
            ADD COLUMN analysis_claimed_at timestamptz,
            ADD COLUMN analysis_attempts integer NOT NULL DEFAULT 0;
        CREATE INDEX captures_analysis_job_idx ON captures (analysis_job_id)
            WHERE analysis_job_id IS NOT NULL AND analysis_status IN ('PENDING', 'RUNNING');
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX IF EXISTS captures_analysis_job_idx;
        ALTER TABLE captures
            DROP COLUMN IF EXISTS analysis_job_id,
            DROP COLUMN IF EXISTS analysis_run_id,
            DROP COLUMN IF EXISTS analysis_claimed_at,
            DROP COLUMN IF EXISTS analysis_attempts;
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers,
            procrastinate_jobs, procrastinate_workers CASCADE;
        """
    )
    # Functions and types by prefix: every procrastinate object is named
    # procrastinate_*, and the set differs between procrastinate versions.
    _execute_raw(
        r"""
        DO $$
        DECLARE obj record;
        BEGIN
            FOR obj IN
                SELECT p.oid::regprocedure AS sig FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\_%'
            LOOP
                EXECUTE 'DROP ROUTINE IF EXISTS ' || obj.sig || ' CASCADE';
            END LOOP;
            FOR obj IN
                SELECT t.typname FROM pg_type t
                JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\_%'
                  AND (t.typtype = 'e' OR (t.typtype = 'c' AND EXISTS (
                      SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))
            LOOP
                EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', obj.typname);
            END LOOP;
        END $$;
        """
    )
