"""How mission changes are recorded: history entries, webhook events and field executions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm.attributes import set_committed_value

from app.core import history, outbox
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.schemas import to_public
from app.missions.models import Mission, MissionExecution
from app.missions.schemas import MissionOut

# Execution kind recorded when a mission reaches a status in the field.
EXECUTION_KINDS = {
    "in_progress": "started",
    "delivered": "delivered",
    "failed": "failed",
    "proofed": "proof_verified",
    "cancelled": "cancelled",
}


def snapshot(mission: Mission) -> dict[str, Any]:
    return to_public(MissionOut, mission)


def follow_route(mission: Mission, driver_id: Any, vehicle_id: Any) -> None:
    """Keep the read-only `driverId`/`vehicleId` of a loaded mission in step with its route
    (they are read through the route, so they only refresh on the next load otherwise)."""
    set_committed_value(mission, "driver_id", driver_id)
    set_committed_value(mission, "vehicle_id", vehicle_id)


async def status_changed(
    uow: UnitOfWork,
    mission: Mission,
    previous: str,
    *,
    action: str = "status_changed",
    extra: list[dict[str, Any]] | None = None,
) -> None:
    """History and the `mission.status_changed` event (carrying `previousStatus`) for one move."""
    changes = [{"field": "status", "from": previous, "to": mission.status}, *(extra or [])]
    history.record_change(uow, "mission", mission.id, action, changes)
    data = {**snapshot(mission), "previousStatus": previous}
    await outbox.record_event(uow, "mission.status_changed", "mission", mission.id, data)


def execution(
    uow: UnitOfWork,
    mission: Mission,
    kind: str,
    *,
    route_id: Any = None,
    at: dt.datetime | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    details: dict[str, Any] | None = None,
) -> MissionExecution:
    principal = uow.principal
    record = MissionExecution(
        company_id=uow.company_id,
        mission_id=mission.id,
        route_id=route_id if route_id is not None else mission.route_id,
        kind=kind,
        at=at or utcnow(),
        latitude=latitude,
        longitude=longitude,
        source=uow.source.value,
        actor_type=principal.actor_type.value,
        actor_id=principal.actor_id,
        actor_name=principal.actor_name,
        details=details or {},
    )
    uow.add(record)
    return record
