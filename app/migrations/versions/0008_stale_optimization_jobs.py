"""Finding optimization jobs left behind: queued with a lost message, or running on a dead worker.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 00:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The sweeper looks at every company at once, which RLS forbids the application role; like
# pending_webhook_events this returns only ids, as the owner.
STALE_JOBS = """
CREATE FUNCTION stale_optimization_jobs(p_queued_for interval, p_running_for interval, p_limit integer)
RETURNS TABLE(id uuid, company_id uuid, status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT j.id, j.company_id, j.status::text FROM optimization_job j
    WHERE j.status IN ('queued', 'running')
      AND j.updated_at < now() - CASE WHEN j.status = 'queued' THEN p_queued_for ELSE p_running_for END
    ORDER BY j.updated_at LIMIT p_limit
$$"""
SIGNATURE = "stale_optimization_jobs(interval, interval, integer)"


def upgrade() -> None:
    op.create_index(
        "ix_optimization_job_unfinished",
        "optimization_job",
        ["updated_at"],
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.execute(STALE_JOBS)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO rouptimize_app")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.drop_index("ix_optimization_job_unfinished", table_name="optimization_job")
