"""Benchmark instances: each engine's solutions pass the independent checker close to the optimum,
and the checker itself accepts the known optimal tours and rejects broken ones."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from app.optimization import schedule, vrp
from tests.optimization import solomon

pytestmark = pytest.mark.skipif(
    not (solomon.DATA / "solomon").is_dir(), reason="shared/data/vrp is not beside the clone"
)

# Allowed gap to the proven optimum at 2 s; bench/optimizer.py measures the real figures. Loose
# enough for a busy machine.
GAPS = {
    ("C101", "pyvrp"): 0.005,
    ("C101", "ortools"): 0.02,
    ("RC101", "pyvrp"): 0.02,
    ("RC101", "ortools"): 0.05,
}


@pytest.mark.parametrize("name", ["C101", "RC101"])
def test_feasible_and_close_to_the_optimum(engine: vrp.Engine, name: str) -> None:
    instance = solomon.load(name)
    solution = vrp.solve(instance.problem(2), engine)
    assert solution.dropped == {}
    assert solomon.violations(instance, solution) == []
    assert solomon.distance(instance, solution) <= solomon.bks(name) * (1 + GAPS[name, engine])


def _optimal(name: str) -> tuple[solomon.Instance, vrp.Solution]:
    """The LKH-3 tour that reaches the proven optimum, with a report made by the app's scheduler."""
    instance = solomon.load(name)
    problem = instance.problem(0)
    text = (solomon.DATA / "bks_solutions" / "solomon_distance_trunc1" / f"{name}.txt").read_text()
    orders = [
        [int(c) - 1 for c in line.split(":")[1].split()]
        for line in text.splitlines()
        if line.startswith("Route")
    ]
    routes = []
    for v, order in enumerate(orders):
        vehicle = problem.vehicles[v]
        timeline = schedule.reported(problem, vehicle, order)
        distance = schedule.distance(problem, vehicle, order)
        routes.append(vrp.Route(v, order, timeline.starts, distance, timeline.departure, timeline.end))
    return instance, vrp.Solution(routes)


@pytest.mark.parametrize("name", ["C101", "R101", "RC208", "R211"])
def test_the_checker_accepts_the_optimal_tour_and_measures_its_distance(name: str) -> None:
    instance, solution = _optimal(name)
    assert solomon.violations(instance, solution) == []
    assert solomon.distance(instance, solution) == pytest.approx(solomon.bks(name), abs=1e-9)


def _swap_first_two(s: vrp.Solution) -> vrp.Solution:
    r = s.routes[0]
    return vrp.Solution([dataclasses.replace(r, jobs=[r.jobs[1], r.jobs[0], *r.jobs[2:]]), *s.routes[1:]])


def _misstate_distance(s: vrp.Solution) -> vrp.Solution:
    return vrp.Solution([dataclasses.replace(s.routes[0], distance=s.routes[0].distance - 1), *s.routes[1:]])


def _skip_a_service(s: vrp.Solution) -> vrp.Solution:
    r = s.routes[0]  # the second stop begins as if the first took no service time
    arrivals = [r.arrivals[0], r.arrivals[0] + 1, *r.arrivals[2:]]
    return vrp.Solution([dataclasses.replace(r, arrivals=arrivals), *s.routes[1:]])


def _serve_and_drop(s: vrp.Solution) -> vrp.Solution:
    return vrp.Solution(s.routes, {s.routes[0].jobs[0]: "capacity"})


def _leave_one_out(s: vrp.Solution) -> vrp.Solution:
    r = s.routes[0]
    return vrp.Solution([dataclasses.replace(r, jobs=r.jobs[1:], arrivals=r.arrivals[1:]), *s.routes[1:]])


def _merge_two_routes(s: vrp.Solution) -> vrp.Solution:
    a, b = s.routes[:2]
    merged = dataclasses.replace(a, jobs=a.jobs + b.jobs, arrivals=a.arrivals + b.arrivals)
    return vrp.Solution([merged, *s.routes[2:]])


def _one_vehicle_twice(s: vrp.Solution) -> vrp.Solution:
    return vrp.Solution(
        [s.routes[0], dataclasses.replace(s.routes[1], vehicle=s.routes[0].vehicle), *s.routes[2:]]
    )


@pytest.mark.parametrize(
    "corrupt",
    [_swap_first_two, _misstate_distance, _skip_a_service, _serve_and_drop, _leave_one_out, _merge_two_routes,
     _one_vehicle_twice],
)  # fmt: skip
def test_the_checker_rejects_a_broken_solution(corrupt: Callable[[vrp.Solution], vrp.Solution]) -> None:
    instance, solution = _optimal("C101")
    assert solomon.violations(instance, corrupt(solution)) != []
