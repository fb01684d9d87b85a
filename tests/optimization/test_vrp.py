"""The model's rules. Every test taking `engine` runs once per engine: both must honour all of them."""

from __future__ import annotations

import random

import pytest

from app.optimization import engine_ortools, engine_pyvrp, vrp
from app.settings import Settings, get_settings

LIMIT = 0.3  # seconds: these problems are tiny (OR-Tools searches the whole limit, PyVRP stops early)


def _problem(jobs: list[vrp.Job], fleet: list[vrp.Vehicle], n: int = 4, limit: float = LIMIT) -> vrp.Problem:
    """Locations on a line, 100 units apart; travel time equals distance."""
    m = [[abs(a - b) * 100 for b in range(n)] for a in range(n)]
    return vrp.Problem(m, m, jobs, fleet, limit)


def _units(dimension: int, amount: int) -> tuple[int, ...]:
    # The other two dimensions carry huge loads that no vehicle limits: they must not matter.
    return tuple(amount if d == dimension else 10**6 for d in range(vrp.DIMENSIONS))


@pytest.mark.parametrize("dimension", range(vrp.DIMENSIONS))
def test_capacity_in_each_dimension_drops_the_lower_priority(engine: vrp.Engine, dimension: int) -> None:
    capacity: list[int | None] = [None] * vrp.DIMENSIONS
    capacity[dimension] = 10
    jobs = [vrp.Job(1, demand=_units(dimension, 6)), vrp.Job(2, demand=_units(dimension, 6), priority=1)]
    solution = vrp.solve(_problem(jobs, [vrp.Vehicle(0, 0, capacity=tuple(capacity))]), engine)
    assert solution.dropped == {0: "capacity"}
    assert [r.jobs for r in solution.routes] == [[1]]


def test_a_second_vehicle_takes_what_the_first_has_no_room_for(engine: vrp.Engine) -> None:
    jobs = [vrp.Job(1, demand=(6, 0, 0)), vrp.Job(2, demand=(6, 0, 0))]
    fleet = [vrp.Vehicle(0, 0, capacity=(10, None, None))] * 2
    solution = vrp.solve(_problem(jobs, fleet), engine)
    assert solution.dropped == {}
    assert sorted(j for r in solution.routes for j in r.jobs) == [0, 1] and len(solution.routes) == 2


def test_one_job_of_a_higher_priority_outweighs_any_number_of_a_lower_one(engine: vrp.Engine) -> None:
    lower = [vrp.Job(1, demand=(1, 0, 0)) for _ in range(12)]
    jobs = [*lower, vrp.Job(2, demand=(12, 0, 0), priority=1)]
    solution = vrp.solve(_problem(jobs, [vrp.Vehicle(0, 0, capacity=(12, None, None))]), engine)
    assert [r.jobs for r in solution.routes] == [[12]]
    assert solution.dropped == dict.fromkeys(range(12), "capacity")


def test_priorities_are_kept_level_by_level(engine: vrp.Engine) -> None:
    jobs = [vrp.Job(1, demand=(5, 0, 0), priority=p) for p in (0, 3, 1)]
    solution = vrp.solve(_problem(jobs, [vrp.Vehicle(0, 0, capacity=(10, None, None))]), engine)
    assert solution.dropped == {0: "capacity"}
    assert sorted(solution.routes[0].jobs) == [1, 2]


def test_windows_order_the_stops_and_the_vehicle_waits(engine: vrp.Engine) -> None:
    jobs = [vrp.Job(3, service=10, window=(1000, 2000)), vrp.Job(1, service=10, window=(0, 500))]
    solution = vrp.solve(_problem(jobs, [vrp.Vehicle(0, 0, start_time=0)]), engine)
    (route,) = solution.routes
    assert (route.jobs, route.arrivals, route.distance) == ([1, 0], [100, 1000], 600)
    assert (route.start_time, route.end_time) == (0, 1310)


@pytest.mark.parametrize(
    ("service", "dropped", "arrivals"), [(50, {}, [100, 250]), (60, {1: "time_window"}, [100])]
)
def test_service_time_delays_the_next_stop(
    engine: vrp.Engine, service: int, dropped: dict[int, vrp.Reason], arrivals: list[int]
) -> None:
    jobs = [vrp.Job(1, service=service, window=(0, 100)), vrp.Job(2, window=(0, 250))]
    solution = vrp.solve(_problem(jobs, [vrp.Vehicle(0, 0, start_time=0)]), engine)
    assert solution.dropped == dropped
    assert solution.routes[0].arrivals == arrivals


def test_no_start_before_the_shift(engine: vrp.Engine) -> None:
    solution = vrp.solve(_problem([vrp.Job(1)], [vrp.Vehicle(0, 0, shift=(500, 10_000))]), engine)
    (route,) = solution.routes
    assert (route.start_time, route.arrivals, route.end_time) == (500, [600], 700)


def test_a_fixed_start_time_is_kept(engine: vrp.Engine) -> None:
    solution = vrp.solve(
        _problem([vrp.Job(1, window=(0, 5000))], [vrp.Vehicle(0, 0, start_time=300)]), engine
    )
    (route,) = solution.routes
    assert (route.start_time, route.arrivals, route.end_time) == (300, [400], 500)


def test_a_free_start_leaves_late_enough_to_absorb_waits_but_no_later(engine: vrp.Engine) -> None:
    # Waiting 800 for the second window; leaving later than 50 would miss the first one.
    jobs = [vrp.Job(1, window=(0, 150)), vrp.Job(2, window=(1000, 2000))]
    solution = vrp.solve(_problem(jobs, [vrp.Vehicle(0, 0, shift=(0, 10_000))]), engine)
    (route,) = solution.routes
    assert (route.start_time, route.arrivals, route.end_time) == (50, [150, 1000], 1200)
    # Nothing to wait for: it leaves at the start of its shift, not just in time for the deadline.
    solution = vrp.solve(_problem([vrp.Job(1, window=(0, 1000))], [vrp.Vehicle(0, 0)]), engine)
    assert (solution.routes[0].start_time, solution.routes[0].arrivals) == (0, [100])


@pytest.mark.parametrize(
    ("start", "end", "order", "distance"),
    [
        (0, 3, [0, 1], 300),
        (3, 0, [1, 0], 300),
        (None, 0, [1, 0], 200),
        (0, None, [0, 1], 200),
        (None, None, None, 100),
    ],
)
def test_start_and_end_depots(
    engine: vrp.Engine, start: int | None, end: int | None, order: list[int] | None, distance: int
) -> None:
    solution = vrp.solve(_problem([vrp.Job(1), vrp.Job(2)], [vrp.Vehicle(start, end)]), engine)
    (route,) = solution.routes
    assert route.distance == distance
    if order is not None:  # without depots either direction is as short
        assert route.jobs == order


def test_without_a_start_depot_the_route_starts_at_its_first_stop(engine: vrp.Engine) -> None:
    solution = vrp.solve(_problem([vrp.Job(2, window=(700, 900))], [vrp.Vehicle(None, 0)]), engine)
    (route,) = solution.routes
    assert (route.start_time, route.arrivals, route.end_time) == (700, [700], 900)


def test_fewer_vehicles_break_a_tie(engine: vrp.Engine) -> None:
    # Both jobs at one place and no depots: one vehicle or two drive the same distance (zero).
    solution = vrp.solve(_problem([vrp.Job(1), vrp.Job(1)], [vrp.Vehicle(), vrp.Vehicle()]), engine)
    assert len(solution.routes) == 1 and sorted(solution.routes[0].jobs) == [0, 1]


def test_drop_reason_no_vehicle(engine: vrp.Engine) -> None:
    assert vrp.solve(_problem([vrp.Job(1)], []), engine).dropped == {0: "no_vehicle"}


def test_drop_reason_time_window(engine: vrp.Engine) -> None:
    jobs = [vrp.Job(2, window=(0, 100))]  # 200 away from a depot left at 0
    solution = vrp.solve(_problem(jobs, [vrp.Vehicle(0, 0, start_time=0)]), engine)
    assert solution.dropped == {0: "time_window"} and solution.routes == []


def test_drop_reason_shift_length(engine: vrp.Engine) -> None:
    jobs = [vrp.Job(2, service=50)]  # 200 out, 50 service, 200 back: 450 > 400
    solution = vrp.solve(_problem(jobs, [vrp.Vehicle(0, 0, shift=(0, 400))]), engine)
    assert solution.dropped == {0: "shift_length"}


def test_a_vehicle_due_to_start_after_its_shift_serves_nothing(engine: vrp.Engine) -> None:
    solution = vrp.solve(_problem([vrp.Job(1)], [vrp.Vehicle(0, 0, shift=(0, 400), start_time=500)]), engine)
    assert solution.dropped == {0: "shift_length"} and solution.routes == []


def test_every_dropped_job_has_a_reason(engine: vrp.Engine) -> None:
    jobs = [
        vrp.Job(1, demand=(20, 0, 0)),  # more than the vehicle holds
        vrp.Job(3, window=(0, 100)),  # 300 away: closed before anyone arrives
        vrp.Job(2, service=400),  # fits every window, not the shift
        vrp.Job(1, window=(100, 200)),  # served
    ]
    solution = vrp.solve(
        _problem(jobs, [vrp.Vehicle(0, 0, capacity=(10, None, None), shift=(0, 600))]), engine
    )
    assert solution.dropped == {0: "capacity", 1: "time_window", 2: "shift_length"}
    assert [r.jobs for r in solution.routes] == [[3]]


def _random_problem(seed: int, limit: float) -> vrp.Problem:
    rng = random.Random(seed)
    points = [(rng.randint(0, 100), rng.randint(0, 100)) for _ in range(21)]
    m = [[round(((xa - xb) ** 2 + (ya - yb) ** 2) ** 0.5 * 10) for xb, yb in points] for xa, ya in points]
    jobs = []
    for i in range(1, len(points)):
        opens = rng.randint(0, 4000)
        jobs.append(vrp.Job(i, service=100, window=(opens, opens + 1500), demand=(rng.randint(1, 9), 0, 0),
                            priority=rng.randint(0, 1)))  # fmt: skip
    fleet = [vrp.Vehicle(0, 0, capacity=(30, None, None), shift=(0, 6000))] * 4
    return vrp.Problem(m, m, jobs, fleet, limit, seed=7)


def test_same_seed_same_solution(engine: vrp.Engine) -> None:
    # PyVRP stops when its search converges, well before this limit: the same iterations each run.
    problem = _random_problem(3, limit=3.0 if engine == "pyvrp" else 0.5)
    first = vrp.solve(problem, engine)
    assert first.routes and vrp.solve(problem, engine) == first


def test_old_positional_problems_still_work(engine: vrp.Engine) -> None:
    m = [[0, 100], [100, 0]]
    problem = vrp.Problem(m, m, [vrp.Job(1)], [vrp.Vehicle(0, 0)], LIMIT)
    assert problem.seed == 0
    assert vrp.solve(problem, engine).routes[0].distance == 200
    assert vrp.solve(vrp.Problem(m, m, [], [vrp.Vehicle(0, 0)], LIMIT), engine) == vrp.Solution([])


def test_pyvrp_is_the_default_engine() -> None:
    assert Settings.model_fields["optimizer_engine"].default == "pyvrp" == vrp.ENGINES[0]


@pytest.mark.parametrize("configured", vrp.ENGINES)
def test_the_setting_picks_the_engine(monkeypatch: pytest.MonkeyPatch, configured: vrp.Engine) -> None:
    called: list[str] = []
    for name, module in (("pyvrp", engine_pyvrp), ("ortools", engine_ortools)):
        monkeypatch.setattr(module, "plan", lambda problem, name=name: called.append(name) or {})
    monkeypatch.setenv("OPTIMIZER_ENGINE", configured)
    get_settings.cache_clear()
    try:
        vrp.solve(_problem([vrp.Job(1)], [vrp.Vehicle(0, 0)]))
        vrp.solve(
            _problem([vrp.Job(1)], [vrp.Vehicle(0, 0)]), "ortools" if configured == "pyvrp" else "pyvrp"
        )
    finally:
        get_settings.cache_clear()  # the next test reads the environment without the override
    assert called == [configured, "ortools" if configured == "pyvrp" else "pyvrp"]


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown optimizer engine"):
        vrp.solve(_problem([vrp.Job(1)], [vrp.Vehicle(0, 0)]), "gurobi")  # type: ignore[arg-type]
