"""Reports and dashboard at a year of data: p50/p95 of every endpoint for a day, a month and a year.

    python bench/reports.py                 # --scale 1: 1,000,000 missions, 50,000 routes, 20 branches
    python bench/reports.py --scale 0.01    # 10,000 missions, 500 routes: a quick run

Embedded PostgreSQL and Redis in a throw-away directory (bench/branches_list.py's set-up). Seeds one
company with 20 branches (four time zones), drivers and vehicles through their services, then:
  1. missions: `--scale` x 1,000,000 over the 365 days up to yesterday, through the REST bulk path's
     service (`app/missions/bulk.bulk_create`, 1,000 per unit of work: missions, their `created`
     history entries and `mission.created` outbox events), in two halves;
  2. routes: `--scale` x 50,000 through `route_service.create` (route, history, event), each with a
     driver and a vehicle of its branch;
  3. the year's work, set-based as the application role under row-level security: missions of a
     (branch, day) spread over its routes (scheduled), then 84 % delivered or proofed with finish
     times around their windows, 4 % failed with one of six reasons, 2 % cancelled, the rest left
     unassigned/scheduled; routes completed with distances. The rollups follow through their
     triggers like for any write; these moves write no history or events (the per-mission
     lifecycle through the services costs ~5 ms a move: hours at this size on two cores).
Serves the real app (bench/real_app.py, one uvicorn worker on 127.0.0.1) and times, sequentially,
each REST endpoint and GraphQL field `--repeat` times per period; recent activity is timed after
each half of the missions (history of two sizes). Target: p95 < 200 ms everywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from branches_list import bootstrap, real_server, scratch_dir  # noqa: E402

TARGET_MS = 200.0
BRANCHES = 20
ZONES = ("Europe/Istanbul", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
MISSIONS, ROUTES, DAYS = 1_000_000, 50_000, 365
FLEET_PER_BRANCH = 10
REASONS = ("customer absent", "address not found", "refused", "damaged", "closed", "no access")


def parsed(model: Any, body: dict[str, Any]) -> Any:
    """A request body as the API parses it (JSON mode: ids and dates as strings)."""
    return model.model_validate_json(json.dumps(body, default=str))


async def seed_company() -> dict[str, Any]:
    from app.api_tokens.schemas import ApiTokenCreate
    from app.api_tokens.service import api_token_service
    from app.branches.schemas import BranchCreate
    from app.branches.service import branch_service
    from app.companies.service import company_service
    from app.core.db import unit_of_work
    from app.core.principal import Preset, Principal
    from app.drivers.schemas import DriverCreate
    from app.drivers.service import driver_service
    from app.vehicles.schemas import VehicleCreate
    from app.vehicles.service import vehicle_service

    async with unit_of_work(Principal.system(None), kind="owner") as uow:
        created = await company_service.create(
            uow, name="Bench Co", admin_email="bench@example.com", admin_password="bench-pass", credits=0
        )
        token = await api_token_service.create(uow, ApiTokenCreate(name="bench", preset=Preset.READ_ONLY))
    company_id = created.company.id
    branches: list[dict[str, Any]] = []
    async with unit_of_work(Principal.system(company_id)) as uow:
        for b in range(BRANCHES):
            body = {"name": f"Branch {b}", "latitude": 41.0, "longitude": 29.0, "timezone": ZONES[b % 4]}
            branch = await branch_service.create(uow, parsed(BranchCreate, body))
            drivers, vehicles = [], []
            for n in range(FLEET_PER_BRANCH):
                person = {"firstName": f"D{b}", "lastName": f"N{n}", "branchId": branch.id}
                drivers.append((await driver_service.create(uow, parsed(DriverCreate, person))).id)
                van = {
                    "name": f"Van {b}-{n}",
                    "type": "van",
                    "branchId": branch.id,
                    "capacityWeightKg": 800.0,
                }
                vehicles.append((await vehicle_service.create(uow, parsed(VehicleCreate, van))).id)
            branches.append({"id": branch.id, "drivers": drivers, "vehicles": vehicles})
    return {"company_id": company_id, "token": token.token, "branches": branches}


def mission_item(branch_id: Any, day: dt.date, n: int) -> dict[str, Any]:
    start = 8 + n % 8
    window = {"timeWindowStart": f"{start:02d}:00", "timeWindowEnd": f"{start + 2:02d}:00"} if n % 5 else {}
    return {
        "branchId": str(branch_id), "date": day.isoformat(), "latitude": 41.0 + (n % 97) / 1000,
        "longitude": 29.0 + (n % 89) / 1000, "customerName": f"Customer {n}", "weightKg": float(1 + n % 20),
        "proofRequired": n % 3 != 0, **window,
    }  # fmt: skip


async def seed_missions(world: dict[str, Any], count: int, first: int, days: list[dt.date]) -> float:
    """`count` missions round-robin over branches and days through the bulk path's service."""
    from app.core.db import unit_of_work
    from app.core.principal import Principal
    from app.missions.bulk import bulk_create
    from app.missions.schemas import MissionBulkCreate

    started = time.perf_counter()
    branches = world["branches"]
    for start in range(first, first + count, 1000):
        items = [
            mission_item(branches[n % BRANCHES]["id"], days[(n // BRANCHES) % len(days)], n)
            for n in range(start, min(start + 1000, first + count))
        ]
        async with unit_of_work(Principal.system(world["company_id"])) as uow:
            results = await bulk_create(uow, MissionBulkCreate.model_validate({"missions": items}))
        assert all(r["status"] == "created" for r in results), results[:1]
    return time.perf_counter() - started


async def seed_routes(world: dict[str, Any], count: int, days: list[dt.date]) -> float:
    from app.core.db import unit_of_work
    from app.core.principal import Principal
    from app.routes.schemas import RouteCreate
    from app.routes.service import route_service

    started = time.perf_counter()
    branches = world["branches"]
    for start in range(0, count, 200):
        async with unit_of_work(Principal.system(world["company_id"])) as uow:
            for n in range(start, min(start + 200, count)):
                branch = branches[n % BRANCHES]
                slot = (n // BRANCHES // len(days)) % FLEET_PER_BRANCH
                body = {
                    "branchId": branch["id"], "date": days[(n // BRANCHES) % len(days)],
                    "driverId": branch["drivers"][slot], "vehicleId": branch["vehicles"][slot],
                }  # fmt: skip
                await route_service.create(uow, parsed(RouteCreate, body))
    return time.perf_counter() - started


# The year's work, one (branch, day) at a time, as the application role (RLS applies). Missions go
# onto the day's routes in turn; `h` hashes the id into the outcome buckets.
WORK = f"""
WITH day_routes AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS slot, count(*) OVER () AS n
    FROM route WHERE branch_id = $1 AND date = $2
), missions AS (
    SELECT m.id, m.time_window_start AS tws, abs(hashtext(m.id::text)) % 100 AS h,
        row_number() OVER (ORDER BY m.id) - 1 AS k
    FROM mission m WHERE m.branch_id = $1 AND m.date = $2
)
UPDATE mission m SET
    route_id = CASE WHEN x.h < 97 THEN r.id END,
    sequence = CASE WHEN x.h < 97 THEN x.k END,
    status = CASE WHEN x.h < 50 THEN 'delivered' WHEN x.h < 84 THEN CASE WHEN m.proof_required
                  THEN 'proofed' ELSE 'delivered' END WHEN x.h < 88 THEN 'failed'
             WHEN x.h < 90 THEN 'cancelled' WHEN x.h < 97 THEN 'scheduled' ELSE 'unassigned' END,
    finished_at = CASE WHEN x.h < 88 THEN
        (($2::date + coalesce(x.tws, time '09:00') + make_interval(mins => (x.h * 7) % 180 - 30))
            AT TIME ZONE $3) END,
    proof_verified_at = CASE WHEN x.h >= 50 AND x.h < 84 AND m.proof_required THEN
        (($2::date + coalesce(x.tws, time '09:00') + interval '2 hours') AT TIME ZONE $3) END,
    failure_reason = CASE WHEN x.h >= 84 AND x.h < 88 THEN
        (ARRAY{list(REASONS)!r})[1 + x.k % {len(REASONS)}] END
FROM missions x JOIN day_routes r ON r.slot = x.k % r.n
WHERE m.id = x.id
"""
CLOSE_ROUTES = """
UPDATE route SET status = 'completed', total_distance_meters = 40000 + abs(hashtext(id::text)) % 80000,
    total_duration_seconds = 14400 + abs(hashtext(id::text)) % 14400
WHERE branch_id = $1 AND date = $2
"""


async def seed_work(world: dict[str, Any], days: list[dt.date], zones: dict[Any, str]) -> float:
    from app.core.db import unit_of_work
    from app.core.principal import Principal

    started = time.perf_counter()
    for day in days:
        async with unit_of_work(Principal.system(world["company_id"])) as uow:
            connection = await uow.driver_connection()
            for branch in world["branches"]:
                await connection.execute(WORK, branch["id"], day, zones[branch["id"]])
                await connection.execute(CLOSE_ROUTES, branch["id"], day)
    return time.perf_counter() - started


async def settle(dsn: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


# --- timing -----------------------------------------------------------------------------------------

OVERVIEW = "{ reportOverview(dateFrom: $f, dateTo: $t) { missions { total delivered } onTime { rate } " \
    "credits { net } daily { date missions } } }"  # fmt: skip
SECTION = "{ %s(dateFrom: $f, dateTo: $t, first: 50) { nodes { __typename } pageInfo { hasNextPage } } }"
CHARTS = "{ dashboardCharts(dateFrom: $f, dateTo: $t) { missionsPerDay { date total } " \
    "deliveriesPerHour { hour delivered } distancePerDay { date distanceMeters } } }"  # fmt: skip
STATS = "{ dashboardStats(date: $t) { missionsTotal routesTotal missions { delivered } } }"
ACTIVITY = (
    "{ dashboardRecentActivity(first: 50) { nodes { id at action } pageInfo { hasNextPage endCursor } } }"
)
SECTIONS = ("missions", "routes", "drivers", "vehicles", "failures", "proof")
GQL_SECTIONS = {s: f"report{s.capitalize()}" for s in SECTIONS}


def probes(date_from: dt.date, date_to: dt.date) -> list[tuple[str, str, str]]:
    """(name, method, path or GraphQL document) of every report and dashboard read for a period."""
    period = f"dateFrom={date_from}&dateTo={date_to}"
    span = (f'"{date_from}"', f'"{date_to}"')

    def gql(document: str) -> str:
        return document.replace("$f", span[0]).replace("$t", span[1])

    found = [
        ("GET /reports/overview", "GET", f"/api/v1/reports/overview?{period}"),
        ("gql reportOverview", "POST", gql(OVERVIEW)),
        *[(f"GET /reports/details/{s}", "GET", f"/api/v1/reports/details/{s}?{period}") for s in SECTIONS],
        *[(f"gql {g}", "POST", gql(SECTION % g)) for g in GQL_SECTIONS.values()],
        ("GET /dashboard/charts", "GET", f"/api/v1/dashboard/charts?{period}"),
        ("gql dashboardCharts", "POST", gql(CHARTS)),
    ]
    if date_from == date_to:
        found += [
            ("GET /dashboard/stats", "GET", f"/api/v1/dashboard/stats?date={date_to}"),
            ("gql dashboardStats", "POST", gql(STATS)),
        ]
    return found


def time_probe(client: Any, method: str, target: str, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat + 2):
        started = time.perf_counter()
        if method == "GET":
            response = client.get(target)
        else:
            response = client.post("/graphql", json={"query": target})
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200 and "errors" not in response.json(), response.text[:500]
        samples.append(elapsed)
    return samples[2:]  # the first two warm the statement caches


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report_line(name: str, period: str, samples: list[float]) -> tuple[str, bool]:
    p50, p95 = statistics.median(samples), p(samples, 0.95)
    ok = p95 < TARGET_MS
    return f"| {name} | {period} | {p50:.1f} | {p95:.1f} | {'ok' if ok else 'OVER'} |", ok


def time_activity(client: Any, repeat: int, label: str) -> list[str]:
    lines = []
    for name, method, target in (
        ("GET /dashboard/recent-activity", "GET", "/api/v1/dashboard/recent-activity?limit=50"),
        ("GET /dashboard/recent-activity?resourceType=route", "GET",
         "/api/v1/dashboard/recent-activity?limit=50&resourceType=route"),
        ("gql dashboardRecentActivity", "POST", ACTIVITY),
    ):  # fmt: skip
        lines.append(report_line(name, label, time_probe(client, method, target, repeat))[0])
    return lines


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="share of 1M missions / 50k routes")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per endpoint and period")
    return parser.parse_args()


def main() -> int:
    import httpx

    args = parse_args()
    data_dir = scratch_dir()
    services = bootstrap(data_dir)
    dsn = services.owner_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    missions, routes = int(MISSIONS * args.scale), max(BRANCHES, int(ROUTES * args.scale))
    from app.core import clock

    last = clock.today(dt.UTC) - dt.timedelta(days=1)
    days = [last - dt.timedelta(days=n) for n in range(DAYS)][::-1]

    async def seed_all() -> tuple[dict[str, Any], list[str]]:
        from app.core import db

        try:
            world = await seed_company()
            zones = {b["id"]: ZONES[i % 4] for i, b in enumerate(world["branches"])}
            half = missions // 2
            t = await seed_missions(world, half, 0, days)
            print(f"missions 1st half: {half:,} in {t:.0f}s ({half / t:,.0f}/s) through bulk_create")
            t = await seed_routes(world, routes, days)
            print(f"routes: {routes:,} in {t:.0f}s ({routes / t:,.0f}/s) through route_service.create")
            world["half"] = half
            world["zones"] = zones
            return world, []
        finally:
            await db.dispose()

    print(f"scale {args.scale}: {missions:,} missions, {routes:,} routes, {BRANCHES} branches, {DAYS} days")
    world, _ = asyncio.run(seed_all())
    asyncio.run(settle(dsn))
    server = real_server(services, data_dir)
    lines: list[str] = []
    try:
        server.start()
        headers = {"Authorization": f"Bearer {world['token']}"}
        server.wait_ready(headers, "?limit=1")
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            history_half = time_activity(client, args.repeat, f"history ~{world['half'] + routes:,}")

            async def second_half() -> None:
                from app.core import db

                try:
                    rest = missions - world["half"]
                    t = await seed_missions(world, rest, world["half"], days)
                    print(f"missions 2nd half: {rest:,} in {t:.0f}s ({rest / t:,.0f}/s) through bulk_create")
                    t = await seed_work(world, days, world["zones"])
                    print(f"work (set-based statuses, finishes, routes): {t:.0f}s")
                finally:
                    await db.dispose()

            asyncio.run(second_half())
            asyncio.run(settle(dsn))
            lines += time_activity(client, args.repeat, f"history ~{missions + routes:,}")
            lines = history_half + lines
            periods = {"day": (last, last), "month": (last - dt.timedelta(days=29), last),
                       "year": (days[0], last)}  # fmt: skip
            failures = 0
            for label, (date_from, date_to) in periods.items():
                for name, method, target in probes(date_from, date_to):
                    line, ok = report_line(name, label, time_probe(client, method, target, args.repeat))
                    lines.append(line)
                    failures += not ok
                    print(line, flush=True)
        print(f"\n| endpoint | period | p50 ms | p95 ms | p95 < {TARGET_MS:.0f} ms |")
        print("| --- | --- | --- | --- | --- |")
        print("\n".join(lines))
        over = failures + sum("OVER" in line for line in lines[:6])
        print(f"\n{'PASS' if not over else f'{over} OVER TARGET'} (target p95 < {TARGET_MS:.0f} ms)")
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: server stopped", file=sys.stderr)
        sys.exit(130)
