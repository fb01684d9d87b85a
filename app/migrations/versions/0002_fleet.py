"""Fleet: vehicles, drivers, driver invites, mobile users, devices and vehicle-driver assignments,
with row-level security, the no-overlap exclusion constraints and the pre-authentication lookups of
the driver app.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.migrations.rls import disable_tenant_rls, enable_tenant_rls

APP_ROLE = "rouptimize_app"

TENANT_TABLES = ("vehicle", "driver", "driver_invite", "mobile_user", "device", "vehicle_driver_assignment")

# Two assignments of one vehicle (or one driver) may not overlap; intervals are half-open and a
# null end is open-ended, which is exactly tstzrange(starts_at, ends_at, '[)'). The constraint,
# not the service's pre-check, decides between concurrent requests.
# `uuid WITH =` inside a GiST exclusion needs btree_gist, which is a contrib extension that not
# every PostgreSQL ships (the embedded pgserver does not). A one-point range over uuid gives the
# same equality with core GiST range support, so this works on any PostgreSQL >= 9.2.
EXCLUSIONS = {
    "ex_vehicle_driver_assignment_vehicle_overlap": "vehicle_id",
    "ex_vehicle_driver_assignment_driver_overlap": "driver_id",
}

# The driver app signs in and accepts invites before any company is known, which RLS forbids the
# application role; like auth_web_user in 0001 these run as the owner and return only what that needs.
FUNCTIONS = {
    "auth_driver_invite(bytea)": """
CREATE FUNCTION auth_driver_invite(p_hash bytea)
RETURNS TABLE(id uuid, company_id uuid, driver_id uuid, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT i.id, i.company_id, i.driver_id, i.expires_at FROM driver_invite i WHERE i.code_hash = p_hash
$$""",
    "auth_mobile_user(text)": """
CREATE FUNCTION auth_mobile_user(p_login text)
RETURNS TABLE(id uuid, company_id uuid, password_hash text, status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT m.id, m.company_id, m.password_hash::text, m.status::text FROM mobile_user m
    WHERE m.email = lower(p_login) OR m.phone = p_login
    LIMIT 1
$$""",
}

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_tables()
    op.execute("CREATE TYPE uuid_range AS RANGE (subtype = uuid)")
    for name, column in EXCLUSIONS.items():
        op.execute(
            f"ALTER TABLE vehicle_driver_assignment ADD CONSTRAINT {name} EXCLUDE USING gist "
            f"(uuid_range({column}, {column}, '[]') WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)"
        )
    # No GRANTs: 0001's default privileges give the application role these tables.
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    for signature, ddl in FUNCTIONS.items():
        op.execute(ddl)
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
    for name in EXCLUSIONS:
        op.execute(f"ALTER TABLE vehicle_driver_assignment DROP CONSTRAINT IF EXISTS {name}")
    _drop_tables()
    op.execute("DROP TYPE IF EXISTS uuid_range")


def _create_tables() -> None:
    op.create_table(
        "driver",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("shift_start", sa.Time(), nullable=True),
        sa.Column("shift_end", sa.Time(), nullable=True),
        sa.Column("mobile_user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "external_id", name="uq_driver_external_id"),
    )
    op.create_index(op.f("ix_driver_branch_id"), "driver", ["branch_id"], unique=False)
    op.create_index(op.f("ix_driver_company_id"), "driver", ["company_id"], unique=False)
    op.create_table(
        "vehicle",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("plate_number", sa.String(length=32), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("capacity_weight_kg", sa.Float(), nullable=True),
        sa.Column("capacity_volume_m3", sa.Float(), nullable=True),
        sa.Column("capacity_items", sa.Integer(), nullable=True),
        sa.Column("cost_per_km", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "external_id", name="uq_vehicle_external_id"),
    )
    op.create_index(op.f("ix_vehicle_branch_id"), "vehicle", ["branch_id"], unique=False)
    op.create_index(op.f("ix_vehicle_company_id"), "vehicle", ["company_id"], unique=False)
    op.create_table(
        "driver_invite",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("driver_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(), nullable=False),
        sa.Column("sent_to", sa.String(length=320), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["driver_id"], ["driver.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
        sa.UniqueConstraint("driver_id"),
    )
    op.create_index(op.f("ix_driver_invite_company_id"), "driver_invite", ["company_id"], unique=False)
    op.create_table(
        "mobile_user",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("driver_id", sa.Uuid(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["driver_id"], ["driver.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("driver_id"),
        sa.UniqueConstraint("email", name="uq_mobile_user_email"),
        sa.UniqueConstraint("phone", name="uq_mobile_user_phone"),
    )
    op.create_index(op.f("ix_mobile_user_company_id"), "mobile_user", ["company_id"], unique=False)
    op.create_table(
        "vehicle_driver_assignment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("vehicle_id", sa.Uuid(), nullable=False),
        sa.Column("driver_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["driver.id"],
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicle.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "external_id", name="uq_vehicle_driver_assignment_external_id"),
    )
    op.create_index(
        op.f("ix_vehicle_driver_assignment_company_id"),
        "vehicle_driver_assignment",
        ["company_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_vehicle_driver_assignment_driver_id"),
        "vehicle_driver_assignment",
        ["driver_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_vehicle_driver_assignment_vehicle_id"),
        "vehicle_driver_assignment",
        ["vehicle_id"],
        unique=False,
    )
    op.create_table(
        "device",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mobile_user_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("app_version", sa.String(length=50), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["mobile_user_id"], ["mobile_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mobile_user_id", "device_id", name="uq_device_mobile_user_device"),
    )
    op.create_index(op.f("ix_device_company_id"), "device", ["company_id"], unique=False)
    op.create_index(op.f("ix_device_mobile_user_id"), "device", ["mobile_user_id"], unique=False)


def _drop_tables() -> None:
    op.drop_index(op.f("ix_device_mobile_user_id"), table_name="device")
    op.drop_index(op.f("ix_device_company_id"), table_name="device")
    op.drop_table("device")
    op.drop_index(op.f("ix_vehicle_driver_assignment_vehicle_id"), table_name="vehicle_driver_assignment")
    op.drop_index(op.f("ix_vehicle_driver_assignment_driver_id"), table_name="vehicle_driver_assignment")
    op.drop_index(op.f("ix_vehicle_driver_assignment_company_id"), table_name="vehicle_driver_assignment")
    op.drop_table("vehicle_driver_assignment")
    op.drop_index(op.f("ix_mobile_user_company_id"), table_name="mobile_user")
    op.drop_table("mobile_user")
    op.drop_index(op.f("ix_driver_invite_company_id"), table_name="driver_invite")
    op.drop_table("driver_invite")
    op.drop_index(op.f("ix_vehicle_company_id"), table_name="vehicle")
    op.drop_index(op.f("ix_vehicle_branch_id"), table_name="vehicle")
    op.drop_table("vehicle")
    op.drop_index(op.f("ix_driver_company_id"), table_name="driver")
    op.drop_index(op.f("ix_driver_branch_id"), table_name="driver")
    op.drop_table("driver")
