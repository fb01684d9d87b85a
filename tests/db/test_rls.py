"""Row-level security is the second line of tenant isolation: as the application role, SQL that
forgets the company filter still sees only the bound company's rows, and nothing when none is bound."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.core import db
from app.core.db import unit_of_work
from app.core.principal import Principal
from tests.fixtures.factories import Factory


async def test_app_role_cannot_bypass_rls(services: object) -> None:
    async with db.engine().connect() as conn:
        row = (
            await conn.execute(
                text("select rolname, rolsuper, rolbypassrls from pg_roles where rolname = current_user")
            )
        ).one()
    assert row.rolname == "rouptimize_app"
    assert row.rolsuper is False and row.rolbypassrls is False


async def test_every_company_table_has_a_policy(services: object) -> None:
    async with db.engine("owner").connect() as conn:
        tenant_tables = set(
            (
                await conn.execute(
                    text(
                        "select table_name from information_schema.columns "
                        "where table_schema = 'public' and column_name = 'company_id'"
                    )
                )
            ).scalars()
        ) | {"company"}
        protected = set(
            (
                await conn.execute(
                    text(
                        "select relname from pg_class"
                        " where relrowsecurity and relnamespace = 'public'::regnamespace"
                    )
                )
            ).scalars()
        )
        policies = set((await conn.execute(text("select tablename from pg_policies"))).scalars())
    assert tenant_tables <= protected
    assert tenant_tables <= policies


async def test_unscoped_sql_sees_only_the_bound_company(client: httpx.AsyncClient, factory: Factory) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    branch_a, branch_b = await factory.branch(a), await factory.branch(b)
    tables = ["branch", "company", "web_user", "api_token", "credit_ledger", "change_history"]
    async with db.engine().connect() as conn:
        for table in tables:
            # No company bound: nothing at all.
            assert (await conn.execute(text(f"select count(*) from {table}"))).scalar() == 0, table
        await conn.rollback()
    async with unit_of_work(Principal.system(a.id)) as uow:
        ids = set((await uow.execute(text("select id::text from branch"))).scalars())
        companies = set((await uow.execute(text("select id from company"))).scalars())
        assert branch_a["id"] in ids and branch_b["id"] not in ids
        assert companies == {a.id}
        for table in tables:
            foreign = await uow.execute(
                text(
                    f"select count(*) from {table} where company_id = :b"
                    if table != "company"
                    else "select count(*) from company where id = :b"
                ),
                {"b": b.id},
            )
            assert foreign.scalar() == 0, table


async def test_writes_into_another_company_are_refused(factory: Factory) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    import pytest
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="row-level security"):
        async with unit_of_work(Principal.system(a.id)) as uow:
            await uow.execute(
                text(
                    "insert into branch (id, company_id, name, timezone, created_at, updated_at) "
                    "values (gen_random_uuid(), :b, 'smuggled', 'UTC', now(), now())"
                ),
                {"b": b.id},
            )


async def test_definer_functions_pin_their_search_path(services: object) -> None:
    """No SECURITY DEFINER function can be tricked into a caller's temporary objects."""
    async with unit_of_work(Principal.system(None), kind="owner") as uow:
        rows = (
            await uow.execute(
                text(
                    "select proname, proconfig from pg_proc "
                    "where pronamespace = 'public'::regnamespace and prosecdef"
                )
            )
        ).all()
    assert rows
    for name, config in rows:
        assert "search_path=public, pg_temp" in (config or []), (name, config)


def test_the_app_refuses_a_role_that_row_level_security_does_not_bind(services: Any) -> None:
    db.refuse_privileged_app_role(services.app_url)  # the migrations' role: bound, so no complaint
    with pytest.raises(RuntimeError, match="superuser"):
        db.refuse_privileged_app_role(services.owner_url)
