"""What the driver app reads: the signed-in driver's own profile, routes and missions.

A driver session holds only the `driver` scope, so these are the only queries it may run; every
company-wide field refuses it. The services restrict each answer to the driver's own records, and
what these types link to (a route's branch, vehicle and depots, a mission's route) is reached only
from those records. tests/mobile_users/test_driver_scope.py pins the types a driver can reach."""

from __future__ import annotations

import datetime as dt
import uuid

import strawberry

from app.core.principal import Scope
from app.drivers.types import Driver, as_driver
from app.graphql.context import Info
from app.graphql.mutations import query
from app.graphql.relay import Connection, connection, page_query
from app.missions.schemas import MissionQuery, MissionStatus
from app.missions.service import mission_service
from app.missions.types import Mission, as_mission
from app.mobile_users.service import mobile_user_service
from app.routes.schemas import RouteQuery, RouteStatus
from app.routes.service import route_service
from app.routes.types import Route, as_route


@strawberry.type
class DriverAppQueries:
    @query(Scope.DRIVER, description="Driver app: the signed-in driver.")
    async def my_driver_profile(self, info: Info) -> Driver:
        return as_driver(await mobile_user_service.driver_profile(info.context.uow))

    @query(Scope.DRIVER, description="Driver app: the signed-in driver's routes.")
    async def my_routes(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        updated_since: dt.datetime | None = None,
        date: dt.date | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        status: list[RouteStatus] | None = None,
    ) -> Connection[Route]:
        params = page_query(
            RouteQuery, first=first, after=after, updated_since=updated_since, external_id=None,
            branch_id=None, date=date, date_from=date_from, date_to=date_to, status=status,
            driver_id=None, vehicle_id=None,
        )  # fmt: skip
        return connection(await route_service.driver_routes(info.context.uow, params), as_route)

    @query(Scope.DRIVER, description="Driver app: one of the signed-in driver's routes.")
    async def my_route(self, info: Info, id: uuid.UUID) -> Route:
        return as_route(await route_service.driver_route(info.context.uow, id))

    @query(Scope.DRIVER, description="Driver app: the missions on the signed-in driver's routes.")
    async def my_missions(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        updated_since: dt.datetime | None = None,
        route_id: uuid.UUID | None = None,
        date: dt.date | None = None,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        status: list[MissionStatus] | None = None,
    ) -> Connection[Mission]:
        params = page_query(
            MissionQuery, first=first, after=after, updated_since=updated_since, external_id=None,
            branch_id=None, date=date, date_from=date_from, date_to=date_to, status=status,
            route_id=route_id, driver_id=None,
        )  # fmt: skip
        return connection(await mission_service.driver_missions(info.context.uow, params), as_mission)

    @query(Scope.DRIVER, description="Driver app: a mission on one of the signed-in driver's routes.")
    async def my_mission(self, info: Info, id: uuid.UUID) -> Mission:
        return as_mission(await mission_service.driver_mission(info.context.uow, id))
