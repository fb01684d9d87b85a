"""The write path every resource shares: validate, write, history and outbox in one transaction.

Area services subclass `ResourceService` and add their rules in the hooks."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from pydantic.alias_generators import to_camel
from sqlalchemy.exc import IntegrityError

from app.core import history, outbox
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.errors import Conflict
from app.core.pagination import Page
from app.core.repository import Repository
from app.core.schemas import InputModel, ListQuery, OutModel, UpdateModel, to_public

M = TypeVar("M", bound=Any)


class ResourceService(Generic[M]):
    model: type[M]
    out: type[OutModel]
    resource_type: ClassVar[str]
    # Webhook event prefix (`vehicle` -> vehicle.created ...); None for resources without events.
    event_prefix: ClassVar[str | None] = None

    def __init__(self) -> None:
        self.repo: Repository[M] = Repository(self.model)

    # --- hooks -------------------------------------------------------------------------
    async def check_create(self, uow: UnitOfWork, values: dict[str, Any]) -> None:
        """Rules a new record must satisfy (references in the company, cross-field checks)."""

    async def check_update(self, uow: UnitOfWork, record: M, changes: dict[str, Any]) -> None:
        """Rules a change must satisfy; `changes` holds only the fields sent."""

    async def dependants(self, uow: UnitOfWork, record: M) -> dict[str, list[uuid.UUID]]:
        """Records that would be orphaned by deleting `record`, by kind."""
        return {}

    def snapshot(self, record: M) -> dict[str, Any]:
        return to_public(self.out, record)

    # --- reads ---------------------------------------------------------------------------
    async def get(self, uow: UnitOfWork, record_id: Any) -> M:
        return await self.repo.get_or_404(uow, record_id)

    async def list(self, uow: UnitOfWork, query: ListQuery) -> Page[M]:
        return await self.repo.page(uow, query, self.filters(query))

    async def count(self, uow: UnitOfWork, query: ListQuery) -> int:
        return await self.repo.count(uow, query, self.filters(query))

    def filters(self, query: ListQuery) -> builtins.list[Any]:
        return []

    # --- writes --------------------------------------------------------------------------
    async def create(self, uow: UnitOfWork, data: InputModel, **extra: Any) -> M:
        values = {**data.model_dump(), **extra}
        await self.check_create(uow, values)
        record = self.model(company_id=uow.company_id, **values)
        record.updated_at = record.created_at  # a new record was last changed when it was made
        await self.insert(uow, record)
        snapshot = self.snapshot(record)
        history.record_change(uow, self.resource_type, record.id, "created", history.creation(snapshot))
        await self.emit(uow, "created", record.id, snapshot)
        return record

    async def update(self, uow: UnitOfWork, record: M, data: UpdateModel) -> M:
        changes = data.changes()
        await self.check_update(uow, record, changes)
        return await self.apply(uow, record, changes)

    async def apply(self, uow: UnitOfWork, record: M, changes: dict[str, Any], action: str = "updated") -> M:
        """Write `changes` to `record`, recording history and the update event when anything changed."""
        before = self.snapshot(record)
        proposed = {**before, **{to_camel(name): value for name, value in changes.items()}}
        diff = history.diff(before, proposed)
        if not diff:
            return record

        def mutate() -> None:
            for name, value in changes.items():
                setattr(record, name, value)
            record.updated_at = utcnow()

        await self.write_unique(uow, record, mutate)
        history.record_change(uow, self.resource_type, record.id, action, diff)
        await self.emit(uow, "updated", record.id, self.snapshot(record))
        return record

    async def delete(self, uow: UnitOfWork, record: M) -> None:
        blocking = {kind: ids for kind, ids in (await self.dependants(uow, record)).items() if ids}
        if blocking:
            raise Conflict(
                f"This {self.resource_type.replace('_', ' ')} still has dependants; remove them first.",
                {"dependants": {kind: [str(i) for i in ids[:50]] for kind, ids in blocking.items()}},
            )
        snapshot = self.snapshot(record)
        await uow.delete(record)
        history.record_change(uow, self.resource_type, record.id, "deleted", [])
        await self.emit(uow, "deleted", record.id, snapshot)

    # --- helpers -------------------------------------------------------------------------
    async def emit(self, uow: UnitOfWork, verb: str, record_id: uuid.UUID, data: dict[str, Any]) -> None:
        if self.event_prefix:
            await outbox.record_event(uow, f"{self.event_prefix}.{verb}", self.event_prefix, record_id, data)

    async def insert(self, uow: UnitOfWork, record: M) -> None:
        await self.write_unique(uow, record, lambda: uow.add(record))

    async def write_unique(self, uow: UnitOfWork, record: M, mutate: Callable[[], None]) -> None:
        """Apply `mutate` and flush, turning a clash on (company, externalId) into the contract's
        409 with the existing id.

        The change is made inside the savepoint so that rolling it back leaves the session clean;
        the unique index is what decides the race when two requests use one externalId at once."""
        external_id = None
        try:
            async with uow.savepoint():
                mutate()
                # Read before the flush: a rolled-back savepoint expires the record's attributes.
                external_id = getattr(record, "external_id", None)
                await uow.flush()
        except IntegrityError as exc:
            if external_id is None or "external_id" not in str(exc.orig):
                raise
            existing = await self.repo.by_external_id(uow, external_id)
            raise Conflict(
                f"A {self.resource_type.replace('_', ' ')} with this externalId already exists.",
                {"field": "externalId", "existingId": str(existing.id) if existing else None},
            ) from None
