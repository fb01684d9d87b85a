from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.experimental.pydantic import type as pydantic_type
from strawberry.scalars import JSON
from strawberry.types.unset import UNSET

from app.branches.types import Branch, as_branch
from app.core import jsonutil
from app.core.db import UnitOfWork
from app.core.principal import Scope
from app.core.repository import Repository
from app.core.rows import Row
from app.drivers.types import Driver, as_driver
from app.graphql.context import Info
from app.graphql.crud import resource_queries
from app.graphql.execution import direct
from app.graphql.inputs import graphql_enum, input_type, to_model
from app.graphql.loaders import Loaders, Neighbour, neighbour
from app.graphql.mutations import Deleted, mutation, query
from app.graphql.nodes import Node
from app.graphql.records import converter
from app.graphql.relay import Connection, connection, page_query
from app.graphql.results import PROOF_REFUSALS
from app.missions import bulk
from app.missions.schemas import (
    HistoryQuery,
    MissionBulkCreate,
    MissionCreate,
    MissionOut,
    MissionQuery,
    MissionReassign,
    MissionStatus,
    MissionType,
    MissionUpdate,
    ProofOut,
    ProofVerify,
    SmsStatus,
)
from app.missions.service import mission_service
from app.routes.models import Route as RouteModel
from app.routes.schemas import StopOut
from app.routes.service import stops_by_route
from app.routes.types import Route
from app.vehicles.types import Vehicle, as_vehicle


class _RouteRecord:
    """A mission's route as the Route type reads it: its columns as they are, its stops read (for
    all the page's routes at once) only if the document asks for them."""

    __slots__ = ("record", "stops_loader", "__as_strawberry_type__")

    def __init__(self, record: Any, stops_loader: DataLoader[uuid.UUID, list[Any]]) -> None:
        self.record, self.stops_loader = record, stops_loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)

    @property
    def stops(self) -> Any:
        async def load() -> list[StopOut]:
            return [StopOut.of(m) for m in await self.stops_loader.load(self.record.id)]

        return load()  # awaited by the executor, with the other routes' loads batched into one


def _route_by_id(uow: UnitOfWork) -> Any:
    """Routes in their GraphQL shape, each read once per request however many of its missions a
    page shows: a page of 50 missions on 5 routes reads 5 routes, not 50."""
    repo = Repository(RouteModel)

    async def stops(ids: Sequence[uuid.UUID]) -> list[list[Any]]:
        groups = await stops_by_route(uow, ids)
        return [groups.get(i, []) for i in ids]

    stops_loader: DataLoader[uuid.UUID, list[Any]] = DataLoader(load_fn=stops)

    async def load(ids: Sequence[uuid.UUID]) -> list[Any]:
        found = await repo.by_ids(uow, ids)
        return [
            strawberry.cast(Route, _RouteRecord(found[i], stops_loader)) if i in found else None for i in ids
        ]

    return DataLoader(load_fn=load)


Loaders.register("route_view_by_id", _route_by_id)
NEIGHBOURS = {
    "branch": Neighbour("branch_by_id", "branch_id", as_branch),
    "route": Neighbour("route_view_by_id", "route_id", lambda route: route),  # converted by its loader
    "driver": Neighbour("driver_by_id", "driver_id", as_driver),
    "vehicle": Neighbour("vehicle_by_id", "vehicle_id", as_vehicle),
}
MissionTypeEnum = graphql_enum(MissionType)
MissionStatusEnum = graphql_enum(MissionStatus)
SmsStatusEnum = graphql_enum(SmsStatus)


@pydantic_type(
    model=ProofOut, all_fields=True, description="Proof of delivery; `code` only in create answers."
)
class MissionProof:
    pass


@pydantic_type(model=MissionOut, all_fields=True)
class Mission(Node):
    id: strawberry.ID  # the record's UUID, unique across every type

    @strawberry.field
    @direct
    def branch(self, info: Info) -> Branch | None:
        return neighbour(info, NEIGHBOURS["branch"], self)  # type: ignore[no-any-return]

    @strawberry.field(description="The driver of the mission's route (null while it is on none).")
    @direct
    def driver(self, info: Info) -> Driver | None:
        return neighbour(info, NEIGHBOURS["driver"], self)  # type: ignore[no-any-return]

    @strawberry.field(description="The vehicle of the mission's route (null while it is on none).")
    @direct
    def vehicle(self, info: Info) -> Vehicle | None:
        return neighbour(info, NEIGHBOURS["vehicle"], self)  # type: ignore[no-any-return]

    @strawberry.field
    @direct
    def route(self, info: Info) -> Route | None:
        return neighbour(info, NEIGHBOURS["route"], self)  # type: ignore[no-any-return]


class _MissionRow:
    """A fetched mission as the Mission type reads it: its columns as they are, its proof built
    only if the document asks for it (a page of missions skips validating each one)."""

    __slots__ = ("row", "__as_strawberry_type__")

    def __init__(self, row: Row) -> None:
        self.row = row

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)

    @property
    def proof(self) -> ProofOut:
        return ProofOut.of(self.row)


def as_mission(record: object) -> Mission:
    if type(record) is Row:
        return strawberry.cast(Mission, _MissionRow(record))  # type: ignore[return-value]
    return converter(MissionOut)(record)  # type: ignore[no-any-return]


@strawberry.type
class HistoryActor:
    type: str
    id: uuid.UUID | None
    name: str


@strawberry.type
class FieldChange:
    field: str
    from_: JSON | None = strawberry.field(name="from")
    to: JSON | None


@strawberry.type(description="One entry of a mission's history (never a proof code).")
class MissionHistoryEntry:
    id: uuid.UUID
    at: dt.datetime
    action: str
    source: str
    actor: HistoryActor
    changes: list[FieldChange]


def as_history_entry(record: Any) -> MissionHistoryEntry:
    return MissionHistoryEntry(
        id=record.id, at=record.at, action=record.action, source=record.source,
        actor=HistoryActor(type=record.actor_type, id=record.actor_id, name=record.actor_name),
        changes=[FieldChange(field=c["field"], from_=c.get("from"), to=c.get("to"))
                 for c in record.field_changes],
    )  # fmt: skip


@strawberry.type
class BulkItemError:
    code: str
    message: str
    details: JSON


@strawberry.type(description="One item of a bulk create, in input order.")
class BulkMissionResult:
    index: int
    status: str
    mission: Mission | None
    error: BulkItemError | None


def as_bulk_result(item: dict[str, Any]) -> BulkMissionResult:
    data, error = item.get("data"), item.get("error")
    return BulkMissionResult(
        index=item["index"],
        status=item["status"],
        mission=_created_mission(data) if data else None,
        error=BulkItemError(**error) if error else None,
    )


def _created_mission(data: Any) -> Mission:
    # `data` is the REST answer's item, already serialised (an orjson.Fragment dumps as itself).
    out = MissionOut.model_validate_json(jsonutil.dumps(data), by_alias=True)
    return Mission.from_pydantic(out)  # type: ignore[attr-defined,no-any-return]


CreateMissionInput = input_type(MissionCreate, "CreateMissionInput")
UpdateMissionInput = input_type(MissionUpdate, "UpdateMissionInput", partial=True)


def _raw(value: Any) -> dict[str, Any]:
    """A create input as the JSON object the bulk import validates item by item."""
    return {
        info.alias or name: getattr(value, name)
        for name, info in MissionCreate.model_fields.items()
        if getattr(value, name, UNSET) is not UNSET
    }


MissionQueries = resource_queries(
    name="mission", plural="missions", gql_type=Mission, convert=as_mission, service=mission_service,
    query_model=MissionQuery, neighbours=NEIGHBOURS,
)  # fmt: skip


@strawberry.type
class MissionHistoryQueries:
    @query(description="The mission's history, newest first.")
    async def mission_history(
        self, info: Info, id: uuid.UUID, first: int = 50, after: str | None = None
    ) -> Connection[MissionHistoryEntry]:
        uow = info.context.uow
        params = page_query(HistoryQuery, first=first, after=after, updated_since=None, external_id=None)  # type: ignore[arg-type]
        page = await mission_service.history(uow, await mission_service.get(uow, id), params)
        return connection(page, as_history_entry, after=after)


@strawberry.type
class MissionMutations:
    @mutation(description="Create a mission; `proof.code` is shown only in this answer.")
    async def create_mission(self, info: Info, input: CreateMissionInput) -> Mission:  # type: ignore[valid-type]
        return as_mission(await mission_service.create(info.context.uow, to_model(MissionCreate, input)))

    @mutation(description="Create up to 1,000 missions; each item succeeds or fails on its own.")
    async def bulk_create_missions(
        self,
        info: Info,
        missions: list[CreateMissionInput],  # type: ignore[valid-type]
    ) -> list[BulkMissionResult]:
        body = MissionBulkCreate.model_validate({"missions": [_raw(m) for m in missions]})
        return [as_bulk_result(item) for item in await bulk.bulk_create(info.context.uow, body)]

    @mutation(description="Change fields; `status` makes the moves PATCH may make.")
    async def update_mission(self, info: Info, id: uuid.UUID, input: UpdateMissionInput) -> Mission:  # type: ignore[valid-type]
        uow = info.context.uow
        record = await mission_service.get(uow, id)
        return as_mission(await mission_service.update(uow, record, to_model(MissionUpdate, input)))

    @mutation()
    async def delete_mission(self, info: Info, id: uuid.UUID) -> Deleted:
        uow = info.context.uow
        await mission_service.delete(uow, await mission_service.get(uow, id))
        return Deleted(id=strawberry.ID(str(id)))

    @mutation(description="Move the mission onto a route (at a 1-based position) or off it (routeId null).")
    async def reassign_mission(
        self, info: Info, id: uuid.UUID, route_id: uuid.UUID | None, position: int | None = None
    ) -> Mission:
        uow = info.context.uow
        body = to_model(
            MissionReassign, MissionReassign.model_construct(route_id=route_id, position=position)
        )
        return as_mission(await mission_service.reassign(uow, await mission_service.get(uow, id), body))

    @mutation(
        refusals=PROOF_REFUSALS,
        description="Check the customer's 5-digit code; a wrong one spends an attempt.",
    )
    async def verify_proof_of_delivery(self, info: Info, id: uuid.UUID, code: str) -> Mission:
        uow = info.context.uow
        body = to_model(ProofVerify, ProofVerify.model_construct(code=code))
        return as_mission(
            await mission_service.verify_proof(uow, await mission_service.get(uow, id), body.code)
        )

    @mutation(description="A new proof code with fresh attempts, shown only in this answer.")
    async def regenerate_proof_code(self, info: Info, id: uuid.UUID) -> Mission:
        uow = info.context.uow
        return as_mission(await mission_service.regenerate_proof(uow, await mission_service.get(uow, id)))

    # --- the driver app: only for the driver whose route holds the mission ----------------------
    @mutation(Scope.DRIVER, description="The driver starts the mission (scheduled -> in_progress).")
    async def start_mission(
        self, info: Info, id: uuid.UUID, latitude: float | None = None, longitude: float | None = None
    ) -> Mission:
        return as_mission(await mission_service.driver_move(
            info.context.uow, id, MissionStatus.IN_PROGRESS,
            latitude=latitude, longitude=longitude))  # fmt: skip

    @mutation(Scope.DRIVER, description="The driver delivered the mission (in_progress -> delivered).")
    async def deliver_mission(
        self, info: Info, id: uuid.UUID, latitude: float | None = None, longitude: float | None = None
    ) -> Mission:
        return as_mission(await mission_service.driver_move(
            info.context.uow, id, MissionStatus.DELIVERED,
            latitude=latitude, longitude=longitude))  # fmt: skip

    @mutation(
        Scope.DRIVER,
        refusals=PROOF_REFUSALS,
        description="The driver enters the customer's 5-digit code (-> proofed).",
    )
    async def verify_mission_proof(self, info: Info, id: uuid.UUID, code: str) -> Mission:
        body = to_model(ProofVerify, ProofVerify.model_construct(code=code))
        return as_mission(await mission_service.driver_verify_proof(info.context.uow, id, body.code))

    @mutation(Scope.DRIVER, description="The driver could not complete the mission (in_progress -> failed).")
    async def fail_mission(
        self,
        info: Info,
        id: uuid.UUID,
        reason: str,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> Mission:
        return as_mission(await mission_service.driver_move(
            info.context.uow, id, MissionStatus.FAILED, reason=reason, latitude=latitude,
            longitude=longitude))  # fmt: skip
