"""Least privilege in the database itself.

- A reference between two records holds only within one company: every foreign key between company
  tables is `(company_id, <column>)` onto the referenced table's `(company_id, id)`, so the
  database refuses another company's id whatever the service layer checks. A `SET NULL` key clears
  its own column only (`SET NULL (column)`, PostgreSQL 15+), never `company_id`. Optimization jobs
  get the key they lacked onto their branch; a job whose branch is already gone goes with it, as it
  would have under the key.
- Row-level security is forced: the tables' owner is bound by the policies too.
- The SECURITY DEFINER functions (sign-in lookups before a company is known, the workers' sweeps
  across companies) stop running as the owner, which forcing would bind to one company: they belong
  to `rouptimize_definer`, a role that cannot log in, has no BYPASSRLS, and may read (and for the
  sweeps that expire history, delete) across companies only on the tables named below.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

from alembic import op

from app.migrations.rls import (
    DEFINER_ROLE,
    allow_definer,
    disallow_definer,
    force_tenant_rls,
    own_by_definer,
    own_by_migrator,
    unforce_tenant_rls,
)

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Every table with row-level security (0001, 0002, 0003, 0005, 0006).
PROTECTED_TABLES = (
    "company", "web_user", "api_token", "branch", "depot", "credit_ledger", "webhook_event",
    "change_history", "idempotency_key", "vehicle", "driver", "driver_invite", "mobile_user", "device",
    "vehicle_driver_assignment", "route", "mission", "mission_execution", "webhook_endpoint",
    "webhook_delivery", "optimization_job",
)  # fmt: skip

# Tables other records point at: each gets UNIQUE (company_id, id) for the keys to refer to.
REFERENCED_TABLES = (
    "branch", "depot", "driver", "vehicle", "mobile_user", "route", "mission", "webhook_endpoint",
)  # fmt: skip

# (table, column, referenced table, ON DELETE) for every reference between two company records.
REFERENCES = (
    ("depot", "branch_id", "branch", None),
    ("driver", "branch_id", "branch", None),
    ("vehicle", "branch_id", "branch", None),
    ("driver_invite", "driver_id", "driver", "CASCADE"),
    ("mobile_user", "driver_id", "driver", "CASCADE"),
    ("device", "mobile_user_id", "mobile_user", "CASCADE"),
    ("vehicle_driver_assignment", "vehicle_id", "vehicle", None),
    ("vehicle_driver_assignment", "driver_id", "driver", None),
    ("route", "branch_id", "branch", None),
    ("route", "driver_id", "driver", "SET NULL"),
    ("route", "vehicle_id", "vehicle", "SET NULL"),
    ("route", "start_depot_id", "depot", None),
    ("route", "end_depot_id", "depot", None),
    ("mission", "branch_id", "branch", None),
    ("mission", "route_id", "route", None),
    ("mission_execution", "mission_id", "mission", "CASCADE"),
    ("mission_execution", "route_id", "route", "SET NULL"),
    ("webhook_delivery", "endpoint_id", "webhook_endpoint", "CASCADE"),
)
# The reference this revision adds (the others existed, on the id alone).
NEW_REFERENCES = (("optimization_job", "branch_id", "branch", "CASCADE"),)

# What each SECURITY DEFINER function touches in another company's rows. `auth_api_token` also
# updates the token's `last_used_at`, after binding the token's company, so the tenant policy admits it.
DEFINER_FUNCTIONS = (
    "auth_api_token(bytea, timestamptz)",
    "auth_web_user(text)",
    "auth_email_taken(text)",
    "auth_driver_invite(bytea)",
    "auth_mobile_user(text)",
    "expire_idempotency_keys(timestamptz)",
    "pending_webhook_events(timestamptz, integer)",
    "stale_optimization_jobs(timestamptz, timestamptz, integer)",
    "due_webhook_deliveries(timestamptz, timestamptz, integer)",
    "expire_webhook_history(timestamptz)",
)
DEFINER_ACCESS = (
    ("api_token", "SELECT"),
    ("web_user", "SELECT"),
    ("driver_invite", "SELECT"),
    ("mobile_user", "SELECT"),
    ("idempotency_key", "SELECT"),
    ("idempotency_key", "DELETE"),
    ("webhook_event", "SELECT"),
    ("webhook_event", "DELETE"),
    ("webhook_delivery", "SELECT"),
    ("webhook_delivery", "DELETE"),
    ("optimization_job", "SELECT"),
)

# The owner that migrates must be able to act as the definer role (to give it the functions, and
# later to replace or drop them). A migrating role with CREATEROLE creates the role and joins it;
# otherwise an administrator does both first.
CREATE_DEFINER_ROLE = f"""
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DEFINER_ROLE}') THEN
        CREATE ROLE {DEFINER_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
    IF NOT pg_has_role(current_user, '{DEFINER_ROLE}', 'USAGE') THEN
        EXECUTE format('GRANT {DEFINER_ROLE} TO %I', current_user);
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'the role % cannot create or join the role {DEFINER_ROLE}', current_user
        USING HINT = 'As an administrator: CREATE ROLE {DEFINER_ROLE} NOLOGIN; GRANT {DEFINER_ROLE} TO '
            || quote_ident(current_user) || ';';
END $$"""


def upgrade() -> None:
    op.execute(
        "DELETE FROM optimization_job j WHERE NOT EXISTS "
        "(SELECT 1 FROM branch b WHERE b.id = j.branch_id AND b.company_id = j.company_id)"
    )
    for table in REFERENCED_TABLES:
        op.create_unique_constraint(f"uq_{table}_company_id_id", table, ["company_id", "id"])
    for table, column, referenced, on_delete in REFERENCES:
        op.drop_constraint(f"{table}_{column}_fkey", table, type_="foreignkey")
        _same_company_key(table, column, referenced, on_delete)
    for reference in NEW_REFERENCES:
        _same_company_key(*reference)

    op.execute(CREATE_DEFINER_ROLE)
    op.execute(f"GRANT USAGE ON SCHEMA public TO {DEFINER_ROLE}")
    op.execute(f"GRANT UPDATE (last_used_at) ON api_token TO {DEFINER_ROLE}")
    for table, command in DEFINER_ACCESS:
        allow_definer(table, command)
    for signature in DEFINER_FUNCTIONS:
        own_by_definer(signature)

    for table in PROTECTED_TABLES:
        force_tenant_rls(table)


def downgrade() -> None:
    for table in PROTECTED_TABLES:
        unforce_tenant_rls(table)

    # The role stays, as the application role does: roles belong to the cluster, not this database.
    for signature in DEFINER_FUNCTIONS:
        own_by_migrator(signature)
    for table, command in DEFINER_ACCESS:
        disallow_definer(table, command)
    op.execute(f"REVOKE UPDATE (last_used_at) ON api_token FROM {DEFINER_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {DEFINER_ROLE}")

    for table, column, _, _ in NEW_REFERENCES:
        op.drop_constraint(f"{table}_{column}_fkey", table, type_="foreignkey")
    for table, column, referenced, on_delete in REFERENCES:
        op.drop_constraint(f"{table}_{column}_fkey", table, type_="foreignkey")
        op.create_foreign_key(
            f"{table}_{column}_fkey", table, referenced, [column], ["id"], ondelete=on_delete
        )
    for table in REFERENCED_TABLES:
        op.drop_constraint(f"uq_{table}_company_id_id", table, type_="unique")


def _same_company_key(table: str, column: str, referenced: str, on_delete: str | None) -> None:
    op.create_foreign_key(
        f"{table}_{column}_fkey", table, referenced, ["company_id", column], ["company_id", "id"],
        ondelete=f"SET NULL ({column})" if on_delete == "SET NULL" else on_delete,
    )  # fmt: skip
