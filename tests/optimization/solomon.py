"""Solomon / Gehring & Homberger VRPTW instances as `vrp.Problem`s (shared by tests and bench).

The data lives in `shared/data/vrp` beside the repository clone, not inside it."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from app.optimization import vrp

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "vrp"
# Integer solver units: coordinates are scaled by 100. Travel times are rounded up, so a tour that
# is feasible for the solver is feasible in exact (double) Euclidean time too.
SCALE = 100


@dataclass(frozen=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    points: list[tuple[float, float]]  # node 0 is the depot
    demand: list[int]
    ready: list[int]
    due: list[int]
    service: list[int]

    def exact(self, a: int, b: int) -> float:
        return math.dist(self.points[a], self.points[b])

    def problem(self, time_limit_seconds: float) -> vrp.Problem:
        n = len(self.points)
        distances = [[round(self.exact(a, b) * SCALE) for b in range(n)] for a in range(n)]
        durations = [[math.ceil(self.exact(a, b) * SCALE - 1e-9) for b in range(n)] for a in range(n)]
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
        return vrp.Problem(distances, durations, jobs, fleet, time_limit_seconds)


def load(name: str) -> Instance:
    lines = (DATA / "solomon" / f"{name}.txt").read_text().splitlines()
    vehicles, capacity = map(int, lines[4].split())
    rows = [list(map(float, line.split())) for line in lines[9:] if line.strip()]
    return Instance(
        name, vehicles, capacity,
        points=[(r[1], r[2]) for r in rows], demand=[int(r[3]) for r in rows],
        ready=[int(r[4]) for r in rows], due=[int(r[5]) for r in rows], service=[int(r[6]) for r in rows],
    )  # fmt: skip


def bks(name: str, objective: str = "distance_only") -> float:
    with (DATA / "bks.csv").open() as f:
        for row in csv.DictReader(f):
            if row["instance"] == name and row["objective"] == objective:
                return float(row["bks_distance"])
    raise KeyError(name)


def exact_distance(instance: Instance, solution: vrp.Solution) -> float:
    total = 0.0
    for route in solution.routes:
        nodes = [0, *(j + 1 for j in route.jobs), 0]
        total += sum(instance.exact(a, b) for a, b in zip(nodes, nodes[1:], strict=False))
    return total


def violations(instance: Instance, solution: vrp.Solution) -> list[str]:
    """Every broken rule of the tour in exact Euclidean time: capacity, windows, depot due time,
    fleet size, each customer exactly once."""
    problems: list[str] = []
    seen = [j + 1 for r in solution.routes for j in r.jobs]
    if sorted(seen) != list(range(1, len(instance.points))):
        problems.append("customers not served exactly once")
    if len(solution.routes) > instance.vehicles:
        problems.append("fleet size exceeded")
    for route in solution.routes:
        nodes = [j + 1 for j in route.jobs]
        if sum(instance.demand[c] for c in nodes) > instance.capacity:
            problems.append(f"vehicle {route.vehicle} over capacity")
        clock, here = float(instance.ready[0]), 0
        for c in nodes:
            clock = max(clock + instance.exact(here, c), instance.ready[c])
            if clock > instance.due[c] + 1e-6:
                problems.append(f"customer {c} served at {clock:.2f} after its due {instance.due[c]}")
            clock += instance.service[c]
            here = c
        if clock + instance.exact(here, 0) > instance.due[0] + 1e-6:
            problems.append(f"vehicle {route.vehicle} back after the depot closes")
    return problems
