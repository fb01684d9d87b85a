"""GraphQL for mobile users: the dispatcher's account management and the driver app's own
mutations (accept an invite, sign in, register the phone)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import strawberry
from sqlalchemy import select
from sqlmodel import col
from strawberry.experimental.pydantic import type as pydantic_type

from app.core.db import UnitOfWork
from app.core.principal import Scope
from app.drivers import invites
from app.graphql.context import Info
from app.graphql.inputs import graphql_enum, input_type, to_model
from app.graphql.loaders import Loaders, by_id_loader, grouped_loader
from app.graphql.mutations import Deleted, mutation, query, writes
from app.graphql.nodes import Node, register_node
from app.graphql.records import converter
from app.graphql.relay import Connection, connection, page_query
from app.mobile_users import models
from app.mobile_users.devices import device_service
from app.mobile_users.schemas import (
    AcceptInvite,
    DeviceOut,
    DevicePlatform,
    DeviceRegister,
    MobileUserOut,
    MobileUserQuery,
    MobileUserStatus,
    MobileUserUpdate,
    SignIn,
)
from app.mobile_users.service import MobileSession as MobileSessionResult
from app.mobile_users.service import mobile_user_service


def _devices_by_mobile_user_id(uow: UnitOfWork) -> Any:
    async def fetch(ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
        rows = await uow.scalars(
            select(models.Device)
            .where(
                col(models.Device.company_id) == uow.company_id,
                col(models.Device.mobile_user_id).in_(list(ids)),
            )
            .order_by(col(models.Device.created_at), col(models.Device.id))
        )
        groups: dict[uuid.UUID, list[Any]] = {}
        for row in rows:
            groups.setdefault(row.mobile_user_id, []).append(row)
        return groups

    return grouped_loader(fetch)


Loaders.register("mobile_user_by_id", lambda uow: by_id_loader(uow, models.MobileUser))
Loaders.register("devices_by_mobile_user_id", _devices_by_mobile_user_id)
MobileUserStatusEnum = graphql_enum(MobileUserStatus)
DevicePlatformEnum = graphql_enum(DevicePlatform)


@pydantic_type(model=DeviceOut, all_fields=True)
class Device:
    pass


def as_device(record: object) -> Device:
    return converter(DeviceOut)(record)


@pydantic_type(model=MobileUserOut, all_fields=True)
class MobileUser(Node):
    id: strawberry.ID  # the record's UUID, unique across every type

    @strawberry.field
    async def devices(self, info: Info) -> list[Device]:
        rows = await info.context.loaders.devices_by_mobile_user_id.load(self.id)  # type: ignore[attr-defined]
        return [as_device(row) for row in rows]


def as_mobile_user(record: object) -> MobileUser:
    return converter(MobileUserOut)(record)


@strawberry.type
class MobileSession:
    access_token: str = strawberry.field(description="Bearer token for the driver app's GraphQL calls.")
    expires_at: dt.datetime
    mobile_user: MobileUser


def as_session(result: MobileSessionResult) -> MobileSession:
    return MobileSession(
        access_token=result.access_token,
        expires_at=result.expires_at,
        mobile_user=as_mobile_user(result.mobile_user),
    )


UpdateMobileUserInput = input_type(MobileUserUpdate, "UpdateMobileUserInput", partial=True)
AcceptDriverInviteInput = input_type(AcceptInvite, "AcceptDriverInviteInput")
SignInMobileUserInput = input_type(SignIn, "SignInMobileUserInput")
RegisterDeviceInput = input_type(DeviceRegister, "RegisterDeviceInput")

# Root mutations the driver app calls before it has a session; app/graphql/endpoint.py runs an
# operation made only of these without authentication.
PUBLIC_MUTATIONS = frozenset({"acceptDriverInvite", "signInMobileUser"})


@strawberry.type
class MobileUserQueries:
    @query()
    async def mobile_users(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        updated_since: dt.datetime | None = None,
        driver_id: uuid.UUID | None = None,
        status: MobileUserStatus | None = None,
    ) -> Connection[MobileUser]:
        params = page_query(
            MobileUserQuery, first=first, after=after, updated_since=updated_since, external_id=None,
            driver_id=driver_id, status=status,
        )  # fmt: skip
        return connection(
            await mobile_user_service.list(info.context.uow, params), as_mobile_user, after=after
        )

    @query()
    async def mobile_user(self, info: Info, id: uuid.UUID) -> MobileUser:
        return as_mobile_user(await mobile_user_service.get(info.context.uow, id))


@strawberry.type
class MobileUserMutations:
    @mutation()
    async def update_mobile_user(self, info: Info, id: uuid.UUID, input: UpdateMobileUserInput) -> MobileUser:  # type: ignore[valid-type]
        uow = info.context.uow
        record = await mobile_user_service.get(uow, id)
        return as_mobile_user(
            await mobile_user_service.update(uow, record, to_model(MobileUserUpdate, input))
        )

    @mutation()
    async def disable_mobile_user(self, info: Info, id: uuid.UUID) -> MobileUser:
        uow = info.context.uow
        record = await mobile_user_service.get(uow, id)
        return as_mobile_user(await mobile_user_service.set_status(uow, record, MobileUserStatus.DISABLED))

    @mutation()
    async def enable_mobile_user(self, info: Info, id: uuid.UUID) -> MobileUser:
        uow = info.context.uow
        record = await mobile_user_service.get(uow, id)
        return as_mobile_user(await mobile_user_service.set_status(uow, record, MobileUserStatus.ACTIVE))

    @mutation()
    async def delete_mobile_user(self, info: Info, id: uuid.UUID) -> Deleted:
        uow = info.context.uow
        await mobile_user_service.delete(uow, await mobile_user_service.get(uow, id))
        return Deleted(id=strawberry.ID(str(id)))

    # --- the driver app ---------------------------------------------------------------------
    @strawberry.mutation(extensions=writes(), description="Driver app: accept an invite (no session needed).")
    async def accept_driver_invite(self, info: Info, input: AcceptDriverInviteInput) -> MobileSession:  # type: ignore[valid-type]
        return as_session(await invites.accept(info.context.uow, to_model(AcceptInvite, input)))

    @strawberry.mutation(extensions=writes(), description="Driver app: sign in (no session needed).")
    async def sign_in_mobile_user(self, info: Info, input: SignInMobileUserInput) -> MobileSession:  # type: ignore[valid-type]
        return as_session(await mobile_user_service.sign_in(info.context.uow, to_model(SignIn, input)))

    @mutation(Scope.DRIVER, description="Driver app: register the phone of the signed-in mobile user.")
    async def register_device(self, info: Info, input: RegisterDeviceInput) -> Device:  # type: ignore[valid-type]
        return as_device(await device_service.register(info.context.uow, to_model(DeviceRegister, input)))


async def _mobile_user_node(uow: UnitOfWork, record_id: uuid.UUID) -> Any:
    return as_mobile_user(await mobile_user_service.get(uow, record_id))


register_node("mobile_user", Scope.READ, _mobile_user_node)
