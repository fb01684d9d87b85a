"""Solomon and Gehring & Homberger VRPTW instances as `vrp.Problem`s, and an independent checker of
the solutions (shared by the tests and bench/optimizer.py).

The convention is DIMACS/CVRPLIB's, the one the proven-optimal `distance_only_trunc1` best-known
values use: each arc's distance and travel time is the Euclidean distance truncated to one decimal.
The solver works in tenths (integers); the checker recomputes everything from the raw coordinates.

The data lives in `shared/data/vrp` beside the repository clone, not inside it."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from app.optimization import vrp

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "vrp"
SCALE = 10  # solver units per instance unit: one decimal, kept exactly as integers
FOLDERS = ("solomon", "homberger/200", "homberger/400")


@dataclass(frozen=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    points: list[tuple[int, int]]  # node 0 is the depot
    demand: list[int]
    ready: list[int]
    due: list[int]
    service: list[int]

    def arc(self, a: int, b: int) -> int:
        """Distance and travel time in tenths, truncated: exact in integers (the coordinates are)."""
        (xa, ya), (xb, yb) = self.points[a], self.points[b]
        return math.isqrt(SCALE * SCALE * ((xa - xb) ** 2 + (ya - yb) ** 2))

    def problem(self, time_limit_seconds: float, seed: int = 0) -> vrp.Problem:
        n = len(self.points)
        matrix = [[self.arc(a, b) for b in range(n)] for a in range(n)]
        jobs = [
            vrp.Job(location=i, service=self.service[i] * SCALE,
                    window=(self.ready[i] * SCALE, self.due[i] * SCALE), demand=(self.demand[i], 0, 0))
            for i in range(1, n)
        ]  # fmt: skip
        fleet = [
            vrp.Vehicle(start=0, end=0, capacity=(self.capacity, None, None),
                        shift=(self.ready[0] * SCALE, self.due[0] * SCALE))
            for _ in range(self.vehicles)
        ]  # fmt: skip
        return vrp.Problem(matrix, matrix, jobs, fleet, time_limit_seconds, seed)


def names() -> list[str]:
    """Every instance in the data, Solomon first, then by size."""
    return [path.stem for folder in FOLDERS for path in sorted((DATA / folder).glob("*.txt"))]


def load(name: str) -> Instance:
    found = [path for folder in FOLDERS if (path := DATA / folder / f"{name}.txt").is_file()]
    if not found:
        raise FileNotFoundError(f"no instance {name} under {DATA}")
    path = found[0]
    lines = [line.split() for line in path.read_text().splitlines()]
    # The fleet line is the first one of two numbers; each node is a line of seven.
    vehicles, capacity = next(map(int, f) for f in lines if len(f) == 2 and all(x.isdigit() for x in f))
    rows = [list(map(int, f)) for f in lines if len(f) == 7 and all(x.isdigit() for x in f)]
    return Instance(
        name, vehicles, capacity,
        points=[(r[1], r[2]) for r in rows], demand=[r[3] for r in rows],
        ready=[r[4] for r in rows], due=[r[5] for r in rows], service=[r[6] for r in rows],
    )  # fmt: skip


def bks(name: str) -> float:
    """The distance-only best-known (for Solomon: proven optimal) distance under this convention."""
    with (DATA / "bks.csv").open() as f:
        for row in csv.DictReader(f):
            if row["instance"] == name and row["objective"] == "distance_only_trunc1":
                return float(row["bks_distance"])
    raise KeyError(name)


def distance(instance: Instance, solution: vrp.Solution) -> float:
    """Total distance recomputed from the coordinates, in instance units."""
    tenths = 0
    for route in solution.routes:
        nodes = [0, *(j + 1 for j in route.jobs), 0]
        tenths += sum(instance.arc(a, b) for a, b in zip(nodes, nodes[1:], strict=False))
    return tenths / SCALE


def violations(instance: Instance, solution: vrp.Solution) -> list[str]:
    """Every broken rule, recomputed from the raw instance; nothing the solver says is trusted.

    The tours themselves: each customer served exactly once or reported dropped (never both), the
    fleet size, capacity, windows (service may start late in no case), back before the depot closes.
    Then the solver's own report must be a schedule the tour can keep: every stated service start
    inside its window and no earlier than the previous stop plus service and travel allow, a
    departure no earlier than the depot opens, an end no earlier than the return allows and no later
    than the depot closes, and the stated distance equal to the recomputed one."""
    problems: list[str] = []
    customers = len(instance.points) - 1
    served = [j for r in solution.routes for j in r.jobs]
    if sorted(served) != sorted(set(served)) or not set(served) <= set(range(customers)):
        problems.append("a customer is served twice, or an unknown one is")
    if set(served) | set(solution.dropped) != set(range(customers)) or set(served) & set(solution.dropped):
        problems.append("served and dropped customers do not partition the customers")
    vehicles = [r.vehicle for r in solution.routes]
    if len(set(vehicles)) != len(vehicles) or not set(vehicles) <= set(range(instance.vehicles)):
        problems.append(f"vehicles {vehicles} are not distinct vehicles of a fleet of {instance.vehicles}")
    for route in solution.routes:
        problems += _tour(instance, route) + _report(instance, route)
    return problems


def _tour(instance: Instance, route: vrp.Route) -> list[str]:
    problems: list[str] = []
    nodes = [j + 1 for j in route.jobs]
    if not nodes:
        problems.append(f"vehicle {route.vehicle} has an empty route")
    if sum(instance.demand[c] for c in nodes) > instance.capacity:
        problems.append(f"vehicle {route.vehicle} over capacity")
    clock, here = instance.ready[0] * SCALE, 0  # tenths of a time unit, as integers
    for c in nodes:
        clock = max(clock + instance.arc(here, c), instance.ready[c] * SCALE)
        if clock > instance.due[c] * SCALE:
            problems.append(f"customer {c} served at {clock / SCALE} after its due {instance.due[c]}")
        clock += instance.service[c] * SCALE
        here = c
    if clock + instance.arc(here, 0) > instance.due[0] * SCALE:
        problems.append(f"vehicle {route.vehicle} back after the depot closes")
    return problems


def _report(instance: Instance, route: vrp.Route) -> list[str]:
    problems: list[str] = []
    nodes = [j + 1 for j in route.jobs]
    if len(route.arrivals) != len(nodes):
        return [f"vehicle {route.vehicle} reports {len(route.arrivals)} arrivals for {len(nodes)} stops"]
    if route.start_time < instance.ready[0] * SCALE:
        problems.append(f"vehicle {route.vehicle} leaves at {route.start_time} before the depot opens")
    ready, here = route.start_time, 0
    for c, begin in zip(nodes, route.arrivals, strict=True):
        if (
            begin < ready + instance.arc(here, c)
            or not instance.ready[c] * SCALE <= begin <= instance.due[c] * SCALE
        ):
            problems.append(f"vehicle {route.vehicle} cannot begin customer {c} at the stated {begin}")
        ready, here = begin + instance.service[c] * SCALE, c
    if not ready + instance.arc(here, 0) <= route.end_time <= instance.due[0] * SCALE:
        problems.append(f"vehicle {route.vehicle} cannot be back at the stated {route.end_time}")
    stops = [0, *nodes, 0]
    if route.distance != sum(instance.arc(a, b) for a, b in zip(stops, stops[1:], strict=False)):
        problems.append(
            f"vehicle {route.vehicle} states distance {route.distance}, the tour measures otherwise"
        )
    return problems
