"""The outbox backlog for the metrics: how many events wait to be fanned out to webhook endpoints,
and since when, across companies. Owner-side like the sweeper's lookups, and answering only those
two figures, never a company's rows. Reads the partial index of pending events alone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

from alembic import op

from app.migrations.rls import own_by_definer

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

APP_ROLE = "rouptimize_app"
SIGNATURE = "webhook_outbox_backlog()"
FUNCTION = """
CREATE FUNCTION webhook_outbox_backlog() RETURNS TABLE(pending bigint, oldest timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT count(*), min(created_at) FROM webhook_event WHERE status = 'pending'
$$"""


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {APP_ROLE}")
    # Runs as the definer role, which already reads every company's webhook_event rows (0013).
    own_by_definer(SIGNATURE)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
