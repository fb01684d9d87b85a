"""Optimizer quality and speed on Solomon VRPTW instances: distance gap to the distance-only
best-known solution (negative = better than the literature value) and wall time per solve.

Run from the repository root (the data is in ../shared/data/vrp):
  python -m bench.optimizer [--limit SECONDS] [INSTANCE ...]      default: C101 C201 R101 R201 RC101 RC201
"""

from __future__ import annotations

import argparse
import time

from app.optimization import vrp
from tests.optimization import solomon

DEFAULT = ["C101", "C201", "R101", "R201", "RC101", "RC201"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("instances", nargs="*", default=DEFAULT)
    parser.add_argument("--limit", type=float, default=5.0, help="solver time limit, seconds")
    args = parser.parse_args()
    print(f"{'instance':<9}{'routes':>7}{'distance':>11}{'bks':>10}{'gap %':>8}{'seconds':>9}  feasible")
    for name in args.instances:
        instance = solomon.load(name)
        started = time.perf_counter()
        solution = vrp.solve(instance.problem(args.limit))
        elapsed = time.perf_counter() - started
        distance = solomon.exact_distance(instance, solution)
        best = solomon.bks(name)
        ok = not solomon.violations(instance, solution)
        print(f"{name:<9}{len(solution.routes):>7}{distance:>11.2f}{best:>10.2f}"
              f"{(distance / best - 1) * 100:>8.2f}{elapsed:>9.1f}  {'yes' if ok else 'NO'}")  # fmt: skip


if __name__ == "__main__":
    main()
