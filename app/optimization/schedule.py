"""When a vehicle is where along a visiting order. Feasibility and the drop reasons read the earliest
timeline; a route reports the timeline that leaves as late as it can without coming back later.

Travel from or to a missing depot (`Vehicle.start` / `end` None) takes no time and no distance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.optimization.vrp import Problem, Vehicle


@dataclass(frozen=True)
class Timeline:
    departure: int
    starts: list[int]  # service begins at each stop (after any wait)
    waits: list[int]  # time spent waiting for each stop's window to open
    windows_met: bool
    end: int  # back at the end depot, or done at the last stop without one


def earliest_departure(vehicle: Vehicle) -> int:
    return vehicle.start_time if vehicle.start_time is not None else vehicle.shift[0]


def drive(problem: Problem, vehicle: Vehicle, order: Sequence[int], departure: int | None = None) -> Timeline:
    """Drive `order` leaving at `departure` (default: as early as the vehicle may), serving each stop
    as soon as it is reached and its window is open."""
    leave = earliest_departure(vehicle) if departure is None else departure
    clock, here = leave, vehicle.start
    starts: list[int] = []
    waits: list[int] = []
    met = True
    for j in order:
        job = problem.jobs[j]
        if here is not None:
            clock += problem.durations[here][job.location]
        begin = clock if job.window is None else max(clock, job.window[0])
        # Checked after the wait, so an inverted window (opens after it closes) is never met.
        if job.window is not None and begin > job.window[1]:
            met = False
        starts.append(begin)
        waits.append(begin - clock)
        clock = begin + job.service
        here = job.location
    if here is not None and vehicle.end is not None:
        clock += problem.durations[here][vehicle.end]
    return Timeline(leave, starts, waits, met, clock)


def feasible(problem: Problem, vehicle: Vehicle, order: Sequence[int]) -> bool:
    """Whether `vehicle` can serve `order` as one route: loads, windows, back before its shift ends."""
    for d, capacity in enumerate(vehicle.capacity):
        if capacity is not None and sum(problem.jobs[j].demand[d] for j in order) > capacity:
            return False
    timeline = drive(problem, vehicle, order)
    return timeline.windows_met and timeline.end <= vehicle.shift[1]


def distance(problem: Problem, vehicle: Vehicle, order: Sequence[int]) -> int:
    stops = [vehicle.start, *(problem.jobs[j].location for j in order), vehicle.end]
    return sum(
        problem.distances[a][b]
        for a, b in zip(stops, stops[1:], strict=False)
        if a is not None and b is not None
    )


def reported(problem: Problem, vehicle: Vehicle, order: Sequence[int]) -> Timeline:
    """The timeline a route reports. A fixed start time is kept. Otherwise the vehicle leaves late
    enough to absorb the waits for windows, so a route does not start hours before its first
    window opens, but never so late that it comes back later or pushes a stop past its window."""
    earliest = drive(problem, vehicle, order)
    if vehicle.start_time is not None or not order:
        return earliest
    # Leaving `delay` later moves stop i by max(0, delay - waits up to and including i): each wait
    # absorbs the delay until it is used up.
    delay = sum(earliest.waits)
    waited = 0
    for j, begin, wait in zip(order, earliest.starts, earliest.waits, strict=True):
        waited += wait
        window = problem.jobs[j].window
        if window is not None:
            delay = min(delay, window[1] - begin + waited)
    if delay <= 0:
        return earliest
    return drive(problem, vehicle, order, earliest.departure + delay)
