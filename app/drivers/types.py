from __future__ import annotations

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
from app.graphql.crud import resource_mutations, resource_queries
from app.graphql.inputs import graphql_enum
from app.graphql.loaders import Loaders, by_id_loader
from app.graphql.mutations import mutation
from app.graphql.nodes import Node
from app.graphql.records import converter
from app.mobile_users.types import MobileUser, as_mobile_user

Loaders.register("driver_by_id", lambda uow: by_id_loader(uow, models.Driver))
DriverStatusEnum = graphql_enum(DriverStatus)


@pydantic_type(model=DriverOut, all_fields=True)
class Driver(Node):
    id: strawberry.ID  # the record's UUID, unique across every type

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
    return converter(DriverOut)(record)


@pydantic_type(model=DriverInviteOut, all_fields=True, description="An invite; `code` is shown only here.")
class DriverInvite:
    pass


DriverQueries = resource_queries(
    name="driver",
    plural="drivers",
    gql_type=Driver,
    convert=as_driver,
    service=driver_service,
    query_model=DriverQuery,
)


@strawberry.type
class DriverInviteMutations:
    @mutation()
    async def invite_driver(self, info: Info, id: uuid.UUID) -> DriverInvite:
        uow = info.context.uow
        issued = await invites.invite(uow, await driver_service.get(uow, id))
        return converter(DriverInviteOut)(issued)


DriverMutations = resource_mutations(
    name="driver",
    gql_type=Driver,
    convert=as_driver,
    service=driver_service,
    create=DriverCreate,
    update=DriverUpdate,
    extra=DriverInviteMutations,
)
