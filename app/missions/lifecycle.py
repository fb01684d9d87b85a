"""Status moves of a mission outside route building: started, delivered, failed, cancelled,
retried (failed -> unassigned) and proofed. PATCH, the driver app and proof verification all
come through `move`, so every surface records the same history, executions and events."""

from __future__ import annotations

import datetime as dt

from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.errors import ValidationFailed
from app.credits.service import credit_service
from app.missions import events
from app.missions.models import Mission
from app.missions.schemas import MissionStatus as S
from app.missions.status import check_move, check_patch_move
from app.routes import dispatch


async def move(
    uow: UnitOfWork,
    mission: Mission,
    target: S,
    *,
    failure_reason: str | None = None,
    at: dt.datetime | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    via_patch: bool = False,
) -> Mission:
    current = S(mission.status)
    if via_patch:
        check_patch_move(current, target, mission.proof_required)
    else:
        check_move(current, target, mission.proof_required)
    if target == S.FAILED and not failure_reason:
        raise ValidationFailed.field("failureReason", "is required when a mission fails")
    now = at or utcnow()
    route_id = mission.route_id
    extra = []
    if target in (S.CANCELLED, S.UNASSIGNED) and mission.route_id is not None:
        # Cancelled and retried missions leave their route; the route is recomputed.
        extra.append({"field": "routeId", "from": str(mission.route_id), "to": None})
        route = await dispatch.take_off(uow, mission)
    else:
        route = await dispatch.lock_route(uow, mission.route_id) if mission.route_id else None
    if target == S.CANCELLED and mission.started_at is None and mission.credit_charged:
        # A mission that never started gets its credit back.
        await credit_service.refund(uow, mission.id, "cancelled before start")
        mission.credit_charged = False
    if target == S.IN_PROGRESS and mission.started_at is None:
        mission.started_at = now
    if target in (S.DELIVERED, S.FAILED):
        mission.finished_at = now
    if target == S.FAILED:
        extra.append({"field": "failureReason", "from": mission.failure_reason, "to": failure_reason})
        mission.failure_reason = failure_reason
    if target == S.PROOFED:
        mission.proof_verified_at = now
    mission.status = target.value
    mission.updated_at = utcnow()
    await uow.flush()
    kind = events.EXECUTION_KINDS.get(target.value)
    if kind:
        details = {"failureReason": failure_reason} if failure_reason else {}
        events.execution(
            uow, mission, kind, route_id=route_id, at=now, latitude=latitude, longitude=longitude,
            details=details,
        )  # fmt: skip
    await events.status_changed(uow, mission, current.value, extra=extra)
    if route is not None:
        await dispatch.refresh_status(uow, route)
    return mission
