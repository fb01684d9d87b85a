"""Routes keep their history when fleet goes: deleting a driver or vehicle (allowed once its routes
are completed) clears the completed routes' reference instead of failing on the foreign key.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = (("driver_id", "driver"), ("vehicle_id", "vehicle"))


def upgrade() -> None:
    for column, table in COLUMNS:
        op.drop_constraint(f"route_{column}_fkey", "route", type_="foreignkey")
        op.create_foreign_key(f"route_{column}_fkey", "route", table, [column], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    for column, table in COLUMNS:
        op.drop_constraint(f"route_{column}_fkey", "route", type_="foreignkey")
        op.create_foreign_key(f"route_{column}_fkey", "route", table, [column], ["id"])
