"""The vehicle routing problem with time windows, solved by OR-Tools. Pure: a `Problem` in, a
`Solution` out, no database and no I/O, so it is tested on the Solomon benchmarks directly.

Units are the caller's: times are integers on one clock (seconds from the branch's midnight in the
app, Solomon time units in the benchmarks), distances integers, loads integers (scaled by the caller).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # type: ignore[import-untyped]

Reason = Literal["no_vehicle", "capacity", "time_window", "shift_length"]
DIMENSIONS = 3  # weight, volume, items
HORIZON = 2 * 86_400
PRIORITY_STEP = 10  # one priority step outweighs nine missions of the priority below


@dataclass(frozen=True)
class Job:
    location: int  # index into the problem's matrices
    service: int = 0
    window: tuple[int, int] | None = None  # service must begin inside it
    demand: tuple[int, ...] = (0, 0, 0)
    priority: int = 0  # 0..3, higher is kept first


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


@dataclass(frozen=True)
class Route:
    vehicle: int
    jobs: list[int]  # job indices in visiting order
    arrivals: list[int]  # service begins (after any wait), one per job
    distance: int
    start_time: int
    end_time: int


@dataclass
class Solution:
    routes: list[Route]
    dropped: dict[int, Reason] = field(default_factory=dict)  # job index -> reason

    @property
    def distance(self) -> int:
        return sum(r.distance for r in self.routes)


class _Nodes:
    """Solver nodes: the depot locations, one 'nowhere' node (zero travel both ways) when a vehicle
    lacks a start or end depot, then one node per job (jobs may share a location). The nowhere node
    exists only as some vehicle's start or end: any other node is a stop the solver must visit."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        depots = sorted({loc for v in problem.vehicles for loc in (v.start, v.end) if loc is not None})
        self.location: list[int | None] = list(depots)
        self.depot_node: dict[int | None, int] = {loc: i for i, loc in enumerate(depots)}
        if any(loc is None for v in problem.vehicles for loc in (v.start, v.end)):
            self.depot_node[None] = len(self.location)
            self.location.append(None)
        self.first_job = len(self.location)
        self.location += [job.location for job in problem.jobs]
        self.service = [0] * self.first_job + [job.service for job in problem.jobs]

    def __len__(self) -> int:
        return len(self.location)

    def job(self, node: int) -> int | None:
        return node - self.first_job if node >= self.first_job else None

    def depot(self, location: int | None) -> int:
        return self.depot_node[location]

    def distance(self, a: int, b: int) -> int:
        la, lb = self.location[a], self.location[b]
        return 0 if la is None or lb is None else self.problem.distances[la][lb]

    def travel(self, a: int, b: int) -> int:
        la, lb = self.location[a], self.location[b]
        return 0 if la is None or lb is None else self.problem.durations[la][lb]


def solve(problem: Problem) -> Solution:
    jobs, vehicles = problem.jobs, problem.vehicles
    if not jobs:
        return Solution([])
    if not vehicles:
        return Solution([], {i: "no_vehicle" for i in range(len(jobs))})
    nodes = _Nodes(problem)
    manager = pywrapcp.RoutingIndexManager(
        len(nodes), len(vehicles),
        [nodes.depot(v.start) for v in vehicles], [nodes.depot(v.end) for v in vehicles],
    )  # fmt: skip
    routing = pywrapcp.RoutingModel(manager)

    # Matrices, not Python callbacks: the search evaluates arcs millions of times, and a callback
    # into Python per arc costs most of the time limit.
    size = range(len(nodes))
    distance_index = routing.RegisterTransitMatrix([[nodes.distance(a, b) for b in size] for a in size])
    time_index = routing.RegisterTransitMatrix(
        [[nodes.service[a] + nodes.travel(a, b) for b in size] for a in size]
    )
    routing.SetArcCostEvaluatorOfAllVehicles(distance_index)
    # Slack is waiting for a window to open; a vehicle may wait as long as its day allows.
    horizon = max(HORIZON, *(job.window[1] for job in jobs if job.window), *(v.shift[1] for v in vehicles))
    routing.AddDimension(time_index, horizon, horizon, False, "Time")
    time = routing.GetDimensionOrDie("Time")
    # A drop costs more than any detour that could serve the mission (at most two of the longest
    # arcs), so only infeasible missions are left out. Not much more: guided local search scales its
    # penalties from the first solution's cost, and a huge drop cost there would swamp distances.
    drop_base = 2 * max((max(row) for row in problem.distances), default=0) + 1
    for j, job in enumerate(jobs):
        index = manager.NodeToIndex(nodes.first_job + j)
        if job.window is not None:
            end = min(horizon, job.window[1])
            time.CumulVar(index).SetRange(min(max(0, job.window[0]), end), end)
        routing.AddDisjunction([index], drop_base * PRIORITY_STEP ** max(0, min(job.priority, 3)))
    for v, vehicle in enumerate(vehicles):
        begin, finish = max(0, vehicle.shift[0]), min(horizon, vehicle.shift[1])
        start_var = time.CumulVar(routing.Start(v))
        if vehicle.start_time is not None:
            start_var.SetRange(vehicle.start_time, vehicle.start_time)
        else:
            start_var.SetRange(begin, max(begin, finish))
        time.CumulVar(routing.End(v)).SetRange(0, finish)
        # Departing as late as possible (then as early back) keeps free starts from idling at the depot.
        routing.AddVariableMaximizedByFinalizer(start_var)
        routing.AddVariableMinimizedByFinalizer(time.CumulVar(routing.End(v)))
    _add_capacities(routing, manager, nodes, problem)

    params = pywrapcp.DefaultRoutingSearchParameters()
    # Cheapest insertion rather than PATH_CHEAPEST_ARC: on Solomon C101/R101/RC101 (3 s) it reaches
    # 0.0/2.1/2.0 % above the best known distance where PATH_CHEAPEST_ARC stays at 3.1/3.1/11.2 %.
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(problem.time_limit_seconds * 1000)))
    assignment = routing.SolveWithParameters(params)
    if assignment is None:  # no first solution at all: treat every job as dropped
        return Solution([], _classify(problem, [], range(len(jobs))))

    routes: list[Route] = []
    served: set[int] = set()
    for v in range(len(vehicles)):
        index = routing.Start(v)
        order: list[int] = []
        arrivals: list[int] = []
        distance = 0
        while not routing.IsEnd(index):
            following = assignment.Value(routing.NextVar(index))
            served_job = nodes.job(manager.IndexToNode(index))
            if served_job is not None:
                order.append(served_job)
                arrivals.append(assignment.Min(time.CumulVar(index)))
            distance += nodes.distance(manager.IndexToNode(index), manager.IndexToNode(following))
            index = following
        if order:
            served.update(order)
            start_time = assignment.Min(time.CumulVar(routing.Start(v)))
            end_time = assignment.Min(time.CumulVar(routing.End(v)))
            routes.append(Route(v, order, arrivals, distance, start_time, end_time))
    dropped = [j for j in range(len(jobs)) if j not in served]
    return Solution(routes, _classify(problem, routes, dropped))


def _add_capacities(
    routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager, nodes: _Nodes, problem: Problem
) -> None:
    for d in range(DIMENSIONS):
        limited = [c for v in problem.vehicles if (c := v.capacity[d]) is not None]
        if not limited or not any(job.demand[d] for job in problem.jobs):
            continue
        unlimited = max(sum(job.demand[d] for job in problem.jobs), max(limited))
        demand = [0] * nodes.first_job + [job.demand[d] for job in problem.jobs]
        routing.AddDimensionWithVehicleCapacity(
            routing.RegisterUnaryTransitVector(demand), 0,
            [unlimited if v.capacity[d] is None else v.capacity[d] for v in problem.vehicles],
            True, f"Load{d}",
        )  # fmt: skip


# --- why a job was left out ---------------------------------------------------------------------


def _timeline(problem: Problem, vehicle: Vehicle, order: list[int]) -> tuple[bool, int]:
    """Drive `order` as early as the vehicle may: (every window met, time back at the end)."""
    clock = vehicle.start_time if vehicle.start_time is not None else vehicle.shift[0]
    here = vehicle.start
    windows_ok = True
    for j in order:
        job = problem.jobs[j]
        if here is not None:
            clock += problem.durations[here][job.location]
        if job.window is not None:
            if clock > job.window[1]:
                windows_ok = False
            clock = max(clock, job.window[0])
        clock += job.service
        here = job.location
    if here is not None and vehicle.end is not None:
        clock += problem.durations[here][vehicle.end]
    return windows_ok, clock


def _fits(problem: Problem, vehicle: Vehicle, load: list[int], job: Job) -> bool:
    return all(c is None or load[d] + job.demand[d] <= c for d, c in enumerate(vehicle.capacity))


def _classify(problem: Problem, routes: list[Route], dropped: Iterable[int]) -> dict[int, Reason]:
    """A reason per dropped job: the first constraint that stops every vehicle from taking it.
    Capacity if no vehicle has room left; else time window if no insertion meets the windows;
    else shift length (a window-feasible insertion exists but runs past the shift or depot hours)."""
    by_vehicle = {r.vehicle: r.jobs for r in routes}
    reasons: dict[int, Reason] = {}
    for j in dropped:
        job = problem.jobs[j]
        room = windows = False
        for v, vehicle in enumerate(problem.vehicles):
            order = by_vehicle.get(v, [])
            load = [sum(problem.jobs[k].demand[d] for k in order) for d in range(DIMENSIONS)]
            if not _fits(problem, vehicle, load, job):
                continue
            room = True
            for position in range(len(order) + 1):
                ok, _ = _timeline(problem, vehicle, [*order[:position], j, *order[position:]])
                if ok:
                    windows = True
                    break
            if windows:
                break
        reasons[j] = "capacity" if not room else "time_window" if not windows else "shift_length"
    return reasons
