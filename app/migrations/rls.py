"""Row-level security helpers for revisions: every company-owned table gets the same policy.

The application role (`rouptimize_app`) has no BYPASSRLS, and every unit of work sets
`app.company_id` with `set_config(..., true)`. With no company set, the policy compares with NULL
and matches nothing, so a forgotten binding reads zero rows instead of every tenant's.
"""

from __future__ import annotations

from alembic import op

POLICY = "tenant_isolation"
CURRENT_COMPANY = "NULLIF(current_setting('app.company_id', true), '')::uuid"


def enable_tenant_rls(table: str, column: str = "company_id") -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY {POLICY} ON {table} "
        f"USING ({column} = {CURRENT_COMPANY}) WITH CHECK ({column} = {CURRENT_COMPANY})"
    )


def disable_tenant_rls(table: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
