"""Optimization jobs an integrator can follow: the engine, branch and day of each job as columns (the
list filters on them), when it started and finished, and how many runs a worker started (a job whose
worker died is run once more). Jobs made before this revision ran on OR-Tools.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 16:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "optimization_job"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("engine", sa.String(16), nullable=False, server_default="ortools"))
    op.alter_column(TABLE, "engine", server_default=None)
    op.add_column(TABLE, sa.Column("branch_id", sa.Uuid(), nullable=True))
    op.add_column(TABLE, sa.Column("date", sa.Date(), nullable=True))
    op.add_column(TABLE, sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(TABLE, sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(TABLE, sa.Column("runs", sa.Integer(), nullable=False, server_default="0"))
    op.alter_column(TABLE, "runs", server_default=None)
    op.execute(
        f"""UPDATE {TABLE} SET
            branch_id = (request->>'branchId')::uuid,
            date = (request->>'date')::date,
            runs = CASE WHEN status = 'queued' THEN 0 ELSE 1 END,
            started_at = CASE WHEN status = 'queued' THEN NULL ELSE created_at END,
            finished_at = CASE WHEN status IN ('succeeded', 'failed') THEN updated_at END"""
    )
    op.alter_column(TABLE, "branch_id", nullable=False)
    op.alter_column(TABLE, "date", nullable=False)
    op.create_index("ix_optimization_job_company_created", TABLE, ["company_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_optimization_job_company_created", table_name=TABLE)
    # Cancelled jobs were unknown before: they read as failed.
    op.execute(f"UPDATE {TABLE} SET status = 'failed' WHERE status = 'cancelled'")
    for column in ("runs", "finished_at", "started_at", "date", "branch_id", "engine"):
        op.drop_column(TABLE, column)
