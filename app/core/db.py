"""Engines and the unit of work: one transaction per request or task, bound to one company.

Every transaction sets `app.company_id` with `set_config(..., true)` so the PostgreSQL row-level
security policies scope it, whatever the SQL forgets. Services never commit: the unit of work
commits when the block succeeds and rolls back on any exception.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.sql import Executable, Select

from app.core import jsonutil
from app.core.principal import Principal, Source

T = TypeVar("T")

_engines: dict[str, AsyncEngine] = {}
_compiled: dict[Any, Any] = {}
_urls: dict[str, str] = {}


def configure(*, owner_url: str, app_url: str) -> None:
    """Point the process at its databases (called once by the CLI, the worker and the tests)."""
    _urls["owner"] = owner_url
    _urls["app"] = app_url


def is_configured() -> bool:
    return "app" in _urls


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
        from app.settings import get_settings

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


async def dispose() -> None:
    for eng in list(_engines.values()):
        await eng.dispose()
    _engines.clear()


class UnitOfWork:
    """A transaction plus who runs it. Its methods serialise access to the session, because
    GraphQL resolves sibling fields concurrently and an AsyncSession allows one operation at a time."""

    def __init__(self, session: AsyncSession, principal: Principal, source: Source) -> None:
        self.session = session
        self.principal = principal
        self.source = source
        self.after_commit: list[Callable[[], Any]] = []
        self._lock = asyncio.Lock()

    @property
    def company_id(self) -> uuid.UUID:
        if self.principal.company_id is None:
            raise RuntimeError("no company bound to this unit of work")
        return self.principal.company_id

    async def bind(self, principal: Principal) -> None:
        self.principal = principal
        if principal.company_id is not None:
            await self.execute(
                text("select set_config('app.company_id', :cid, true)"), {"cid": str(principal.company_id)}
            )

    async def execute(self, statement: Executable, params: Any = None) -> Any:
        async with self._lock:
            return await self.session.execute(statement, params)

    async def scalar(self, statement: Executable, params: Any = None) -> Any:
        async with self._lock:
            return await self.session.scalar(statement, params)

    async def scalars(self, statement: Executable, params: Any = None) -> list[Any]:
        async with self._lock:
            return list((await self.session.scalars(statement, params)).all())

    async def driver_connection(self) -> Any:
        """The asyncpg connection under this unit of work's transaction, for the hot read paths
        where SQLAlchemy's per-statement and per-row work would dominate."""
        connection = await self.session.connection()
        adapted = (await connection.get_raw_connection()).dbapi_connection
        # SQLAlchemy's asyncpg adapter sends BEGIN lazily with its first statement; start it now so
        # what runs here shares the unit of work's transaction (and its app.company_id).
        if adapted._transaction is None:
            await adapted._start_transaction()
        return adapted.driver_connection

    async def fetch(self, statement: Select[Any], values: dict[str, Any] | None = None) -> list[Any]:
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
                self.session.bind.dialect, cache_key=key, column_keys=None, for_executemany=False
            )
            if key is not None and "POSTCOMPILE" not in compiled.string:
                _compiled[key.key] = compiled
        if key is None or "POSTCOMPILE" in compiled.string:
            return list((await self.execute(statement, values)).mappings().all())
        params = compiled.construct_params(values, extracted_parameters=key.bindparams)
        return await self.fetch_compiled(compiled.string, tuple(compiled.positiontup or ()), params)

    async def fetch_compiled(self, sql: str, names: tuple[str, ...], values: dict[str, Any]) -> list[Any]:
        """Run SQL already compiled for asyncpg (`$n` parameters named by `names`)."""
        async with self._lock:
            connection = await self.driver_connection()
            return list(await connection.fetch(sql, *(values[name] for name in names)))

    async def flush(self) -> None:
        async with self._lock:
            await self.session.flush()

    def add(self, obj: Any) -> None:
        self.session.add(obj)

    async def delete(self, obj: Any) -> None:
        async with self._lock:
            await self.session.delete(obj)
            await self.session.flush()

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A SAVEPOINT: the block's writes roll back on error while the transaction goes on.
        Mutations run one at a time, so this needs no lock."""
        async with self.session.begin_nested():
            yield


@asynccontextmanager
async def unit_of_work(
    principal: Principal, source: Source = Source.SYSTEM, *, kind: str = "app"
) -> AsyncIterator[UnitOfWork]:
    async with AsyncSession(engine(kind), expire_on_commit=False, autoflush=False) as session:
        async with session.begin():
            uow = UnitOfWork(session, principal, source)
            await uow.bind(principal)
            yield uow
        for callback in uow.after_commit:
            callback()
