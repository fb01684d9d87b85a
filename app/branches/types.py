from __future__ import annotations

import datetime as dt
import uuid

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from app.branches.schemas import BranchCreate, BranchOut, BranchQuery, BranchUpdate
from app.branches.service import branch_service
from app.graphql.context import Info
from app.graphql.inputs import input_type, to_model
from app.graphql.mutations import Deleted, mutation, query
from app.graphql.relay import Connection, connection, page_query


@pydantic_type(model=BranchOut, all_fields=True)
class Branch:
    pass


def as_branch(record: object) -> Branch:
    return Branch.from_pydantic(BranchOut.model_validate(record))  # type: ignore[attr-defined,no-any-return]


CreateBranchInput = input_type(BranchCreate, "CreateBranchInput")
UpdateBranchInput = input_type(BranchUpdate, "UpdateBranchInput", partial=True)


@strawberry.type
class BranchQueries:
    @query()
    async def branches(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        updated_since: dt.datetime | None = None,
        external_id: str | None = None,
    ) -> Connection[Branch]:
        params = page_query(
            BranchQuery, first=first, after=after, updated_since=updated_since, external_id=external_id
        )
        return connection(await branch_service.list(info.context.uow, params), as_branch)

    @query()
    async def branch(self, info: Info, id: uuid.UUID) -> Branch:
        return as_branch(await branch_service.get(info.context.uow, id))


@strawberry.type
class BranchMutations:
    @mutation()
    async def create_branch(self, info: Info, input: CreateBranchInput) -> Branch:  # type: ignore[valid-type]
        data = to_model(BranchCreate, input)
        return as_branch(await branch_service.create(info.context.uow, data))

    @mutation()
    async def update_branch(self, info: Info, id: uuid.UUID, input: UpdateBranchInput) -> Branch:  # type: ignore[valid-type]
        uow = info.context.uow
        record = await branch_service.get(uow, id)
        return as_branch(await branch_service.update(uow, record, to_model(BranchUpdate, input)))

    @mutation()
    async def delete_branch(self, info: Info, id: uuid.UUID) -> Deleted:
        uow = info.context.uow
        await branch_service.delete(uow, await branch_service.get(uow, id))
        return Deleted(id=strawberry.ID(str(id)))
