from __future__ import annotations

import datetime as dt
import uuid

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from app.branches.types import Branch, as_branch
from app.depots.schemas import DepotCreate, DepotOut, DepotQuery, DepotUpdate
from app.depots.service import depot_service
from app.graphql.context import Info
from app.graphql.inputs import input_type, to_model
from app.graphql.mutations import Deleted, mutation, query
from app.graphql.relay import Connection, connection, page_query


@pydantic_type(model=DepotOut, all_fields=True)
class Depot:
    @strawberry.field
    async def branch(self, info: Info) -> Branch | None:
        record = await info.context.loaders.branch_by_id.load(self.branch_id)
        return as_branch(record) if record else None


def as_depot(record: object) -> Depot:
    return Depot.from_pydantic(DepotOut.model_validate(record))  # type: ignore[attr-defined,no-any-return]


CreateDepotInput = input_type(DepotCreate, "CreateDepotInput")
UpdateDepotInput = input_type(DepotUpdate, "UpdateDepotInput", partial=True)


@strawberry.type
class DepotQueries:
    @query()
    async def depots(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        updated_since: dt.datetime | None = None,
        external_id: str | None = None,
        branch_id: uuid.UUID | None = None,
    ) -> Connection[Depot]:
        params = page_query(
            DepotQuery, first=first, after=after, updated_since=updated_since, external_id=external_id,
            branch_id=branch_id,
        )  # fmt: skip
        return connection(await depot_service.list(info.context.uow, params), as_depot)

    @query()
    async def depot(self, info: Info, id: uuid.UUID) -> Depot:
        return as_depot(await depot_service.get(info.context.uow, id))


@strawberry.type
class DepotMutations:
    @mutation()
    async def create_depot(self, info: Info, input: CreateDepotInput) -> Depot:  # type: ignore[valid-type]
        return as_depot(await depot_service.create(info.context.uow, to_model(DepotCreate, input)))

    @mutation()
    async def update_depot(self, info: Info, id: uuid.UUID, input: UpdateDepotInput) -> Depot:  # type: ignore[valid-type]
        uow = info.context.uow
        record = await depot_service.get(uow, id)
        return as_depot(await depot_service.update(uow, record, to_model(DepotUpdate, input)))

    @mutation()
    async def delete_depot(self, info: Info, id: uuid.UUID) -> Deleted:
        uow = info.context.uow
        await depot_service.delete(uow, await depot_service.get(uow, id))
        return Deleted(id=strawberry.ID(str(id)))
