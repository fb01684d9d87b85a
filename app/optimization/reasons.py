"""Why a job was left out, told the same way whichever engine planned the routes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from app.optimization import schedule

if TYPE_CHECKING:
    from app.optimization.vrp import Job, Problem, Reason, Route, Vehicle


def classify(problem: Problem, routes: list[Route], dropped: Iterable[int]) -> dict[int, Reason]:
    """A reason per dropped job: the first constraint that stops every vehicle from taking it.
    Capacity if no vehicle has room left; else time window if no insertion meets the windows;
    else shift length (a window-feasible insertion exists but runs past the shift or depot hours)."""
    by_vehicle = {r.vehicle: r.jobs for r in routes}
    found: dict[int, Reason] = {}
    for j in dropped:
        job = problem.jobs[j]
        room = windows = False
        for v, vehicle in enumerate(problem.vehicles):
            order = by_vehicle.get(v, [])
            if not _fits(problem, vehicle, order, job):
                continue
            room = True
            windows = any(
                schedule.drive(problem, vehicle, [*order[:at], j, *order[at:]]).windows_met
                for at in range(len(order) + 1)
            )
            if windows:
                break
        found[j] = "capacity" if not room else "time_window" if not windows else "shift_length"
    return found


def _fits(problem: Problem, vehicle: Vehicle, order: list[int], job: Job) -> bool:
    return all(
        capacity is None or sum(problem.jobs[k].demand[d] for k in order) + job.demand[d] <= capacity
        for d, capacity in enumerate(vehicle.capacity)
    )
