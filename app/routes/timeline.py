"""What happened on a route, in time order, from its missions' executions, and each stop's
planned time against the actual one."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from app.core.db import UnitOfWork
from app.missions.models import MissionExecution
from app.routes.schemas import RouteTimelineOut, RouteView, TimelineActor, TimelineEvent, TimelineStop


async def route_timeline(uow: UnitOfWork, view: RouteView) -> RouteTimelineOut:
    """Executions are found by the route they happened on (recorded with each), so a mission
    that failed here and was later taken off still shows in this route's timeline."""
    route = view.route
    rows = await uow.scalars(
        select(MissionExecution)
        .where(col(MissionExecution.company_id) == uow.company_id, MissionExecution.route_id == route.id)
        .order_by(col(MissionExecution.at), col(MissionExecution.created_at), col(MissionExecution.id))
    )
    timeline = [
        TimelineEvent(
            at=row.at,
            kind=row.kind,
            mission_id=row.mission_id,
            latitude=row.latitude,
            longitude=row.longitude,
            source=row.source,
            actor=TimelineActor(type=row.actor_type, id=row.actor_id, name=row.actor_name),
            failure_reason=(row.details or {}).get("failureReason"),
        )
        for row in rows
    ]
    # The route's own markers are stamped a moment after the mission move that caused them, in
    # the same transaction: they are shown at that move's time, as the first and the last thing
    # that happened, so the timeline stays in time order.
    first, last = (timeline[0].at, timeline[-1].at) if timeline else (None, None)
    keyed = [(e.at, 1, e) for e in timeline]
    if route.started_at is not None:
        at = min(route.started_at, first or route.started_at)
        keyed.append((at, 0, TimelineEvent(at=at, kind="route_started", mission_id=None)))
    if route.completed_at is not None:
        at = max(route.completed_at, last or route.completed_at)
        keyed.append((at, 2, TimelineEvent(at=at, kind="route_completed", mission_id=None)))
    keyed.sort(key=lambda item: (item[0], item[1]))
    timeline = [e for _, _, e in keyed]
    stops = [
        TimelineStop(
            mission_id=m.id,
            sequence=m.sequence,
            status=m.status,
            planned_eta=m.eta,
            planned_etd=m.etd,
            actual_started_at=m.started_at,
            actual_finished_at=m.finished_at,
            delay_seconds=(round((m.started_at - m.eta).total_seconds()) if m.started_at and m.eta else None),
        )
        for m in view.stops
    ]
    return RouteTimelineOut(
        route_id=route.id,
        status=route.status,
        started_at=route.started_at,
        completed_at=route.completed_at,
        events=timeline,
        stops=stops,
    )
