"""Durable webhook delivery: every attempt is a row, made or planned. A planned attempt (`pending`,
due at `due_at`) is what the sweeper and the delivery messages act on, so a lost message delays a
delivery but never drops it; `sending` rows carry a lease, so an attempt whose worker died is made
again. Attempts record the answer's first KiB and what triggered them; endpoints record why they
were disabled and since when they have been failing. The owner-side lookups let the worker find
due deliveries across companies and clear history older than 30 days.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

APP_ROLE = "rouptimize_app"
DELIVERY = "webhook_delivery"

FUNCTIONS = {
    "due_webhook_deliveries(timestamptz, timestamptz, integer)": """
CREATE FUNCTION due_webhook_deliveries(p_due_before timestamptz, p_lease_before timestamptz, p_limit integer)
RETURNS TABLE(id uuid, company_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT d.id, d.company_id FROM webhook_delivery d
    WHERE (d.status = 'pending' AND d.due_at < p_due_before)
       OR (d.status = 'sending' AND d.lease_until < p_lease_before)
    ORDER BY d.due_at LIMIT p_limit
$$""",
    "expire_webhook_history(timestamptz)": """
CREATE FUNCTION expire_webhook_history(p_before timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM webhook_delivery WHERE created_at < p_before AND status NOT IN ('pending', 'sending');
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM webhook_event e WHERE e.created_at < p_before AND e.status <> 'pending'
        AND NOT EXISTS (SELECT 1 FROM webhook_delivery d
                        WHERE d.event_id = e.id AND d.status IN ('pending', 'sending'));
    RETURN n;
END
$$""",
}


def upgrade() -> None:
    op.add_column("webhook_endpoint", sa.Column("disabled_reason", sa.String(16), nullable=True))
    op.add_column("webhook_endpoint", sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE webhook_endpoint SET disabled_reason = 'manual' WHERE status = 'disabled'")
    op.alter_column(DELIVERY, "next_retry_at", new_column_name="next_attempt_at")
    op.add_column(DELIVERY, sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(DELIVERY, sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(DELIVERY, sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column(DELIVERY, sa.Column("response_excerpt", sa.String(1024), nullable=True))
    op.add_column(DELIVERY, sa.Column("trigger", sa.String(16), nullable=False, server_default="event"))
    op.alter_column(DELIVERY, "trigger", server_default=None)
    op.execute(f"UPDATE {DELIVERY} SET due_at = created_at, sent_at = created_at")
    # Retries planned by the former delivery messages become planned attempts.
    op.execute(
        f"""INSERT INTO {DELIVERY} (id, company_id, created_at, updated_at, endpoint_id, event_id, event_type,
                attempt, status, due_at, trigger)
            SELECT gen_random_uuid(), d.company_id, now(), now(), d.endpoint_id, d.event_id, d.event_type,
                d.attempt + 1, 'pending', d.next_attempt_at, 'event'
            FROM {DELIVERY} d
            WHERE d.status = 'retrying' AND NOT EXISTS (
                SELECT 1 FROM {DELIVERY} later WHERE later.endpoint_id = d.endpoint_id
                AND later.event_id = d.event_id AND later.attempt > d.attempt)"""
    )
    op.alter_column(DELIVERY, "due_at", nullable=False)
    op.create_index(
        "ix_webhook_delivery_planned", DELIVERY, ["due_at"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )  # fmt: skip
    op.create_index("ix_webhook_event_company_id_id", "webhook_event", ["company_id", "id"])
    for signature, ddl in FUNCTIONS.items():
        op.execute(ddl)
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_index("ix_webhook_event_company_id_id", table_name="webhook_event")
    op.drop_index("ix_webhook_delivery_planned", table_name=DELIVERY)
    # Planned and in-flight attempts have no place in the former model (its retries were messages).
    op.execute(f"DELETE FROM {DELIVERY} WHERE status IN ('pending', 'sending', 'cancelled')")
    for column in ("trigger", "response_excerpt", "lease_until", "sent_at", "due_at"):
        op.drop_column(DELIVERY, column)
    op.alter_column(DELIVERY, "next_attempt_at", new_column_name="next_retry_at")
    op.drop_column("webhook_endpoint", "failing_since")
    op.drop_column("webhook_endpoint", "disabled_reason")
