"""The vehicle routing problem with time windows. Pure: a `Problem` in, a `Solution` out, no database
and no I/O, so it is tested on the Solomon benchmarks directly.

Two engines search for the routes: PyVRP (the default) and OR-Tools. `OPTIMIZER_ENGINE` picks one and
a caller may name one. An engine only decides which vehicle visits which jobs in which order; the
timing of each route (`schedule.py`) and the reason given for each job left out (`reasons.py`) are
computed here from that order, so both engines answer in exactly the same terms.

Units are the caller's: times are integers on one clock (seconds from the branch's midnight in the
app, Solomon time units x 10 in the benchmarks), distances integers, loads integers (scaled by the
caller).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from app.optimization import reasons, schedule

Reason = Literal["no_vehicle", "capacity", "time_window", "shift_length"]
Engine = Literal["pyvrp", "ortools"]
ENGINES: tuple[Engine, ...] = get_args(Engine)
DIMENSIONS = 3  # weight, volume, items
HORIZON = 2 * 86_400


@dataclass(frozen=True)
class Job:
    location: int  # index into the problem's matrices
    service: int = 0
    window: tuple[int, int] | None = None  # service must begin inside it
    demand: tuple[int, ...] = (0, 0, 0)
    priority: int = 0  # 0..3: a job is never left out to make room for jobs of a lower priority


@dataclass(frozen=True)
class Vehicle:
    start: int | None = None  # location index; None: starts at its first stop
    end: int | None = None  # None: ends at its last stop
    capacity: tuple[int | None, ...] = (None, None, None)  # None = unlimited
    shift: tuple[int, int] = (0, HORIZON)  # may not start before / be back after
    start_time: int | None = None  # fixed departure (else anywhere inside `shift`)


@dataclass(frozen=True)
class Problem:
    distances: list[list[int]]
    durations: list[list[int]]
    jobs: list[Job]
    vehicles: list[Vehicle]
    time_limit_seconds: float = 5.0
    seed: int = 0  # the same problem and seed give the same solution when the search converges in time


@dataclass(frozen=True)
class Route:
    vehicle: int
    jobs: list[int]  # job indices in visiting order
    arrivals: list[int]  # service begins (after any wait), one per job
    distance: int
    start_time: int  # leaves the start depot (without one: reaches the first stop)
    end_time: int  # back at the end depot (without one: done at the last stop)


@dataclass
class Solution:
    routes: list[Route]
    dropped: dict[int, Reason] = field(default_factory=dict)  # job index -> reason

    @property
    def distance(self) -> int:
        return sum(r.distance for r in self.routes)


Plan = dict[int, list[int]]  # what an engine answers: vehicle index -> its jobs in visiting order


def solve(problem: Problem, engine: Engine | None = None) -> Solution:
    """Routes that serve every job the fleet can, least total distance first and fewest vehicles
    second; `engine` None means the deployment's `OPTIMIZER_ENGINE`."""
    chosen = engine if engine is not None else _configured_engine()
    if chosen not in ENGINES:
        raise ValueError(f"unknown optimizer engine {chosen!r}; expected one of {', '.join(ENGINES)}")
    if not problem.jobs:
        return Solution([])
    if not problem.vehicles:
        return Solution([], {j: "no_vehicle" for j in range(len(problem.jobs))})
    plan = _plan(problem, chosen)
    routes = [_route(problem, v, order) for v, order in sorted(plan.items()) if order]
    served = {j for r in routes for j in r.jobs}
    dropped = [j for j in range(len(problem.jobs)) if j not in served]
    return Solution(routes, reasons.classify(problem, routes, dropped))


def _route(problem: Problem, v: int, order: list[int]) -> Route:
    vehicle = problem.vehicles[v]
    timeline = schedule.reported(problem, vehicle, order)
    return Route(
        v, list(order), timeline.starts, schedule.distance(problem, vehicle, order),
        timeline.departure, timeline.end,
    )  # fmt: skip


def _plan(problem: Problem, engine: Engine) -> Plan:
    # Imported here: only a process that solves loads an engine's native library (the API's solver
    # processes load both up front, so a first solve does not wait for the import).
    if engine == "pyvrp":
        from app.optimization import engine_pyvrp

        return engine_pyvrp.plan(problem)
    from app.optimization import engine_ortools

    return engine_ortools.plan(problem)


def _configured_engine() -> Engine:
    from app.settings import get_settings

    return get_settings().optimizer_engine
