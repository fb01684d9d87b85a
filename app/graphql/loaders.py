"""Per-request DataLoaders, built on the request's unit of work so row-level security applies."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from strawberry.dataloader import DataLoader

from app.branches.models import Branch
from app.core.db import UnitOfWork
from app.core.repository import Repository


def by_id_loader(uow: UnitOfWork, model: type[Any]) -> DataLoader[uuid.UUID, Any]:
    repo = Repository(model)

    async def load(ids: Sequence[uuid.UUID]) -> list[Any]:
        found = await repo.by_ids(uow, ids)
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


def grouped_loader(
    fetch: Callable[[Sequence[uuid.UUID]], Awaitable[dict[uuid.UUID, list[Any]]]],
) -> DataLoader[uuid.UUID, list[Any]]:
    async def load(keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        groups = await fetch(keys)
        return [groups.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """Named `<thing>_by_<key>`; areas add theirs through `register`."""

    factories: dict[str, Callable[[UnitOfWork], DataLoader[Any, Any]]] = {
        "branch_by_id": lambda uow: by_id_loader(uow, Branch),
    }

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._built: dict[str, DataLoader[Any, Any]] = {}
        # Neighbours a list page loaded for all its records at once, in their GraphQL shape.
        self.ready: dict[tuple[str, Any], Any] = {}

    def __getattr__(self, name: str) -> DataLoader[Any, Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._built:
            self._built[name] = self.factories[name](self._uow)
        return self._built[name]

    @classmethod
    def register(cls, name: str, factory: Callable[[UnitOfWork], DataLoader[Any, Any]]) -> None:
        cls.factories[name] = factory


@dataclass(frozen=True)
class Neighbour:
    """A record's neighbour: the loader that reads it, the attribute holding its id, and how it
    becomes its GraphQL object."""

    loader: str
    id_attribute: str
    convert: Callable[[Any], Any]


_MISSING = object()


def neighbour(info: Any, field: Neighbour, source: Any) -> Any:
    """The neighbour of `source`: at once when its page prefetched it (no awaitable for the
    executor to gather, per record), else through its DataLoader."""
    record_id = getattr(source, field.id_attribute)
    if record_id is None:
        return None
    loaders: Loaders = info.context.loaders
    ready = loaders.ready.get((field.loader, record_id), _MISSING)
    if ready is not _MISSING:
        return ready

    async def load() -> Any:
        record = await getattr(loaders, field.loader).load(record_id)
        return field.convert(record) if record is not None else None

    return load()


async def prefetch(info: Any, records: Sequence[Any], fields: dict[str, Neighbour]) -> None:
    """Load the neighbours the document asks of a page's records, each kind in one query, before
    the records' fields resolve."""
    asked = _selected_names(info.selected_fields)
    loaders: Loaders = info.context.loaders
    for name, field in fields.items():
        if name not in asked:
            continue
        ids = list({i for i in (getattr(r, field.id_attribute) for r in records) if i is not None})
        found = await getattr(loaders, field.loader).load_many(ids)
        for record_id, record in zip(ids, found, strict=True):
            loaders.ready[(field.loader, record_id)] = field.convert(record) if record is not None else None


def _selected_names(selections: Sequence[Any]) -> set[str]:
    """Every field name in the selection tree, fragments included (a superset is harmless)."""
    names: set[str] = set()
    for selection in selections:
        name = getattr(selection, "name", None)
        if name:
            names.add(name)
        names |= _selected_names(getattr(selection, "selections", None) or [])
    return names
