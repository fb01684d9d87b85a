"""History changes and webhook event payloads as `json`, and outbox indexes that match their queries.

Neither document is ever searched inside: history is read back whole and an event's payload is
sent whole. `json` keeps the text as written (and checks it is JSON) where `jsonb` decomposes every
document on the way in, which was most of the cost of writing a bulk import's history and events.
The outbox's `type` index served no query, and its `status` index becomes a partial index on the
pending events the sweeper looks for. Since this revision a creation's history entry is the created
snapshot (an object); the downgrade turns those back into lists of changes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("change_history", "changes", type_=sa.JSON(), postgresql_using="changes::json")
    op.alter_column("webhook_event", "payload", type_=sa.JSON(), postgresql_using="payload::json")
    op.drop_index("ix_webhook_event_type", table_name="webhook_event")
    op.drop_index("ix_webhook_event_status", table_name="webhook_event")
    op.create_index(
        "ix_webhook_event_pending",
        "webhook_event",
        ["created_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


# Back to one {field, from, to} per created value, the form earlier code reads.
CREATIONS_AS_CHANGES = """
UPDATE change_history SET changes = (
    SELECT coalesce(json_agg(json_build_object('field', key, 'from', NULL, 'to', value)), '[]'::json)
    FROM json_each(changes)
    WHERE key NOT IN ('id', 'createdAt', 'updatedAt') AND json_typeof(value) <> 'null'
)
WHERE json_typeof(changes) = 'object'
"""


def downgrade() -> None:
    op.execute(CREATIONS_AS_CHANGES)
    op.drop_index("ix_webhook_event_pending", table_name="webhook_event")
    op.create_index("ix_webhook_event_status", "webhook_event", ["status"])
    op.create_index("ix_webhook_event_type", "webhook_event", ["type"])
    op.alter_column(
        "webhook_event",
        "payload",
        type_=postgresql.JSONB(astext_type=sa.Text()),
        postgresql_using="payload::jsonb",
    )
    op.alter_column(
        "change_history",
        "changes",
        type_=postgresql.JSONB(astext_type=sa.Text()),
        postgresql_using="changes::jsonb",
    )
