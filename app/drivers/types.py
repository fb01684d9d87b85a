from __future__ import annotations

import datetime as dt
import uuid

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from app.branches.types import Branch, as_branch
from app.drivers import invites, models
from app.drivers.schemas import (
    DriverCreate,
    DriverInviteOut,
    DriverOut,
    DriverQuery,
    DriverStatus,
    DriverUpdate,
)
from app.drivers.service import driver_service
from app.graphql.context import Info
from app.graphql.inputs import graphql_enum, input_type, to_model
from app.graphql.loaders import Loaders, by_id_loader
from app.graphql.mutations import Deleted, mutation, query
from app.graphql.relay import Connection, connection, page_query
from app.mobile_users.types import MobileUser, as_mobile_user

Loaders.register("driver_by_id", lambda uow: by_id_loader(uow, models.Driver))
DriverStatusEnum = graphql_enum(DriverStatus)


@pydantic_type(model=DriverOut, all_fields=True)
class Driver:
    @strawberry.field
    async def branch(self, info: Info) -> Branch | None:
        record = await info.context.loaders.branch_by_id.load(self.branch_id)  # type: ignore[attr-defined]
        return as_branch(record) if record else None

    @strawberry.field
    async def mobile_user(self, info: Info) -> MobileUser | None:
        if self.mobile_user_id is None:  # type: ignore[attr-defined]
            return None
        record = await info.context.loaders.mobile_user_by_id.load(self.mobile_user_id)  # type: ignore[attr-defined]
        return as_mobile_user(record) if record else None


def as_driver(record: object) -> Driver:
    return Driver.from_pydantic(DriverOut.model_validate(record))  # type: ignore[attr-defined,no-any-return]


@pydantic_type(model=DriverInviteOut, all_fields=True, description="An invite; `code` is shown only here.")
class DriverInvite:
    pass


CreateDriverInput = input_type(DriverCreate, "CreateDriverInput")
UpdateDriverInput = input_type(DriverUpdate, "UpdateDriverInput", partial=True)


@strawberry.type
class DriverQueries:
    @query()
    async def drivers(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        updated_since: dt.datetime | None = None,
        external_id: str | None = None,
        branch_id: uuid.UUID | None = None,
        status: DriverStatus | None = None,
    ) -> Connection[Driver]:
        params = page_query(
            DriverQuery, first=first, after=after, updated_since=updated_since, external_id=external_id,
            branch_id=branch_id, status=status,
        )  # fmt: skip
        return connection(await driver_service.list(info.context.uow, params), as_driver)

    @query()
    async def driver(self, info: Info, id: uuid.UUID) -> Driver:
        return as_driver(await driver_service.get(info.context.uow, id))


@strawberry.type
class DriverMutations:
    @mutation()
    async def create_driver(self, info: Info, input: CreateDriverInput) -> Driver:  # type: ignore[valid-type]
        return as_driver(await driver_service.create(info.context.uow, to_model(DriverCreate, input)))

    @mutation()
    async def update_driver(self, info: Info, id: uuid.UUID, input: UpdateDriverInput) -> Driver:  # type: ignore[valid-type]
        uow = info.context.uow
        record = await driver_service.get(uow, id)
        return as_driver(await driver_service.update(uow, record, to_model(DriverUpdate, input)))

    @mutation()
    async def delete_driver(self, info: Info, id: uuid.UUID) -> Deleted:
        uow = info.context.uow
        await driver_service.delete(uow, await driver_service.get(uow, id))
        return Deleted(id=strawberry.ID(str(id)))

    @mutation()
    async def invite_driver(self, info: Info, id: uuid.UUID) -> DriverInvite:
        uow = info.context.uow
        issued = await invites.invite(uow, await driver_service.get(uow, id))
        return DriverInvite.from_pydantic(DriverInviteOut.model_validate(issued))  # type: ignore[attr-defined,no-any-return]
