from __future__ import annotations

import pytest

from app.optimization import vrp
from tests.optimization import solomon

needs_data = pytest.mark.skipif(
    not (solomon.DATA / "solomon").is_dir(), reason="shared/data/vrp is not beside the clone"
)


@needs_data
class TestSolomon:
    # (instance, time limit, allowed gap to the distance-only best known solution); C201 runs past
    # a two-day horizon in solver units.
    @pytest.mark.parametrize(
        ("name", "limit", "gap"), [("C101", 3, 0.02), ("C201", 2, 0.03), ("RC101", 3, 0.05)]
    )
    def test_feasible_and_close_to_best_known(self, name: str, limit: float, gap: float) -> None:
        instance = solomon.load(name)
        solution = vrp.solve(instance.problem(limit))
        assert solution.dropped == {}
        assert solomon.violations(instance, solution) == []
        distance = solomon.exact_distance(instance, solution)
        assert distance <= solomon.bks(name) * (1 + gap), distance


def _line(n: int) -> tuple[list[list[int]], list[list[int]]]:
    """Locations on a line, 100 units apart; travel time equals distance."""
    m = [[abs(a - b) * 100 for b in range(n)] for a in range(n)]
    return m, m


class TestDropReasons:
    def test_no_vehicle(self) -> None:
        d, t = _line(2)
        solution = vrp.solve(vrp.Problem(d, t, [vrp.Job(1)], [], 1))
        assert solution.dropped == {0: "no_vehicle"}

    def test_capacity(self) -> None:
        d, t = _line(3)
        jobs = [vrp.Job(1, demand=(6, 0, 0)), vrp.Job(2, demand=(6, 0, 0), priority=1)]
        fleet = [vrp.Vehicle(0, 0, capacity=(10, None, None))]
        solution = vrp.solve(vrp.Problem(d, t, jobs, fleet, 1))
        # The lower priority is the one left out.
        assert solution.dropped == {0: "capacity"}
        assert [r.jobs for r in solution.routes] == [[1]]

    def test_time_window(self) -> None:
        d, t = _line(3)
        jobs = [vrp.Job(2, window=(0, 100))]  # 200 away from a depot left at 0
        solution = vrp.solve(vrp.Problem(d, t, jobs, [vrp.Vehicle(0, 0, start_time=0)], 1))
        assert solution.dropped == {0: "time_window"}

    def test_shift_length(self) -> None:
        d, t = _line(3)
        jobs = [vrp.Job(2, service=50)]  # 200 out, 50 service, 200 back: 450 > 400
        solution = vrp.solve(vrp.Problem(d, t, jobs, [vrp.Vehicle(0, 0, shift=(0, 400))], 1))
        assert solution.dropped == {0: "shift_length"}

    def test_waits_for_windows_and_orders_by_them(self) -> None:
        d, t = _line(4)
        jobs = [vrp.Job(3, service=10, window=(1000, 2000)), vrp.Job(1, service=10, window=(0, 500))]
        solution = vrp.solve(vrp.Problem(d, t, jobs, [vrp.Vehicle(0, 0, start_time=0)], 1))
        (route,) = solution.routes
        assert route.jobs == [1, 0]
        assert route.arrivals == [100, 1000]
        assert route.distance == 600

    def test_vehicle_without_depots_starts_at_its_first_stop(self) -> None:
        d, t = _line(3)
        solution = vrp.solve(vrp.Problem(d, t, [vrp.Job(1), vrp.Job(2)], [vrp.Vehicle()], 1))
        assert solution.routes[0].distance == 100
