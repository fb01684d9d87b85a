"""Optimizer quality and speed on Solomon / Gehring & Homberger VRPTW instances, every engine side by
side: distance gap to the distance-only best-known solution (DIMACS convention: arcs truncated to one
decimal; the Solomon values are proven optimal), wall time per solve, customers left unserved, and
whether the independent checker (tests/optimization/solomon.py) accepts the solution.

Run from the repository root (the data is in ../shared/data/vrp), one benchmark at a time: the
engines are single-threaded but share the machine.
  python -m bench.optimizer                          the 12 default instances, every engine, 5 s each
  python -m bench.optimizer --limit 30 R101 RC208    named instances, 30 s each
  python -m bench.optimizer --all --engines pyvrp    every instance in the data
Exits 1 when the checker rejects any solution.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from dataclasses import dataclass

from app.optimization import vrp
from tests.optimization import solomon

DEFAULT = ["C101", "C201", "R101", "R201", "RC101", "RC201", "R112", "RC208",
           "C1_2_1", "R1_2_1", "RC2_2_1", "R1_4_1"]  # fmt: skip


@dataclass(frozen=True)
class Run:
    routes: int
    distance: float
    gap: float  # percent over the best known
    seconds: float
    unserved: int
    problems: list[str]


def run(instance: solomon.Instance, engine: vrp.Engine, limit: float) -> Run:
    problem = instance.problem(limit)
    started = time.perf_counter()
    solution = vrp.solve(problem, engine)
    seconds = time.perf_counter() - started
    distance = solomon.distance(instance, solution)
    return Run(
        len(solution.routes), distance, (distance / solomon.bks(instance.name) - 1) * 100, seconds,
        len(problem.jobs) - sum(len(r.jobs) for r in solution.routes), solomon.violations(instance, solution),
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("instances", nargs="*", help=f"default: {' '.join(DEFAULT)}")
    parser.add_argument("--all", action="store_true", help="every instance in the data")
    parser.add_argument("--limit", type=float, default=5.0, help="solver time limit, seconds (default 5)")
    parser.add_argument("--engines", default=",".join(vrp.ENGINES), help="comma-separated, in column order")
    args = parser.parse_args()
    engines: list[vrp.Engine] = []
    for name in args.engines.split(","):
        if name not in vrp.ENGINES:
            parser.error(f"unknown engine {name!r}; expected some of {', '.join(vrp.ENGINES)}")
        engines.append(name)  # type: ignore[arg-type]  # checked against ENGINES above
    names = solomon.names() if args.all else args.instances or DEFAULT
    for engine in engines:  # load the native libraries before any clock starts
        importlib.import_module(f"app.optimization.engine_{engine}")

    cells = "| distance | gap % | seconds | unserved | checker "
    print(f"limit {args.limit:g} s per solve; gap to the distance-only trunc1 best known")
    print(f"| {'instance':<9} | {'bks':>8} " + "".join(f"| {e} routes {cells}" for e in engines) + "|")
    print("|" + "---|" * (2 + 6 * len(engines)))
    gaps: dict[str, list[float]] = {engine: [] for engine in engines}
    rejected = 0
    for name in names:
        instance = solomon.load(name)
        line = f"| {name:<9} | {solomon.bks(name):>8.1f} "
        for engine in engines:
            result = run(instance, engine, args.limit)
            gaps[engine].append(result.gap)
            rejected += bool(result.problems)
            verdict = "ok" if not result.problems else f"REJECTED ({len(result.problems)})"
            line += (f"| {result.routes:>{len(engine) + 7}} | {result.distance:>8.1f} | {result.gap:>5.2f} "
                     f"| {result.seconds:>7.1f} | {result.unserved:>8} | {verdict:<7} ")  # fmt: skip
            for problem in result.problems[:3]:
                print(f"  {engine} {name}: {problem}", file=sys.stderr)
        print(line + "|", flush=True)
    for engine in engines:
        print(f"mean gap {engine}: {statistics.fmean(gaps[engine]):.2f} % over {len(names)} instances")
    return 1 if rejected else 0


if __name__ == "__main__":
    sys.exit(main())
