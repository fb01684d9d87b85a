"""Per-request DataLoaders, built on the request's unit of work so row-level security applies."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
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

    def __getattr__(self, name: str) -> DataLoader[Any, Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._built:
            self._built[name] = self.factories[name](self._uow)
        return self._built[name]

    @classmethod
    def register(cls, name: str, factory: Callable[[UnitOfWork], DataLoader[Any, Any]]) -> None:
        cls.factories[name] = factory
