"""Statements sent without waiting idle: the next one's arguments are prepared while PostgreSQL
runs the previous one, on the same connection and in the same transaction."""

from __future__ import annotations

import asyncio
from typing import Any


class StatementPipeline:
    """Statements on one connection, each sent as soon as its arguments are ready and awaited only
    when the next one is: the connection runs one at a time, but we need not wait idle for it."""

    def __init__(self, connection: Any, sql: str) -> None:
        self.connection, self.sql = connection, sql
        self.records: list[Any] = []
        self._in_flight: asyncio.Future[list[Any]] | None = None

    async def send(self, *arguments: Any) -> None:
        await self._drain()
        self._in_flight = asyncio.ensure_future(self.connection.fetch(self.sql, *arguments))
        await asyncio.sleep(0)  # lets the statement go out before the caller's next Python work

    async def _drain(self) -> None:
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            self.records.extend(await in_flight)

    async def __aenter__(self) -> StatementPipeline:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # Also on error: the transaction's rollback must not meet a statement still running.
        await self._drain()
