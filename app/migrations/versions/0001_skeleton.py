"""Skeleton: tenants, users, API tokens, branches, depots, credits, outbox, history, idempotency keys;
the application role, row-level security and the SECURITY DEFINER authentication functions.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APP_ROLE = "rouptimize_app"

# `company` is keyed on its own id; every other table here carries company_id.
TENANT_TABLES = (
    "web_user",
    "api_token",
    "branch",
    "depot",
    "credit_ledger",
    "webhook_event",
    "change_history",
    "idempotency_key",
)

# Authentication must find a token or user before any company is known, which RLS forbids the
# application role; these functions run as the owner and reveal only what a login needs.
FUNCTIONS = {
    "auth_api_token(bytea)": """
CREATE FUNCTION auth_api_token(p_hash bytea)
RETURNS TABLE(id uuid, company_id uuid, name text, preset text, prefix text, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
#variable_conflict use_column
DECLARE
    tok api_token%ROWTYPE;
BEGIN
    SELECT * INTO tok FROM api_token t WHERE t.token_hash = p_hash;
    IF NOT FOUND OR (tok.expires_at IS NOT NULL AND tok.expires_at <= now()) THEN
        RETURN;
    END IF;
    -- Transaction-local, and not confined to this function (it has no SET clause for it):
    -- the rest of the caller's transaction is bound to the token's company.
    PERFORM set_config('app.company_id', tok.company_id::text, true);
    -- Throttled so a busy token does not rewrite its row on every request.
    IF tok.last_used_at IS NULL OR tok.last_used_at < now() - interval '30 seconds' THEN
        UPDATE api_token t SET last_used_at = now() WHERE t.id = tok.id;
    END IF;
    RETURN QUERY SELECT tok.id, tok.company_id, tok.name::text, tok.preset::text, tok.prefix::text,
        tok.expires_at;
END
$$""",
    "auth_web_user(text)": """
CREATE FUNCTION auth_web_user(p_email text)
RETURNS TABLE(id uuid, company_id uuid, password_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT u.id, u.company_id, u.password_hash::text FROM web_user u WHERE lower(u.email) = lower(p_email)
$$""",
    "auth_email_taken(text)": """
CREATE FUNCTION auth_email_taken(p_email text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT EXISTS (SELECT 1 FROM web_user u WHERE lower(u.email) = lower(p_email))
$$""",
    "expire_idempotency_keys(interval)": """
CREATE FUNCTION expire_idempotency_keys(p_older_than interval) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM idempotency_key WHERE created_at < now() - p_older_than;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$""",
}


def upgrade() -> None:
    _create_tables()
    op.execute("CREATE UNIQUE INDEX ux_web_user_email_lower ON web_user (lower(email))")
    _create_app_role()
    enable_tenant_rls("company", column="id")
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    for signature, ddl in FUNCTIONS.items():
        op.execute(ddl)
        # Functions are executable by PUBLIC by default; these bypass RLS, so name who may call them.
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for table in ("company", *TENANT_TABLES):
        disable_tenant_rls(table)
    _revoke_app_role()
    op.execute("DROP INDEX IF EXISTS ux_web_user_email_lower")
    _drop_tables()


def _create_app_role() -> None:
    op.execute(
        f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
        END IF;
        END $$"""
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    # Tables created by later revisions (run by this same owner) are granted automatically.
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}"
    )
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}")
    # The application never touches the migration bookkeeping.
    op.execute(f"REVOKE ALL ON alembic_version FROM {APP_ROLE}")


def _revoke_app_role() -> None:
    # The role itself stays: roles belong to the cluster, and other databases on it may use it.
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {APP_ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")


def _create_tables() -> None:
    op.create_table(
        "company",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credits_balance", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("preset", sa.String(length=32), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_api_token_company_id"), "api_token", ["company_id"], unique=False)
    op.create_table(
        "branch",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "external_id", name="uq_branch_external_id"),
    )
    op.create_index(op.f("ix_branch_company_id"), "branch", ["company_id"], unique=False)
    op.create_table(
        "change_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=255), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_change_history_resource",
        "change_history",
        ["company_id", "resource_type", "resource_id", "at"],
        unique=False,
    )
    op.create_table(
        "credit_ledger",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("mission_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_credit_ledger_company_id"), "credit_ledger", ["company_id"], unique=False)
    op.create_index(op.f("ix_credit_ledger_mission_id"), "credit_ledger", ["mission_id"], unique=False)
    op.create_table(
        "idempotency_key",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("company_id", "key"),
    )
    op.create_index(op.f("ix_idempotency_key_created_at"), "idempotency_key", ["created_at"], unique=False)
    op.create_table(
        "web_user",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_web_user_company_id"), "web_user", ["company_id"], unique=False)
    op.create_table(
        "webhook_event",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_webhook_event_company_id"), "webhook_event", ["company_id"], unique=False)
    op.create_index(op.f("ix_webhook_event_status"), "webhook_event", ["status"], unique=False)
    op.create_index(op.f("ix_webhook_event_type"), "webhook_event", ["type"], unique=False)
    op.create_table(
        "depot",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("opening_time", sa.Time(), nullable=True),
        sa.Column("closing_time", sa.Time(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branch.id"],
        ),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "external_id", name="uq_depot_external_id"),
    )
    op.create_index(op.f("ix_depot_branch_id"), "depot", ["branch_id"], unique=False)
    op.create_index(op.f("ix_depot_company_id"), "depot", ["company_id"], unique=False)


def _drop_tables() -> None:
    op.drop_index(op.f("ix_depot_company_id"), table_name="depot")
    op.drop_index(op.f("ix_depot_branch_id"), table_name="depot")
    op.drop_table("depot")
    op.drop_index(op.f("ix_webhook_event_type"), table_name="webhook_event")
    op.drop_index(op.f("ix_webhook_event_status"), table_name="webhook_event")
    op.drop_index(op.f("ix_webhook_event_company_id"), table_name="webhook_event")
    op.drop_table("webhook_event")
    op.drop_index(op.f("ix_web_user_company_id"), table_name="web_user")
    op.drop_table("web_user")
    op.drop_index(op.f("ix_idempotency_key_created_at"), table_name="idempotency_key")
    op.drop_table("idempotency_key")
    op.drop_index(op.f("ix_credit_ledger_mission_id"), table_name="credit_ledger")
    op.drop_index(op.f("ix_credit_ledger_company_id"), table_name="credit_ledger")
    op.drop_table("credit_ledger")
    op.drop_index("ix_change_history_resource", table_name="change_history")
    op.drop_table("change_history")
    op.drop_index(op.f("ix_branch_company_id"), table_name="branch")
    op.drop_table("branch")
    op.drop_index(op.f("ix_api_token_company_id"), table_name="api_token")
    op.drop_table("api_token")
    op.drop_table("company")
