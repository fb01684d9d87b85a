"""The OR-Tools engine: the routing library's constraint model searched by guided local search.

Every job is a disjunction (a node the search may leave out at a price), time and loads are
dimensions with hard bounds. `Problem.seed` is not used: this search has no random choices.
"""

from __future__ import annotations

from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # type: ignore[import-untyped]

from app.optimization.vrp import DIMENSIONS, HORIZON, Plan, Problem


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


def plan(problem: Problem) -> Plan:
    jobs, vehicles = problem.jobs, problem.vehicles
    nodes = _Nodes(problem)
    manager = pywrapcp.RoutingIndexManager(
        len(nodes), len(vehicles),
        [nodes.depot(v.start) for v in vehicles], [nodes.depot(v.end) for v in vehicles],
    )  # fmt: skip
    routing = pywrapcp.RoutingModel(manager)

    # Matrices, not Python callbacks: the search evaluates arcs millions of times, and a callback
    # into Python per arc costs most of the time limit. Arc costs are distances times one more than
    # the fleet size, and each used vehicle costs 1: all fixed costs together stay below one unit
    # of distance, so fewer vehicles only ever breaks ties.
    size = range(len(nodes))
    per_distance = len(vehicles) + 1
    cost_index = routing.RegisterTransitMatrix(
        [[nodes.distance(a, b) * per_distance for b in size] for a in size]
    )
    time_index = routing.RegisterTransitMatrix(
        [[nodes.service[a] + nodes.travel(a, b) for b in size] for a in size]
    )
    routing.SetArcCostEvaluatorOfAllVehicles(cost_index)
    routing.SetFixedCostOfAllVehicles(1)
    # Slack is waiting for a window to open; a vehicle may wait as long as its day allows.
    horizon = max(HORIZON, *(job.window[1] for job in jobs if job.window), *(v.shift[1] for v in vehicles))
    routing.AddDimension(time_index, horizon, horizon, False, "Time")
    time = routing.GetDimensionOrDie("Time")
    # A drop costs more than any detour that could serve the mission (at most two of the longest
    # arcs, plus a vehicle), so only infeasible missions are left out. Not much more: guided local
    # search scales its penalties from the first solution's cost, and a huge drop cost there would
    # swamp distances.
    drop_base = (2 * max((max(row) for row in problem.distances), default=0) + 1) * per_distance + 1
    # Priorities are strict: leaving out one job of a level costs more than leaving out every job
    # of all the levels below it. Only the levels present count, so one level costs no more than
    # plain drops (and at most 1001^3 x drop_base with four levels: far inside 64 bits).
    levels = sorted({_level(job.priority) for job in jobs})
    strictly_above = {level: (len(jobs) + 1) ** rank for rank, level in enumerate(levels)}
    for j, job in enumerate(jobs):
        index = manager.NodeToIndex(nodes.first_job + j)
        if job.window is not None:
            end = min(horizon, job.window[1])
            time.CumulVar(index).SetRange(min(max(0, job.window[0]), end), end)
        routing.AddDisjunction([index], drop_base * strictly_above[_level(job.priority)])
    for v, vehicle in enumerate(vehicles):
        begin, finish = max(0, vehicle.shift[0]), min(horizon, vehicle.shift[1])
        start_var = time.CumulVar(routing.Start(v))
        if vehicle.start_time is not None:
            start_var.SetRange(vehicle.start_time, vehicle.start_time)
        else:
            start_var.SetRange(begin, max(begin, finish))
        time.CumulVar(routing.End(v)).SetRange(0, finish)
    _add_capacities(routing, manager, nodes, problem)

    params = pywrapcp.DefaultRoutingSearchParameters()
    # Cheapest insertion rather than PATH_CHEAPEST_ARC: on Solomon C101/R101/RC101 (3 s) it reaches
    # 0.0/2.1/2.0 % above the best known distance where PATH_CHEAPEST_ARC stays at 3.1/3.1/11.2 %.
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(problem.time_limit_seconds * 1000)))
    assignment = routing.SolveWithParameters(params)
    if assignment is None:  # no first solution at all: every job is left out
        return {}

    routes: Plan = {}
    for v in range(len(vehicles)):
        index = assignment.Value(routing.NextVar(routing.Start(v)))
        order: list[int] = []
        while not routing.IsEnd(index):
            served = nodes.job(manager.IndexToNode(index))
            if served is not None:
                order.append(served)
            index = assignment.Value(routing.NextVar(index))
        if order:
            routes[v] = order
    return routes


def _level(priority: int) -> int:
    return max(0, min(priority, 3))


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
