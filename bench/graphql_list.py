"""Throughput of the GraphQL branches list and a nested panel query, against REST and bare baselines.

    python bench/graphql_list.py [--duration 10] [--concurrency 16] [--rows 100] [--rounds 1]

Brings up embedded PostgreSQL and Redis in a throw-away data directory, creates one company with
`--rows` branches and a read_only API token (as bench/branches_list.py does), plus, on the first
branch, `--routes` routes each with its own driver and vehicle and `--per-route` missions (5 x 10 by
default: the 50 missions of the nested query), all through the services. Then serves, each in its
own single-worker uvicorn process on 127.0.0.1:
  real      rest_compat.asgi:app via bench/real_app.py: REST and GraphQL, as deployed
  bare      bench/bare_app.py: Starlette + asyncpg + orjson, the same query under the same RLS
  gql-core  bench/bare_graphql_app.py: the same, plus graphql-core executing the flat document
            (cached parse and validation, default resolvers) over the fetched rows
and loads, in turn, with the same asyncio keep-alive client and `--concurrency` connections:
  bare        GET  /api/v1/branches?limit=N                    on bare
  gql-core    POST /graphql  (the flat document)               on gql-core
  rest        GET  /api/v1/branches?limit=N                    on real
  gql-flat    POST /graphql  { branches(first: N) { nodes { 10 fields } } }           on real
  gql-nested  POST /graphql  { missions(first: 50) { nodes { ... route driver vehicle } } }  on real
each after a warm-up, for `--duration` seconds per round. Prints requests/s and p50/p99 for each, and
the ratios gql-flat/bare (target >= 0.3), rest/bare, gql-nested/gql-flat (target >= 0.5: the nested
query within 2x of the flat one) and gql-flat/gql-core, plus graphql-core's own cost on prepared
rows measured in this process (executions per CPU-second, no HTTP, no database).

`--profile DIR` adds one more run of gql-flat (or `--profile-target gql-nested`) on the real server
under py-spy and prints the share of samples per request stage; not benchmark figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from branches_list import (  # noqa: E402
    BENCH,
    PATH,
    Result,
    Server,
    bootstrap,
    profile_real,
    raw_request,
    real_server,
    report_line,
    run_raw,
    scratch_dir,
    seed,
    uvicorn_flags,
)

TARGET_FLAT = 0.3  # GraphQL list / bare handler
TARGET_NESTED = 0.5  # nested / flat GraphQL requests/s: the nested query within 2x of the flat one
BRANCH_FIELDS = "id externalId name address latitude longitude timezone phone createdAt updatedAt"
MISSION_FIELDS = (
    "id externalId status date sequence customerName address latitude longitude"
    " route { id name status } driver { id firstName lastName } vehicle { id name }"
)


def flat_document(rows: int) -> str:
    return f"{{ branches(first: {rows}) {{ nodes {{ {BRANCH_FIELDS} }} }} }}"


def nested_document(missions: int) -> str:
    return f"{{ missions(first: {missions}) {{ nodes {{ {MISSION_FIELDS} }} }} }}"


# --- seeding --------------------------------------------------------------------------------------------


def as_sent(model: Any, body: dict[str, Any]) -> Any:
    """`body` validated as the API validates a request's JSON (input models are strict in Python mode)."""
    return model.model_validate_json(json.dumps(body, default=str))


async def seed_panel(company_id: str, routes: int, per_route: int) -> int:
    """On the company's first branch, `routes` routes of today, each with a driver, a vehicle and
    `per_route` missions, made through the services the API uses; returns the missions made."""
    from sqlalchemy import select

    from app.branches.models import Branch
    from app.core import clock, db
    from app.core.db import unit_of_work
    from app.core.principal import Principal
    from app.drivers.schemas import DriverCreate
    from app.drivers.service import driver_service
    from app.missions.schemas import MissionCreate
    from app.missions.service import mission_service
    from app.routes.schemas import RouteCreate
    from app.routes.service import route_service
    from app.vehicles.schemas import VehicleCreate
    from app.vehicles.service import vehicle_service

    day = clock.utcnow().date()
    made = 0
    try:
        async with unit_of_work(Principal.system(uuid.UUID(company_id))) as uow:
            branch_id = await uow.scalar(select(Branch.id).order_by(Branch.created_at, Branch.id).limit(1))
            for r in range(routes):
                driver = await driver_service.create(
                    uow,
                    as_sent(
                        DriverCreate, {"branchId": branch_id, "firstName": "Bench", "lastName": f"Driver {r}"}
                    ),
                )
                vehicle = await vehicle_service.create(
                    uow,
                    as_sent(VehicleCreate, {"branchId": branch_id, "name": f"Bench Van {r}", "type": "van"}),
                )
                mission_ids = []
                for m in range(per_route):
                    body = {
                        "branchId": branch_id,
                        "date": day,
                        "customerName": f"Customer {r}-{m}",
                        "address": f"{m} Panel Street, Istanbul",
                        "latitude": 41.0 + (r * per_route + m) / 1000,
                        "longitude": 29.0 + (r * per_route + m) / 1000,
                        "proofRequired": False,
                    }
                    created = await mission_service.create(uow, as_sent(MissionCreate, body))
                    mission_ids.append(created.mission.id)
                body = {
                    "branchId": branch_id,
                    "date": day,
                    "name": f"Bench Route {r}",
                    "missionIds": mission_ids,
                    "driverId": driver.id,
                    "vehicleId": vehicle.id,
                }
                await route_service.create(uow, as_sent(RouteCreate, body))
                made += len(mission_ids)
    finally:
        await db.dispose()
    return made


async def _seed_all(rows: int, routes: int, per_route: int) -> tuple[str, str, int]:
    company_id, token = await seed(rows)
    return company_id, token, await seed_panel(company_id, routes, per_route)


# --- load -----------------------------------------------------------------------------------------------


@dataclass
class Probe:
    """One measured request: what is sent, to which server, and what its answer must hold."""

    name: str
    server: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None

    def request(self, port: int) -> bytes:
        return raw_request(self.method, self.path, port, self.headers, self.body)


@dataclass
class ProbeLoad:
    """A Probe as bench/branches_list.py's Load: `run(server, seconds)` with the asyncio client."""

    probe: Probe
    concurrency: int

    def run(self, server: Server, seconds: float) -> Result:
        return run_raw(server.port, self.probe.request(server.port), seconds, self.concurrency)


def graphql_probe(name: str, server: str, document: str, headers: dict[str, str]) -> Probe:
    body = json.dumps({"query": document}).encode()
    return Probe(name, server, "POST", "/graphql", {**headers, "Content-Type": "application/json"}, body)


def wait_and_check(probe: Probe, server: Server, expect: int) -> None:
    """Wait for the server, then check that the probe's answer carries `expect` complete records."""
    query = probe.path.partition("?")[2]
    answer = server.wait_ready(
        probe.headers,
        f"?{query}" if query else "",
        method=probe.method,
        path=probe.path.partition("?")[0],
        body=probe.body,
    )
    data = json.loads(answer)
    if data.get("errors"):
        raise RuntimeError(f"{probe.name}: {data['errors']}")
    payload = data["data"]
    if isinstance(payload, dict):
        payload = next(iter(payload.values()))["nodes"]
    if len(payload) != expect:
        raise RuntimeError(f"{probe.name}: expected {expect} records, got {len(payload)}")
    if probe.name == "gql-nested":
        incomplete = [m["id"] for m in payload if not (m["route"] and m["driver"] and m["vehicle"])]
        if incomplete:
            raise RuntimeError(f"gql-nested: {len(incomplete)} missions without route, driver or vehicle")


# --- graphql-core alone -------------------------------------------------------------------------------


def engine_ceiling(dsn: str, company_id: str, rows: int, seconds: float) -> tuple[float, float]:
    """bench/bare_graphql_app.py's execution of the flat document (graphql-core `execute` + orjson)
    over rows fetched once, timed in this process: (executions per CPU-second, microseconds each)."""
    import asyncpg
    import bare_graphql_app as gql_core

    async def fetch() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction():
                await conn.execute("select set_config('app.company_id', $1, true)", company_id)
                records = await conn.fetch(gql_core.QUERY, company_id, rows)
        finally:
            await conn.close()
        return [dict(r) for r in records]

    prepared_rows = asyncio.run(fetch())
    document = gql_core.prepared(flat_document(rows))
    assert document is not None
    for _ in range(20):  # warm caches
        gql_core.execute_page(document, None, prepared_rows)
    runs = 0
    started = time.process_time()
    wall_end = time.perf_counter() + seconds
    while time.perf_counter() < wall_end:
        for _ in range(10):
            gql_core.execute_page(document, None, prepared_rows)
        runs += 10
    cpu = time.process_time() - started
    return runs / cpu, 1e6 * cpu / runs


# --- profile --------------------------------------------------------------------------------------------

# The first stage one of whose markers appears in a sample's stack gets the sample: the stages inside
# an execution (resolvers, SQL, per-field wrappers) come before the executor that calls them, and the
# unit of work and answer_once, which wrap everything, come last.
GRAPHQL_STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("scalars: DateTime/TimeOfDay serialize (iso_z, hhmm)", ("iso_z (app/core/jsonutil.py", "hhmm (")),
    ("render: JSON encoding of the answer (jsonutil.dumps)", ("dumps (app/core/jsonutil.py",)),
    ("auth: gateway.admit (token check, rate limit)", ("admit (app/core/gateway.py",)),
    (
        "validation: graphql-core validate (strawberry validate_document, limiter rules)",
        ("graphql/validation/", "validate_document (", "strawberry/extensions/query_depth_limiter.py"),
    ),
    ("parse: graphql-core parser (endpoint _operation, ParserCache)", ("graphql/language/",)),
    ("list: page query (Repository.page)", ("Repository.page (app/core/repository.py",)),
    ("DataLoaders + Repository.by_ids", ("strawberry/dataloader.py", "app/graphql/loaders.py")),
    ("SQL in SQLAlchemy/asyncpg (any other statement)", ("sqlalchemy/", "asyncpg/")),
    ("field reads: Row.__getattr__ (app/core/rows.py)", ("Row.__getattr__ (app/core/rows.py",)),
    (
        "strawberry per-field wrappers (_get_basic_result, get_result, build_resolve_info, Info)",
        (
            "_get_basic_result (",
            "StrawberryField.get_result (",
            "build_resolve_info (",
            "strawberry/execution/is_awaitable.py",
            "strawberry/types/info.py",
            "is_type_of (",
        ),
    ),
    ("graphql-core executor itself (execute_field, complete_value, ...)", ("graphql/execution/",)),
    ("strawberry: schema.execute set-up, extensions", ("strawberry/",)),
    ("endpoint: body read, format, Context", ("app/graphql/",)),
    ("request log line (structlog JSON)", ("structlog/",)),
    ("answer_once / unit of work (BEGIN, COMMIT)", ("answer_once (app/core/gateway.py", "app/core/db.py")),
    ("Starlette + RequestContextMiddleware", ("starlette/", "app/core/middleware.py")),
    ("uvicorn + httptools protocol", ("uvicorn/protocols",)),
]


# --- main -----------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="measured seconds per probe (default 10)"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per probe (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--rows", type=int, default=100, help="branches and page size, 1..200 (default 100)")
    parser.add_argument("--routes", type=int, default=5, help="routes of the nested query (default 5)")
    parser.add_argument("--per-route", type=int, default=10, help="missions per route (default 10)")
    parser.add_argument("--rounds", type=int, default=1, help="passes over every probe; medians are reported")
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="also profile the real server with py-spy"
    )
    parser.add_argument("--profile-target", choices=("gql-flat", "gql-nested", "rest"), default="gql-flat")
    args = parser.parse_args()
    if not 1 <= args.rows <= 200:
        parser.error("--rows must be 1..200 (the API's page-size limit)")
    if not 1 <= args.routes * args.per_route <= 200:
        parser.error("--routes x --per-route must be 1..200")
    if args.concurrency < 1 or args.duration <= 0 or args.rounds < 1:
        parser.error("--concurrency, --duration and --rounds must be positive")
    return args


def main() -> int:
    args = parse_args()
    data_dir = scratch_dir()
    print(f"services: embedded PostgreSQL + Redis in {data_dir}")
    started = time.monotonic()
    services = bootstrap(data_dir)
    company_id, token, missions = asyncio.run(_seed_all(args.rows, args.routes, args.per_route))
    print(
        f"seeded 1 company, {args.rows} branches, {args.routes} routes with a driver and a vehicle each,"
        f" {missions} missions on them, 1 read_only token ({time.monotonic() - started:.1f}s)"
    )

    dsn = services.app_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    bare_env = {
        **os.environ, **services.env(), "PYTHONUNBUFFERED": "1",
        "BENCH_BARE_DSN": dsn, "BENCH_COMPANY_ID": company_id,
        "BENCH_POOL_SIZE": os.environ.get("DB_POOL_SIZE", "10"),
    }  # fmt: skip
    servers = {
        "bare": Server("bare", ["--app-dir", str(BENCH), "bare_app:app"], bare_env, data_dir / "bare.log"),
        "gql-core": Server(
            "gql-core", ["--app-dir", str(BENCH), "bare_graphql_app:app"], bare_env, data_dir / "gql-core.log"
        ),
        "real": real_server(services, data_dir),
    }
    auth = {"Authorization": f"Bearer {token}"}
    flat = flat_document(args.rows)
    nested_page = min(50, missions)
    probes = [
        Probe("bare", "bare", "GET", f"{PATH}?limit={args.rows}", auth),
        graphql_probe("gql-core", "gql-core", flat, {}),
        Probe("rest", "real", "GET", f"{PATH}?limit={args.rows}", auth),
        graphql_probe("gql-flat", "real", flat, auth),
        graphql_probe("gql-nested", "real", nested_document(nested_page), auth),
    ]
    expected = {p.name: args.rows for p in probes} | {"gql-nested": nested_page}

    try:
        for server in servers.values():
            server.start()
        for probe in probes:
            wait_and_check(probe, servers[probe.server], expected[probe.name])
        print(
            f"servers: real {servers['real'].url} (rest_compat.asgi:app via bench/real_app.py),"
            f" bare {servers['bare'].url} (bench/bare_app.py), gql-core {servers['gql-core'].url}"
            f" (bench/bare_graphql_app.py); uvicorn {' '.join(uvicorn_flags())}"
        )
        print(
            f"load: asyncio keep-alive client, {args.concurrency} connections, {args.warmup:g}s warm-up +"
            f" {args.duration:g}s per probe, {args.rounds} round(s), {os.cpu_count()} CPUs shared"
            f" (load average now {', '.join(f'{x:.1f}' for x in os.getloadavg())})"
        )
        print(f"flat document:   {flat}")
        print(f"nested document: {nested_document(nested_page)}")

        results: dict[str, list[Result]] = {p.name: [] for p in probes}
        for round_no in range(1, args.rounds + 1):
            if args.rounds > 1:
                print(f"round {round_no}:")
            for probe in probes:
                load = ProbeLoad(probe, args.concurrency)
                if args.warmup > 0:
                    load.run(servers[probe.server], args.warmup)
                result = load.run(servers[probe.server], args.duration)
                results[probe.name].append(result)
                print(report_line(probe.name, result, width=10))

        cpu_rate, cpu_us = engine_ceiling(dsn, company_id, args.rows, min(args.duration, 5.0))
        summarize(args, results, cpu_rate, cpu_us)

        errors = sum(r.errors for rs in results.values() for r in rs)
        if errors:
            print(f"warning: {errors} failed or non-200 responses")
            for server in servers.values():
                print(server.log_tail(20))
        if args.profile:
            target = next(p for p in probes if p.name == args.profile_target)
            profile_real(
                servers["real"],
                ProbeLoad(target, args.concurrency),
                args.duration,
                args.profile,
                stages=None if target.name == "rest" else GRAPHQL_STAGES,
                name=target.name,
            )
        return 0 if not errors else 1
    finally:
        for server in servers.values():
            server.stop()


def summarize(
    args: argparse.Namespace, results: dict[str, list[Result]], cpu_rate: float, cpu_us: float
) -> None:
    rps = {name: statistics.median(r.rps for r in rs) for name, rs in results.items()}
    p50 = {name: statistics.median(r.p50_ms or 0.0 for r in rs) for name, rs in results.items()}
    p99 = {name: statistics.median(r.p99_ms or 0.0 for r in rs) for name, rs in results.items()}

    def ratio(a: str, b: str) -> float:
        return rps[a] / rps[b] if rps[b] else 0.0

    print()
    print("medians:" if args.rounds > 1 else "results:")
    for name in results:
        print(f"  {name:<10} {rps[name]:9.1f} req/s   p50 {p50[name]:7.2f} ms   p99 {p99[name]:7.2f} ms")
    flat, nested = ratio("gql-flat", "bare"), ratio("gql-nested", "gql-flat")
    print()
    print(
        f"gql-flat / bare     = {flat:.3f}   target >= {TARGET_FLAT}: "
        + ("PASS" if flat >= TARGET_FLAT else "BELOW TARGET")
    )
    print(f"rest / bare         = {ratio('rest', 'bare'):.3f}")
    print(
        f"gql-nested / flat   = {nested:.3f}   target >= {TARGET_NESTED} (nested within 2x of flat): "
        + ("PASS" if nested >= TARGET_NESTED else "BELOW TARGET")
    )
    print(
        f"gql-flat / gql-core = {ratio('gql-flat', 'gql-core'):.3f}   "
        f"(gql-core / bare = {ratio('gql-core', 'bare'):.3f}: what graphql-core leaves of bare)"
    )
    print(
        f"graphql-core alone on {args.rows} prepared rows, in this process (execute + orjson, no HTTP,"
        f" no database): {cpu_rate:,.0f} executions per CPU-second ({cpu_us:,.0f} µs each)"
    )
    print(
        "  gql-core is the ceiling the ratios use: the bare handler plus graphql-core over the same rows,"
        " served and loaded exactly like the others; the in-process figure is graphql-core's share of it."
    )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped", file=sys.stderr)
        sys.exit(130)
