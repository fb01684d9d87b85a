"""Saving an optimizer's plan as routes (what an auto-optimize job does once it has solved; the job
itself is `app/optimization_jobs`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.core import outbox
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.errors import InsufficientCredits
from app.credits.service import credit_service
from app.optimization import vrp
from app.routes.planning import Setting, route_start
from app.routes.schemas import RouteCreate
from app.routes.service import route_service


@dataclass(frozen=True)
class Saved:
    route_ids: list[uuid.UUID]
    credits_charged: int


async def persist(uow: UnitOfWork, setting: Setting, solution: vrp.Solution) -> Saved:
    """Save the solution as routes through the route service (the manual path: checks, credits,
    `route.created` and `mission.status_changed`), then mark each optimized (`route.optimized`).
    Credits are checked for the whole plan first, so a 402 names what the plan needs."""
    planned = [setting.missions[j] for r in solution.routes for j in r.jobs]
    required = sum(1 for m in planned if not m.credit_charged)
    remaining = await credit_service.balance(uow)
    if required > remaining:
        raise InsufficientCredits(
            f"This needs {required} scheduled-order credits and {remaining} remain.",
            {"required": required, "remaining": remaining},
        )
    route_ids = []
    for route in solution.routes:
        fleet = setting.fleet[route.vehicle]
        # Built from already-checked values; the service re-checks every reference and rule.
        body = RouteCreate.model_construct(
            branch_id=setting.branch.id, date=setting.day,
            mission_ids=[setting.missions[j].id for j in route.jobs],
            vehicle_id=fleet.vehicle.id if fleet.vehicle else None,
            driver_id=fleet.driver.id if fleet.driver else None,
            start_depot_id=setting.start.id if setting.start else None,
            end_depot_id=setting.end.id if setting.end else None,
            start_time=route_start(setting, fleet),
        )  # fmt: skip
        view = await route_service.create(uow, body)
        view.route.optimized_at = utcnow()
        await uow.flush()
        await outbox.record_event(
            uow, "route.optimized", "route", view.route.id, route_service.snapshot(view)
        )
        route_ids.append(view.route.id)
    return Saved(route_ids, required)
