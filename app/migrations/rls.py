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


# Since 0013 the table owner is bound by the policies too (FORCE), so a session of the owner that
# forgets to bind a company sees nothing, like the application's. A table made by a later revision
# calls both `enable_tenant_rls` and `force_tenant_rls`; a test holds every protected table to it.
def force_tenant_rls(table: str) -> None:
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def unforce_tenant_rls(table: str) -> None:
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")


# The role the SECURITY DEFINER functions run as. Lookups before a company is known (sign-in) and
# the workers' sweeps across companies need rows of every company, and the owner no longer gets
# them once policies are forced. This role has no LOGIN, no BYPASSRLS and no table of its own: it
# reads (and deletes) across companies only where `allow_definer` grants a command on a table, and
# only while a function actually runs as it (the policies test `current_user`, so a role that is a
# member of it, such as the owner that migrates, gains nothing from them).
DEFINER_ROLE = "rouptimize_definer"
DEFINER_POLICY = "definer_{command}"


def allow_definer(table: str, command: str) -> None:
    """Let the definer role run `command` (SELECT or DELETE) on every company's rows of `table`."""
    op.execute(f"GRANT {command} ON {table} TO {DEFINER_ROLE}")
    op.execute(
        f"CREATE POLICY {DEFINER_POLICY.format(command=command.lower())} ON {table} FOR {command} "
        f"TO {DEFINER_ROLE} USING (current_user = '{DEFINER_ROLE}')"
    )


def disallow_definer(table: str, command: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS {DEFINER_POLICY.format(command=command.lower())} ON {table}")
    op.execute(f"REVOKE {command} ON {table} FROM {DEFINER_ROLE}")


def own_by_definer(signature: str) -> None:
    """Hand a SECURITY DEFINER function to the definer role; a revision that creates one calls
    this right after, and grants the role what the function reads with `allow_definer`.

    A new owner needs CREATE on the function's schema; the role holds it only for this statement,
    so it can never create anything itself."""
    op.execute(f"GRANT CREATE ON SCHEMA public TO {DEFINER_ROLE}")
    op.execute(f"ALTER FUNCTION {signature} OWNER TO {DEFINER_ROLE}")
    op.execute(f"REVOKE CREATE ON SCHEMA public FROM {DEFINER_ROLE}")


def own_by_migrator(signature: str) -> None:
    op.execute(f"ALTER FUNCTION {signature} OWNER TO CURRENT_USER")
