"""Every SECURITY DEFINER function resolves names in `public` and then `pg_temp`, never first in a
schema the caller controls: without `pg_temp` named last, a caller's temporary table or function of
the same name would be found first and run with the owner's rights.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 17:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_EACH_DEFINER = """
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
             WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = {path}', f.signature);
    END LOOP;
END
$$"""


def upgrade() -> None:
    op.execute(_EACH_DEFINER.replace("{path}", "public, pg_temp"))


def downgrade() -> None:
    op.execute(_EACH_DEFINER.replace("{path}", "public"))
