"""The dashboard: what today looks like, what changed lately, and the series behind its charts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from app.core import clock
from app.core.db import UnitOfWork
from app.core.pagination import Page, encode_cursor
from app.dashboard import repository as repo
from app.dashboard.schemas import (
    ActivityOut,
    ActivityQuery,
    ChartsOut,
    ChartsQuery,
    DistanceDayOut,
    FleetCounts,
    HourOut,
    MissionsDayOut,
    StatsOut,
    StatsQuery,
)
from app.missions.schemas import HistoryEntryOut
from app.reports import repository as reports
from app.reports.schemas import MissionStatusCounts, RouteStatusCounts, counts
from app.reports.service import report_service

DEFAULT_CHART_DAYS = 7


class DashboardService:
    async def today(self, uow: UnitOfWork, branch_id: uuid.UUID | None) -> dt.date:
        """Today where the dispatcher works: in the branch's time zone; company-wide, in the one
        zone all its branches share, else (branches in several zones, or none) in UTC."""
        zones = await repo.timezones(uow, branch_id)
        zone = ZoneInfo(zones[0]) if len(zones) == 1 else dt.UTC
        return clock.today(zone)

    async def _branch(self, uow: UnitOfWork, branch_id: uuid.UUID | None) -> None:
        if branch_id is not None:
            await report_service.scope_branch(uow, branch_id)

    async def stats(self, uow: UnitOfWork, query: StatsQuery) -> StatsOut:
        await self._branch(uow, query.branch_id)
        day = query.date or await self.today(uow, query.branch_id)
        missions = await repo.missions_by_status(uow, day, query.branch_id)
        routes = await repo.routes_of_day(uow, day, query.branch_id)
        fleet = await repo.fleet(uow, query.branch_id)
        return StatsOut(
            date=day,
            branch_id=query.branch_id,
            missions=counts(MissionStatusCounts, missions),
            missions_total=sum(missions.values()),
            routes=counts(RouteStatusCounts, dict(routes)),
            routes_total=routes["total"],
            drivers=FleetCounts(
                total=fleet["drivers"], active=fleet["active_drivers"], on_route=routes["drivers"]
            ),
            vehicles=FleetCounts(
                total=fleet["vehicles"], active=fleet["active_vehicles"], on_route=routes["vehicles"]
            ),
            credits_remaining=fleet["credits"],
        )

    async def recent_activity(self, uow: UnitOfWork, query: ActivityQuery) -> Page[ActivityOut]:
        resource_type = query.resource_type.value if query.resource_type else None
        rows, cursor = await repo.activity(uow, query.limit, query.cursor, resource_type)
        items = [
            ActivityOut(
                resource_type=row.resource_type,
                resource_id=row.resource_id,
                **dict(HistoryEntryOut.from_record(row)),
            )
            for row in rows
        ]
        return Page(
            items=items, next_cursor=cursor, has_more=cursor is not None, limit=query.limit,
            cursor_at=lambda i: encode_cursor(rows[i].at, rows[i].id),
        )  # fmt: skip

    async def charts(self, uow: UnitOfWork, query: ChartsQuery) -> ChartsOut:
        """Dense daily series over the range (zeros included) and 24 hourly buckets."""
        await self._branch(uow, query.branch_id)
        if query.date_from is not None and query.date_to is not None:
            date_from, date_to = query.date_from, query.date_to
        else:
            date_to = await self.today(uow, query.branch_id)
            date_from = date_to - dt.timedelta(days=(query.days or DEFAULT_CHART_DAYS) - 1)
        scope = (date_from, date_to, query.branch_id)
        missions = await reports.missions_by_day(uow, *scope)
        routes = await reports.routes_by_day(uow, *scope)
        hours = await repo.deliveries_by_hour(uow, *scope)
        by_day = {r["date"]: r for r in missions}
        series = report_service.daily(date_from, date_to, missions, routes)
        return ChartsOut(
            date_from=date_from,
            date_to=date_to,
            branch_id=query.branch_id,
            missions_per_day=[_missions_day(d.date, by_day.get(d.date)) for d in series],
            deliveries_per_hour=[HourOut(hour=h, delivered=hours.get(h, 0)) for h in range(24)],
            distance_per_day=[
                DistanceDayOut(
                    date=d.date,
                    routes=d.routes,
                    distance_meters=d.distance_meters,
                    duration_seconds=d.duration_seconds,
                )  # fmt: skip
                for d in series
            ],
        )


def _missions_day(day: dt.date, row: Any) -> MissionsDayOut:
    values = {s: row[s] for s in reports.MISSION_STATUSES} if row else {}
    return MissionsDayOut(date=day, total=row["total"] if row else 0, **values)


dashboard_service = DashboardService()
