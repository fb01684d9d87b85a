"""The PyVRP engine (the default): PyVRP's iterated local search over its own model.

How the problem maps onto PyVRP:
- Locations are the problem's matrix indices plus one 'nowhere' location, at zero distance and time
  from everywhere: the depot of a vehicle without a start or an end.
- Vehicles with the same depots, capacities and hours share a vehicle type; the search treats them
  as interchangeable, and they are handed out in index order afterwards.
- Jobs are optional clients whose prize is worth more than any detour, so only what does not fit is
  left out. Priorities are served lexicographically (`plan`), which keeps every number small.
- Loads are only modelled in the dimensions some vehicle limits and some job uses.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyvrp
from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement

from app.optimization import schedule
from app.optimization.vrp import DIMENSIONS, Plan, Problem

# A search that has not improved for this many iterations (per client, with a floor) has
# converged and stops before the time limit: small problems answer at once, and answer the same
# for the same seed however fast the machine is. On the 100-customer Solomon instances that is
# about 8 s without progress; the longest stall later broken seen there was 4,250 iterations.
CONVERGED_PER_CLIENT = 200
CONVERGED_AT_LEAST = 2_000
# PyVRP's default penalty bounds per unit of excess load or time assume distance costs 1 per unit.
DEFAULT_PENALTY = pyvrp.PenaltyParams()


def plan(problem: Problem) -> Plan:
    """Serve priorities lexicographically: first as many jobs of the highest priority as fit, then,
    with those required, as many of the next as fit, and so on. A job is thus never left out to make
    room for jobs of a lower priority, however many. Each stage starts from the previous stage's
    routes and gets a share of the time limit proportional to its size."""
    fleet = [v for v, vehicle in enumerate(problem.vehicles)
             if schedule.earliest_departure(vehicle) <= vehicle.shift[1]]  # fmt: skip
    # A job no vehicle can serve even alone would only send the search after infeasible insertions.
    candidates = [
        j for j in range(len(problem.jobs))
        if any(schedule.feasible(problem, problem.vehicles[v], [j]) for v in fleet)
    ]  # fmt: skip
    if not candidates:
        return {}
    model = _Model(problem, fleet)
    levels = sorted({problem.jobs[j].priority for j in candidates}, reverse=True)
    sizes = [sum(1 for j in candidates if problem.jobs[j].priority >= level) for level in levels]
    deadline = time.perf_counter() + problem.time_limit_seconds
    routes: Plan = {}
    for k, level in enumerate(levels):
        kept = [j for order in routes.values() for j in order]
        new = [j for j in candidates if problem.jobs[j].priority == level]
        seconds = max(0.0, deadline - time.perf_counter()) * sizes[k] / sum(sizes[k:])
        routes = model.search(kept, new, routes, seconds)
    return routes


class _Model:
    """The parts of the PyVRP data every stage shares: locations, matrices, depots, vehicle types."""

    def __init__(self, problem: Problem, fleet: list[int]) -> None:
        self.problem = problem
        size = len(problem.distances)
        self.distances = np.zeros((size + 1, size + 1), dtype=np.int64)
        self.distances[:size, :size] = problem.distances
        self.durations = np.zeros((size + 1, size + 1), dtype=np.int64)
        self.durations[:size, :size] = problem.durations
        self.locations = [pyvrp.Location(0, 0) for _ in range(size + 1)]  # only the matrices matter
        vehicles = [problem.vehicles[v] for v in fleet]
        ends = sorted(
            {loc for vehicle in vehicles for loc in (vehicle.start, vehicle.end) if loc is not None}
        )
        depot: dict[int | None, int] = {loc: i for i, loc in enumerate(ends)}
        depot[None] = len(ends)  # the nowhere location; unused unless some vehicle lacks a depot
        self.depots = [pyvrp.Depot(loc) for loc in ends] + [pyvrp.Depot(size)]

        self.dimensions = [
            d for d in range(DIMENSIONS)
            if any(vehicle.capacity[d] is not None for vehicle in vehicles)
            and any(job.demand[d] for job in problem.jobs)
        ]  # fmt: skip
        unlimited = {d: sum(job.demand[d] for job in problem.jobs) for d in self.dimensions}
        # Distance costs one more than the fleet size per unit and each used vehicle costs 1: all
        # vehicles together cost less than one unit of distance, so fewer vehicles only breaks ties.
        self.per_distance = len(fleet) + 1
        groups: dict[tuple[int, int, tuple[int, ...], int, int, int], list[int]] = {}
        for v, vehicle in zip(fleet, vehicles, strict=True):
            capacity = tuple(
                c if (c := vehicle.capacity[d]) is not None else unlimited[d] for d in self.dimensions
            )
            earliest = max(0, schedule.earliest_departure(vehicle))
            latest = earliest if vehicle.start_time is not None else vehicle.shift[1]
            key = (depot[vehicle.start], depot[vehicle.end], capacity, earliest, latest, vehicle.shift[1])
            groups.setdefault(key, []).append(v)
        self.members = list(groups.values())
        self.type_of = {v: t for t, members in enumerate(self.members) for v in members}
        self.vehicle_types = [
            pyvrp.VehicleType(
                len(members), capacity=list(capacity), start_depot=start, end_depot=end, fixed_cost=1,
                tw_early=earliest, tw_late=finish, start_late=latest, unit_distance_cost=self.per_distance,
            )
            for (start, end, capacity, earliest, latest, finish), members in groups.items()
        ]  # fmt: skip
        # Worth more than serving the job can cost: a detour is at most two of the longest arcs,
        # plus a vehicle of its own.
        self.prize = (2 * int(self.distances.max()) + 1) * self.per_distance + 1
        # Ours costs `per_distance`: scaling the bounds alike keeps the balance PyVRP is tuned for
        # between distance and the infeasible moves its search passes through.
        self.params = pyvrp.SolveParams(
            penalty=pyvrp.PenaltyParams(
                min_penalty=DEFAULT_PENALTY.min_penalty * self.per_distance,
                max_penalty=DEFAULT_PENALTY.max_penalty * self.per_distance,
            )
        )

    def search(self, required: Sequence[int], optional: Sequence[int], start: Plan, seconds: float) -> Plan:
        """Routes serving all of `required` (as `start` does) and as many of `optional` as fit."""
        jobs = [*required, *optional]
        clients = [self._client(j, required=n < len(required)) for n, j in enumerate(jobs)]
        # pyvrp's stub types a matrix as `np.ndarray[int]`, which numpy reads as its shape.
        data = pyvrp.ProblemData(
            self.locations, clients, self.depots, self.vehicle_types, [self.distances], [self.durations]  # type: ignore[list-item]
        )  # fmt: skip
        client_of = {j: n for n, j in enumerate(jobs)}
        initial = None
        if start:
            initial = pyvrp.Solution(
                data, [pyvrp.Route(data, [client_of[j] for j in order], self.type_of[v])
                       for v, order in sorted(start.items())],
            )  # fmt: skip
        converged = max(CONVERGED_AT_LEAST, CONVERGED_PER_CLIENT * len(clients))
        result = pyvrp.solve(
            data, MultipleCriteria([MaxRuntime(seconds), NoImprovement(converged)]),
            seed=self.problem.seed, collect_stats=False, params=self.params, initial_solution=initial,
        )  # fmt: skip
        if not result.best.is_feasible():  # found nothing feasible: keep what the last stage had
            return start
        routes: Plan = {}
        unused = [list(members) for members in self.members]
        for route in result.best.routes():
            v = unused[route.vehicle_type()].pop(0)
            routes[v] = [jobs[activity.idx] for activity in route.schedule() if activity.is_client()]
        return routes

    def _client(self, j: int, *, required: bool) -> pyvrp.Client:
        job = self.problem.jobs[j]
        window: dict[str, Any] = (
            {} if job.window is None else {"tw_early": max(0, job.window[0]), "tw_late": job.window[1]}
        )
        return pyvrp.Client(
            job.location, delivery=[job.demand[d] for d in self.dimensions], service_duration=job.service,
            prize=0 if required else self.prize, required=required, **window,
        )  # fmt: skip
