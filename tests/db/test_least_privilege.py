"""Least privilege in the database: references hold within one company whatever the SQL says, the
policies bind the tables' owner too (forced), the SECURITY DEFINER functions still reach every
company through a role that can do nothing else, and the application refuses to serve through a
role that row-level security would not bind.

The embedded PostgreSQL migrates as a superuser, which no policy binds; the tests that need a
deployment's non-superuser owner migrate a scratch database of their own as one."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.core import clock, db
from app.core.db import unit_of_work
from app.core.principal import Principal
from app.migrations import alembic_config, psycopg2_url
from app.migrations.rls import DEFINER_ROLE
from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant

APP_ROLE = "rouptimize_app"


# --- the database refuses another company's records ---------------------------------------------


def _insert(table: str, company: str = ":a", time: str = ":now", **values: str) -> str:
    """INSERT of one record of `table` for `company`, with the columns every company table has."""
    columns = {
        "id": "gen_random_uuid()",
        "company_id": company,
        "created_at": time,
        "updated_at": time,
        **values,
    }
    return f"insert into {table} ({', '.join(columns)}) values ({', '.join(columns.values())})"


def _execution(mission: str, route: str = "NULL") -> str:
    return _insert(
        "mission_execution",
        mission_id=mission,
        route_id=route,
        kind="'started'",
        at=":now",
        source="'api'",
        actor_type="'token'",
        actor_name="'n'",
        details="'{}'",
    )


# Each statement runs as the application role bound to company A, naming one of company B's records
# (`:theirs`, of the kind named second); `:ours` is a record of A's of the kind named third.
ATTACKS: dict[str, tuple[str, str, str | None]] = {
    "depot -> branch": (
        _insert("depot", branch_id=":theirs", name="'smuggled'", latitude="41", longitude="29"),
        "branch",
        None,
    ),
    "driver -> branch": ("update driver set branch_id = :theirs where id = :ours", "branch", "driver"),
    "vehicle -> branch": ("update vehicle set branch_id = :theirs where id = :ours", "branch", "vehicle"),
    "assignment -> vehicle": (
        _insert("vehicle_driver_assignment", vehicle_id=":theirs", driver_id=":ours", starts_at=":now"),
        "vehicle",
        "driver",
    ),
    "assignment -> driver": (
        _insert("vehicle_driver_assignment", vehicle_id=":ours", driver_id=":theirs", starts_at=":now"),
        "driver",
        "vehicle",
    ),
    "route -> branch": ("update route set branch_id = :theirs where id = :ours", "branch", "route"),
    "route -> driver": ("update route set driver_id = :theirs where id = :ours", "driver", "route"),
    "route -> vehicle": ("update route set vehicle_id = :theirs where id = :ours", "vehicle", "route"),
    "route -> start depot": ("update route set start_depot_id = :theirs where id = :ours", "depot", "route"),
    "route -> end depot": ("update route set end_depot_id = :theirs where id = :ours", "depot", "route"),
    "mission -> branch": ("update mission set branch_id = :theirs where id = :ours", "branch", "mission"),
    "mission -> route": ("update mission set route_id = :theirs where id = :ours", "route", "mission"),
    "execution -> mission": (_execution(":theirs"), "mission", None),
    "execution -> route": (_execution(":ours", ":theirs"), "route", "mission"),
    "invite -> driver": (
        _insert(
            "driver_invite",
            driver_id=":theirs",
            code_hash="gen_random_uuid()::text::bytea",
            expires_at=":now",
        ),
        "driver",
        None,
    ),
    "mobile user -> driver": (
        _insert("mobile_user", driver_id=":theirs", password_hash="'x'", status="'active'"),
        "driver",
        None,
    ),
    "device -> mobile user": (
        _insert(
            "device", mobile_user_id=":theirs", device_id="'phone'", platform="'ios'", last_seen_at=":now"
        ),
        "mobile_user",
        None,
    ),
    "webhook delivery -> endpoint": (
        _insert(
            "webhook_delivery",
            endpoint_id=":theirs",
            event_id="'evt_x'",
            event_type="'mission.created'",
            attempt="1",
            status="'pending'",
            due_at=":now",
            trigger="'event'",
        ),
        "endpoint",
        None,
    ),
    "optimization job -> branch": (
        _insert(
            "optimization_job",
            branch_id=":theirs",
            status="'queued'",
            progress="0",
            request="'{}'",
            engine="'ortools'",
            date=":today",
            runs="0",
        ),
        "branch",
        None,
    ),
}


async def _records(factory: Factory, tenant: Tenant) -> dict[str, str]:
    branch = (await factory.branch(tenant))["id"]
    mobile_user = await factory.mobile_user(tenant, branch_id=branch)
    endpoint = await factory.client.post(
        "/companies/me/webhook-endpoints",
        json={"url": "http://127.0.0.1:9/hook"},
        headers=tenant.headers("admin"),
    )
    assert endpoint.status_code == 201, endpoint.text
    return {
        "branch": branch,
        "depot": (await factory.depot(tenant, branch))["id"],
        "driver": (await factory.driver(tenant, branch))["id"],
        "vehicle": (await factory.vehicle(tenant, branch))["id"],
        "route": (await factory.route(tenant, branch))["id"],
        "mission": (await factory.mission(tenant, branch))["id"],
        "mobile_user": mobile_user["id"],
        "endpoint": endpoint.json()["data"]["id"],
    }


async def _run_as_app(company: uuid.UUID, sql: str, values: dict[str, Any]) -> None:
    async with unit_of_work(Principal.system(company)) as uow:
        await uow.execute(text(sql), {"a": company, "now": clock.utcnow(), "today": days.date(), **values})


async def test_the_database_refuses_a_reference_to_another_companys_record(factory: Factory) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    ours, theirs = await _records(factory, a), await _records(factory, b)
    accepted = []
    for name, (sql, target, own) in ATTACKS.items():
        values = {"theirs": theirs[target], "ours": ours[own] if own else None}
        try:
            await _run_as_app(a.id, sql, values)
        except IntegrityError as refused:
            assert "violates foreign key constraint" in str(refused.orig), (name, refused)
        else:
            accepted.append(name)
    assert accepted == []
    # The same statements naming A's own records go through: the keys refuse the company, nothing else.
    for name in (
        "route -> driver",
        "mission -> route",
        "webhook delivery -> endpoint",
        "optimization job -> branch",
    ):
        sql, target, own = ATTACKS[name]
        await _run_as_app(a.id, sql, {"theirs": ours[target], "ours": ours[own] if own else None})


async def test_a_deleted_route_clears_the_reference_but_not_the_company(factory: Factory) -> None:
    tenant = await factory.tenant()
    branch = (await factory.branch(tenant))["id"]
    route, mission = (
        (await factory.route(tenant, branch))["id"],
        (await factory.mission(tenant, branch))["id"],
    )
    sql, _, _ = ATTACKS["execution -> route"]
    await _run_as_app(tenant.id, sql, {"ours": mission, "theirs": route})
    await _run_as_app(tenant.id, "delete from route where id = :theirs", {"theirs": route})
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        rows = (await uow.execute(text("select company_id, route_id from mission_execution"))).all()
    assert rows == [(tenant.id, None)]


# --- forced policies and the definer role ---------------------------------------------------------


async def test_every_protected_table_binds_its_owner_and_definers_belong_to_the_definer_role(
    services: object,
) -> None:
    async with db.engine("owner").connect() as conn:
        unforced = (
            await conn.execute(
                text(
                    "select relname from pg_class where relnamespace = 'public'::regnamespace"
                    " and relrowsecurity and not relforcerowsecurity"
                )
            )
        ).scalars()
        owners = dict(
            (
                await conn.execute(
                    text(
                        "select proname, pg_get_userbyid(proowner) from pg_proc"
                        " where pronamespace = 'public'::regnamespace and prosecdef"
                    )
                )
            ).all()
        )
        role = (
            await conn.execute(
                text("select rolcanlogin, rolsuper, rolbypassrls from pg_roles where rolname = :r"),
                {"r": DEFINER_ROLE},
            )
        ).one()
    assert list(unforced) == []
    assert owners and set(owners.values()) == {DEFINER_ROLE}, owners
    assert tuple(role) == (False, False, False)


@pytest.fixture
def superuser_url(services: Any) -> str:
    return psycopg2_url(services.owner_url)


def _admin(superuser_url: str, *statements: str) -> None:
    engine = create_engine(superuser_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _as(url: str, role: str, database: str | None = None) -> str:
    return (
        make_url(url)
        .set(username=role, database=database or make_url(url).database)
        .render_as_string(hide_password=False)
    )


@pytest.fixture
def deployment(superuser_url: str) -> Iterator[dict[str, str]]:
    """A database migrated by a non-superuser owner, as in a managed deployment: the owner's
    name, and connection URLs for it and for the application role."""
    owner, database = "owner_" + uuid.uuid4().hex[:8], "deploy_" + uuid.uuid4().hex[:8]
    _admin(
        superuser_url,
        f"CREATE ROLE {owner} LOGIN",
        # The definer role exists already (the suite's own migration made it), so an administrator
        # lets the owner act as it, as the migration's hint asks.
        f"GRANT {DEFINER_ROLE} TO {owner}",
        f'CREATE DATABASE "{database}" OWNER {owner}',
    )
    try:
        command.upgrade(alembic_config(_as(superuser_url, owner, database)), "head")
        yield {
            "owner": owner,
            "owner_url": _as(superuser_url, owner, database),
            "app_url": _as(superuser_url, APP_ROLE, database),
        }
    finally:
        _admin(superuser_url, f'DROP DATABASE "{database}" WITH (FORCE)', f"DROP ROLE {owner}")


@contextmanager
def _connect(url: str) -> Iterator[Connection]:
    """One transaction on `url`, committed at the end of the block."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _bind(conn: Connection, company: uuid.UUID | None) -> None:
    conn.execute(
        text("select set_config('app.company_id', :c, true)"), {"c": str(company) if company else ""}
    )


NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # what the functions compare with: any fixed instant


def _delivery(event: str, status: str) -> str:
    return _insert(
        "webhook_delivery",
        ":c",
        ":t",
        endpoint_id=":e",
        event_id=event,
        event_type="'mission.created'",
        attempt="1",
        status=status,
        due_at=":t",
        trigger="'event'",
    )


SEED = [
    "insert into company (id, name, credits_balance, created_at, updated_at) values (:c, 'C', 0, :t, :t)",
    _insert("web_user", ":c", ":t", email=":email", name="'n'", password_hash="'hash'", role="'admin'"),
    _insert("api_token", ":c", ":t", name="'t'", preset="'full_access'", prefix="'rpt_'", token_hash=":hash"),
    _insert("branch", ":c", ":t", id=":b", name="'B'", timezone="'UTC'"),
    _insert(
        "driver", ":c", ":t", id=":d", branch_id=":b", first_name="'F'", last_name="'L'", status="'active'"
    ),
    _insert("driver_invite", ":c", ":t", driver_id=":d", code_hash=":hash", expires_at=":t"),
    _insert(
        "mobile_user", ":c", ":t", driver_id=":d", email=":email", password_hash="'h'", status="'active'"
    ),
    "insert into idempotency_key (company_id, key, fingerprint, status_code, headers, body, created_at)"
    " values (:c, 'k', 'f', 201, '{}', '', :t)",
    "insert into webhook_event (id, company_id, type, resource_type, resource_id, payload, created_at,"
    " status) values (:evt, :c, 'mission.created', 'mission', gen_random_uuid(), '{}', :t, 'pending')",
    _insert(
        "webhook_endpoint",
        ":c",
        ":t",
        id=":e",
        url="'http://127.0.0.1:9/'",
        event_types="'[]'",
        status="'enabled'",
        secrets="'[]'",
    ),
    _delivery(":evt", "'pending'"),
    _delivery("'evt_old'", "'succeeded'"),
    _insert(
        "optimization_job",
        ":c",
        ":t",
        branch_id=":b",
        status="'queued'",
        progress="0",
        request="'{}'",
        engine="'ortools'",
        date=":day",
        runs="0",
    ),
]


def _seed(owner_url: str) -> list[dict[str, Any]]:
    """Two companies with one of everything the definer functions look for, written by the owner
    (bound to each company in turn, as forced policies require)."""
    companies = []
    with _connect(owner_url) as conn:
        for _ in range(2):
            c = uuid.uuid4()
            values = {
                "c": c,
                "b": uuid.uuid4(),
                "d": uuid.uuid4(),
                "e": uuid.uuid4(),
                "hash": c.bytes,
                "t": NOW - dt.timedelta(days=60),
                "day": NOW.date(),
                "evt": "evt_" + c.hex[:20],
                "email": f"{c.hex[:10]}@example.com",
            }
            _bind(conn, c)
            for statement in SEED:
                conn.execute(text(statement), values)
            companies.append(values)
    return companies


def test_a_non_superuser_owner_is_bound_by_the_policies(deployment: dict[str, str]) -> None:
    companies = _seed(deployment["owner_url"])
    with _connect(deployment["owner_url"]) as conn:
        assert conn.scalar(text("select rolsuper from pg_roles where rolname = current_user")) is False
        for table in ("company", "branch", "web_user", "api_token", "webhook_event"):
            # Nothing bound: nothing seen, though the owner may act as the definer role.
            assert conn.scalar(text(f"select count(*) from {table}")) == 0, table
        _bind(conn, companies[0]["c"])
        assert conn.scalar(text("select count(*) from company")) == 1
        assert set(conn.scalars(text("select company_id from web_user"))) == {companies[0]["c"]}
    with pytest.raises(DBAPIError, match="row-level security"):
        with _connect(deployment["owner_url"]) as conn:
            _bind(conn, companies[0]["c"])
            conn.execute(text(SEED[0]), {"c": uuid.uuid4(), "t": NOW})


def test_definer_functions_reach_every_company_under_a_non_superuser_owner(
    deployment: dict[str, str],
) -> None:
    """What sign-in and the workers' sweeps call, as the application role with no company bound."""
    first, second = _seed(deployment["owner_url"])
    later = NOW + dt.timedelta(hours=1)
    with _connect(deployment["app_url"]) as conn:

        def companies(sql: str, **values: Any) -> set[uuid.UUID]:
            return set(conn.scalars(text(f"select company_id from {sql}"), values))

        assert companies("auth_web_user(:e)", e=second["email"]) == {second["c"]}
        assert conn.scalar(text("select auth_email_taken(:e)"), {"e": first["email"]}) is True
        assert companies("auth_driver_invite(:h)", h=second["hash"]) == {second["c"]}
        assert companies("auth_mobile_user(:e)", e=first["email"]) == {first["c"]}
        both = {first["c"], second["c"]}
        assert companies("pending_webhook_events(:t, 10)", t=later) == both
        assert companies("stale_optimization_jobs(:t, :t, 10)", t=later) == both
        assert companies("due_webhook_deliveries(:t, :t, 10)", t=later) == both
        assert conn.scalar(text("select expire_idempotency_keys(:t)"), {"t": later}) == 2
        assert conn.scalar(text("select expire_webhook_history(:t)"), {"t": later}) == 2
        # The token lookup binds the rest of the transaction to the token's company and stamps its use.
        assert companies("auth_api_token(:h, :t)", h=second["hash"], t=later) == {second["c"]}
        assert conn.scalar(text("select count(*) from company")) == 1
        assert conn.scalar(text("select last_used_at from api_token")) == later
    with _connect(deployment["owner_url"]) as conn:
        # The definer role reads what the functions need, and nothing else.
        conn.execute(text(f"set local role {DEFINER_ROLE}"))
        with pytest.raises(DBAPIError, match="permission denied for table branch"):
            conn.execute(text("select count(*) from branch"))


def test_migrating_needs_an_owner_that_may_act_as_the_definer_role(superuser_url: str) -> None:
    owner, database = "outsider_" + uuid.uuid4().hex[:8], "deploy_" + uuid.uuid4().hex[:8]
    _admin(superuser_url, f"CREATE ROLE {owner} LOGIN", f'CREATE DATABASE "{database}" OWNER {owner}')
    try:
        with pytest.raises(
            DBAPIError, match=f"the role {owner} cannot create or join the role {DEFINER_ROLE}"
        ):
            command.upgrade(alembic_config(_as(superuser_url, owner, database)), "head")
    finally:
        _admin(superuser_url, f'DROP DATABASE "{database}" WITH (FORCE)', f"DROP ROLE {owner}")


# --- the application refuses a role that row-level security does not bind ------------------------


@pytest.fixture
def throwaway_role(superuser_url: str) -> Iterator[str]:
    """A login role the test gives some right; dropped afterwards."""
    role = "probe_" + uuid.uuid4().hex[:8]
    _admin(superuser_url, f"CREATE ROLE {role} LOGIN")
    try:
        yield role
    finally:
        _admin(superuser_url, f"DROP ROLE {role}")


@pytest.mark.parametrize(
    ("grant", "reason"),
    [
        ("ALTER ROLE {role} SUPERUSER", "is a superuser"),
        ("ALTER ROLE {role} BYPASSRLS", "is allowed BYPASSRLS"),
        ("GRANT postgres TO {role}", "is a member of postgres, a superuser"),
        (
            f"GRANT {DEFINER_ROLE} TO {{role}}",
            f"is a member of {DEFINER_ROLE}, the owner of the SECURITY DEFINER",
        ),
    ],
)
def test_the_app_refuses_a_privileged_role(
    superuser_url: str, throwaway_role: str, grant: str, reason: str
) -> None:
    _admin(superuser_url, grant.format(role=throwaway_role))
    url = (
        make_url(_as(superuser_url, throwaway_role))
        .set(password="never-shown-pw")
        .render_as_string(hide_password=False)
    )
    with pytest.raises(db.PrivilegedAppRole, match=f"role {throwaway_role} .*{reason}") as refused:
        db.refuse_privileged_app_role(url)
    assert "never-shown-pw" not in str(refused.value)


def test_the_app_refuses_the_owner_of_the_tables_and_its_members(
    deployment: dict[str, str], superuser_url: str, throwaway_role: str
) -> None:
    owner = deployment["owner"]
    with pytest.raises(db.PrivilegedAppRole, match=f"role {owner} .*is the owner of the tables"):
        db.refuse_privileged_app_role(deployment["owner_url"])
    _admin(superuser_url, f"GRANT {owner} TO {throwaway_role}")
    member = (
        make_url(deployment["owner_url"]).set(username=throwaway_role).render_as_string(hide_password=False)
    )
    with pytest.raises(db.PrivilegedAppRole, match=f"is a member of {owner}, the owner of the tables"):
        db.refuse_privileged_app_role(member)
    db.refuse_privileged_app_role(deployment["app_url"])  # the application role: bound, served


def _cli(deployment: dict[str, str], *args: str) -> dict[str, str]:
    """An admin command against the deployment, connected as its owner the way `rouptimize` is."""
    owner_url = deployment["owner_url"].replace("postgresql+psycopg2://", "postgresql://", 1)
    env = {**os.environ, "DATABASE_URL": owner_url, "APP_DATABASE_URL": deployment["app_url"]}
    env["APP_DATABASE_URL"] = env["APP_DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://", 1)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_admin_commands_work_under_a_non_superuser_owner(deployment: dict[str, str]) -> None:
    """The owner's own writes bind the company they write, as the policies now require of it."""
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    company = _cli(deployment, "company", "create", "--name", "Owner Co", "--admin-email", email,
                   "--admin-password", "long-enough-pw", "--credits", "3")  # fmt: skip
    token = _cli(deployment, "token", "create", "--company-id", company["companyId"], "--preset", "read_only")
    assert token["preset"] == "read_only"
    with _connect(deployment["app_url"]) as conn:
        _bind(conn, uuid.UUID(company["companyId"]))
        assert conn.execute(text("select name, credits_balance from company")).one() == ("Owner Co", 3)
        assert conn.scalar(text("select count(*) from api_token")) == 1
