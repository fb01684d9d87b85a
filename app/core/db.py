"""Engines and the unit of work: one transaction per request or task, bound to one company.

Every transaction sets `app.company_id` with `set_config(..., true)` so the PostgreSQL row-level
security policies scope it, whatever the SQL forgets. Services never commit: the unit of work
commits when the block succeeds and rolls back on any exception.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.sql import Executable, Select

from app.core import jsonutil
from app.core.logging import get_logger
from app.core.principal import Principal, Source
from app.settings import get_settings

T = TypeVar("T")

_engines: dict[str, AsyncEngine] = {}
_raw_pools: dict[str, Any] = {}
_compiled: dict[Any, Any] = {}
_BIND = text("select set_config('app.company_id', :cid, true)")
_BIND_RAW = "select set_config('app.company_id', $1, true)"
_urls: dict[str, str] = {}


def configure(*, owner_url: str, app_url: str) -> None:
    """Point the process at its databases (called once by the CLI, the worker and the tests)."""
    _urls["owner"] = owner_url
    _urls["app"] = app_url


def is_configured() -> bool:
    return "app" in _urls


# Every way the application's role could get past row-level security, each with the role it comes
# from. `pg_has_role(.., 'MEMBER')` includes the role itself and any role it may SET ROLE to: a role
# that can become a superuser, or the tables' owner, has those rights in all but name.
_ROLE_CHECK = text(
    """
    select 'superuser', r.rolname from pg_roles r
    where r.rolsuper and pg_has_role(current_user, r.oid, 'MEMBER')
    union
    select 'bypassrls', r.rolname from pg_roles r
    where r.rolbypassrls and pg_has_role(current_user, r.oid, 'MEMBER')
    union
    select 'tables', pg_get_userbyid(c.relowner) from pg_class c
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
      and pg_has_role(current_user, c.relowner, 'MEMBER')
    union
    select 'definer', pg_get_userbyid(p.proowner) from pg_proc p
    where p.pronamespace = 'public'::regnamespace and p.prosecdef
      and pg_has_role(current_user, p.proowner, 'MEMBER')
    order by 1, 2
    """
)
_WHAT = {
    "superuser": "a superuser",
    "bypassrls": "allowed BYPASSRLS",
    "tables": "the owner of the tables",
    "definer": "the owner of the SECURITY DEFINER functions",
}


class PrivilegedAppRole(RuntimeError):
    """The application's database role is one that row-level security does not bind."""


def refuse_privileged_app_role(url: str | None = None) -> None:
    """Stop here if the application's connection could see past row-level security: a superuser,
    a role with BYPASSRLS, the owner of the tables (or of the functions that read across
    companies), or a member of any of those, would turn one missing company filter into a
    cross-tenant leak. Called before the API or a worker serves. Names roles, never the URL."""
    from sqlalchemy import create_engine

    checking = create_engine(sync_url(url or _urls["app"]))
    try:
        with checking.connect() as connection:
            role = connection.scalar(text("select current_user"))
            found = [tuple(row) for row in connection.execute(_ROLE_CHECK).all()]
    finally:
        checking.dispose()
    if not found:
        return
    if ("superuser", role) in found:
        found = [("superuser", role)]  # which implies all the rest
    reasons = [
        f"is {_WHAT[kind]}" if granted_by == role else f"is a member of {granted_by}, {_WHAT[kind]}"
        for kind, granted_by in found
    ]
    get_logger("rouptimize.db").error("app_role_refused", role=role, reasons=reasons)
    raise PrivilegedAppRole(
        f"The application's database role {role} {'; '.join(reasons)}: row-level security would not "
        "bind it. Connect the application (APP_DATABASE_URL) as a role without these rights, such as "
        "the rouptimize_app role the migrations create."
    )


def sync_url(url: str) -> str:
    # SQLAlchemy 2.1 maps a bare `postgresql://` to psycopg 3; the synchronous driver here is psycopg2.
    return async_url(url).replace("postgresql+asyncpg://", "postgresql+psycopg2://", 1)


def async_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return url.replace("postgresql://", "postgresql+asyncpg://", 1)
    if url.startswith("postgres://"):
        return url.replace("postgres://", "postgresql+asyncpg://", 1)
    return url


def engine(kind: str = "app") -> AsyncEngine:
    if kind not in _engines:
        if kind not in _urls:
            raise RuntimeError("database not configured: call app.core.db.configure() first")
        _engines[kind] = create_async_engine(
            async_url(_urls[kind]),
            pool_size=get_settings().db_pool_size,
            max_overflow=20,
            json_serializer=lambda value: jsonutil.dumps(value).decode(),
            json_deserializer=jsonutil.loads,
        )
    return _engines[kind]


async def raw_pool(kind: str = "app") -> Any:
    """A plain asyncpg pool on the same database and role as `engine(kind)`, for read-only work."""
    if kind not in _raw_pools:
        url = make_url(async_url(_urls[kind]))
        _raw_pools[kind] = await asyncpg.create_pool(
            user=url.username,
            password=url.password,
            host=url.query.get("host") or url.host,
            port=url.port,
            database=url.database,
            min_size=1,
            max_size=get_settings().db_pool_size,
            init=_json_codecs,
        )
    return _raw_pools[kind]


async def _json_codecs(connection: Any) -> None:
    # JSON columns decode to Python values, as they do through SQLAlchemy.
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, schema="pg_catalog", encoder=lambda v: jsonutil.dumps(v).decode(), decoder=jsonutil.loads
        )


@dataclass(frozen=True)
class PoolUsage:
    pool: str  # the `kind`: app or owner
    client: str  # sqlalchemy (ORM and writes) or asyncpg (hot reads)
    in_use: int
    idle: int


def pool_usage() -> list[PoolUsage]:
    """Connections of this process's pools, checked out and waiting (for metrics; any thread)."""
    usage = []
    for kind, eng in list(_engines.items()):
        pool: Any = eng.pool
        usage.append(PoolUsage(kind, "sqlalchemy", pool.checkedout(), pool.checkedin()))
    for kind, raw in list(_raw_pools.items()):
        size, idle = raw.get_size(), raw.get_idle_size()
        usage.append(PoolUsage(kind, "asyncpg", size - idle, idle))
    return usage


async def dispose() -> None:
    for eng in list(_engines.values()):
        await eng.dispose()
    _engines.clear()
    for pool in list(_raw_pools.values()):
        await pool.close()
    _raw_pools.clear()


class UnitOfWork:
    """A transaction plus who runs it. Its methods serialise access to the session, because
    GraphQL resolves sibling fields concurrently and an AsyncSession allows one operation at a time.

    Connections open on first use and get `app.company_id` as they open. A `read_only` unit of work
    (a REST GET) reads through a plain asyncpg connection and opens an ORM session, on a second
    connection, only if something asks for one: reads at READ COMMITTED see the same data either
    way, and the hottest requests skip the session machinery."""

    def __init__(self, kind: str, principal: Principal, source: Source, *, read_only: bool = False) -> None:
        self.kind = kind
        self.principal = principal
        self.source = source
        self.read_only = read_only
        # Set by a surface whose request changed nothing worth keeping (a GraphQL query): a commit
        # that fails (its transaction aborted by a statement cancelled mid-flight, when an error
        # abandons sibling fields) is rolled back instead, and the answer already made stands.
        self.commit_optional = False
        self.after_commit: list[Callable[[], Any]] = []
        # Outbox events written in this transaction, handed to delivery after commit.
        self.announced_events: list[str] = []
        self._lock = asyncio.Lock()
        self._session: AsyncSession | None = None
        self._session_bound = False
        self._raw: Any = None
        self._raw_transaction: Any = None

    @property
    def company_id(self) -> uuid.UUID:
        if self.principal.company_id is None:
            raise RuntimeError("no company bound to this unit of work")
        return self.principal.company_id

    @property
    def session(self) -> AsyncSession:
        """The ORM session (created on first use; `_orm()` also binds the company to it)."""
        if self._session is None:
            self._session = AsyncSession(engine(self.kind), expire_on_commit=False, autoflush=False)
        return self._session

    async def _orm(self) -> AsyncSession:
        session = self.session
        if not self._session_bound:
            self._session_bound = True
            if self.principal.company_id is not None:
                await session.execute(_BIND, {"cid": str(self.principal.company_id)})
        return session

    async def bind(self, principal: Principal) -> None:
        """Act for `principal` from now on; open connections switch company at once."""
        self.principal = principal
        if self._session is not None:
            self._session_bound = False
            await self._orm()
        if self._raw is not None and principal.company_id is not None:
            await self._raw.execute(_BIND_RAW, str(principal.company_id))

    async def execute(self, statement: Executable, params: Any = None) -> Any:
        async with self._lock:
            return await (await self._orm()).execute(statement, params)

    async def scalar(self, statement: Executable, params: Any = None) -> Any:
        async with self._lock:
            return await (await self._orm()).scalar(statement, params)

    async def scalars(self, statement: Executable, params: Any = None) -> list[Any]:
        async with self._lock:
            return list((await (await self._orm()).scalars(statement, params)).all())

    async def driver_connection(self) -> Any:
        """The asyncpg connection under this unit of work's transaction, for the hot read paths
        where SQLAlchemy's per-statement and per-row work would dominate."""
        if self.read_only:
            if self._raw is None:
                self._raw = await (await raw_pool(self.kind)).acquire()
                self._raw_transaction = self._raw.transaction()
                await self._raw_transaction.start()
                if self.principal.company_id is not None:
                    await self._raw.execute(_BIND_RAW, str(self.principal.company_id))
            return self._raw
        connection = await (await self._orm()).connection()
        adapted = (await connection.get_raw_connection()).dbapi_connection
        assert adapted is not None  # only an invalidated connection has none, and this one is in use
        # SQLAlchemy's asyncpg adapter sends BEGIN lazily with its first statement; start it now so
        # what runs here shares the unit of work's transaction (and its app.company_id).
        if adapted._transaction is None:
            await adapted._start_transaction()
        return adapted.driver_connection

    async def finish(self, succeeded: bool) -> None:
        """Commit (or roll back) whatever was opened, and give the connections back."""
        try:
            if self._session is not None:
                if succeeded:
                    await self._orm()  # bind before the final flush
                    await self._session.commit()
                else:
                    await self._session.rollback()
            if self._raw_transaction is not None:
                if succeeded:
                    await self._raw_transaction.commit()
                else:
                    await _roll_back(self._raw_transaction)
        except BaseException as error:
            if self._raw_transaction is not None and succeeded:
                await _roll_back(self._raw_transaction)
            if not (succeeded and self.commit_optional and isinstance(error, Exception)):
                raise
            if self._session is not None:
                await self._session.rollback()
            get_logger("rouptimize.db").warning(
                "optional_commit_rolled_back", error_type=type(error).__name__
            )
        finally:
            if self._session is not None:
                await self._session.close()
            if self._raw is not None:
                await (await raw_pool(self.kind)).release(self._raw)

    async def fetch(
        self, statement: Select[*tuple[Any, ...]], values: dict[str, Any] | None = None
    ) -> list[Any]:
        """Run a Core SELECT straight on asyncpg and return its records (mapping-like, read-only).
        `values` fills the statement's named `bindparam`s.

        Compiled SQL is cached per statement shape, as SQLAlchemy does internally; statements it
        cannot run this way (expanding IN parameters) go through the session instead."""
        key = statement._generate_cache_key()
        compiled = _compiled.get(key.key) if key is not None else None
        if compiled is None:
            # Compiled against its cache key, so later statements of the same shape reuse it with
            # their own parameter values (what SQLAlchemy's compiled cache does).
            compiled = statement._compiler(  # type: ignore[attr-defined]
                engine(self.kind).dialect, cache_key=key, column_keys=None, for_executemany=False
            )
            if key is not None and "POSTCOMPILE" not in compiled.string:
                _compiled[key.key] = compiled
        if key is None or "POSTCOMPILE" in compiled.string:
            return list((await self.execute(statement, values)).mappings().all())
        params = compiled.construct_params(values, extracted_parameters=key.bindparams)
        return await self.fetch_compiled(compiled.string, tuple(compiled.positiontup or ()), params)

    async def fetch_compiled(self, sql: str, names: tuple[str, ...], values: Mapping[str, Any]) -> list[Any]:
        """Run SQL already compiled for asyncpg (`$n` parameters named by `names`)."""
        async with self._lock:
            connection = await self.driver_connection()
            return list(await connection.fetch(sql, *(values[name] for name in names)))

    async def flush(self) -> None:
        async with self._lock:
            await (await self._orm()).flush()

    def add(self, obj: Any) -> None:
        self.session.add(obj)

    async def delete(self, obj: Any) -> None:
        async with self._lock:
            session = await self._orm()
            await session.delete(obj)
            await session.flush()

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A SAVEPOINT: the block's writes roll back on error while the transaction goes on.
        Mutations run one at a time, so this needs no lock."""
        async with (await self._orm()).begin_nested():
            yield


async def _roll_back(transaction: Any) -> None:
    try:
        await transaction.rollback()
    except asyncpg.InterfaceError:
        # A statement cancelled mid-flight (a client gone, a sibling field abandoned) left the
        # transaction failed, or a cancelled commit had already ended it: asyncpg refuses the
        # rollback, and the pool's reset on release rolls back whatever is still open.
        pass


@asynccontextmanager
async def unit_of_work(
    principal: Principal, source: Source = Source.SYSTEM, *, kind: str = "app", read_only: bool = False
) -> AsyncIterator[UnitOfWork]:
    uow = UnitOfWork(kind, principal, source, read_only=read_only)
    succeeded = False
    try:
        yield uow
        succeeded = True
    finally:
        await uow.finish(succeeded)
    for callback in uow.after_commit:
        callback()
