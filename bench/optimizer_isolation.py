"""Does a route preview stall the API? p99 latency of `GET /api/v1/me` while a preview of 300 missions
searches, against the same probe on the idle server, measured in one run.

    python bench/optimizer_isolation.py [--missions 300] [--time-limit 20] [--idle-seconds 10]

Brings up embedded PostgreSQL and Redis in a throw-away data directory, creates one company with a
branch, a depot, five vans and `--missions` unassigned missions, and serves the real application
(`rest_compat.asgi:app`, one uvicorn worker, as `rouptimize serve-api` does) on 127.0.0.1. Then:
  idle  `GET /api/v1/me` one request after another for `--idle-seconds`;
  busy  the same probe while `POST /api/v1/routes/plan` (`timeLimitSeconds`: `--time-limit`) runs,
        until its answer arrives.
Prints each phase's request count, p50 and p99, the preview's duration, and the ratio busy p99 /
idle p99 (target: <= 2). Everything started here is stopped on exit, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from branches_list import HOST, bootstrap, real_server, scratch_dir  # noqa: E402

TARGET_RATIO = 2.0
PROBE = "/api/v1/me"


async def seed(missions: int) -> tuple[str, str]:
    """A company with one plannable day: (full_access token, branch id)."""
    from app.api_tokens.schemas import ApiTokenCreate
    from app.api_tokens.service import api_token_service
    from app.companies.service import company_service
    from app.core import db
    from app.core.db import unit_of_work
    from app.core.principal import Preset, Principal

    try:
        async with unit_of_work(Principal.system(None), kind="owner") as uow:
            created = await company_service.create(
                uow, name="Bench Company", admin_email="bench@example.com", admin_password="bench-password",
                credits=missions,
            )  # fmt: skip
            request = ApiTokenCreate(name="bench", preset=Preset.FULL_ACCESS)
            token = await api_token_service.create(uow, request)
    finally:
        await db.dispose()
    return token.token, str(created.company.id)


async def plannable_day(base: str, headers: dict[str, str], missions: int) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:

        async def post(path: str, body: Any) -> Any:
            response = await http.post(f"/api/v1{path}", json=body)
            assert response.status_code in (200, 201), response.text
            return response.json()["data"]

        branch = await post("/branches", {"name": "Kadikoy", "latitude": 40.99, "longitude": 29.03,
                                          "timezone": "Europe/Istanbul"})  # fmt: skip
        depot = {"branchId": branch["id"], "name": "Depot", "latitude": 40.99, "longitude": 29.03,
                 "openingTime": "07:00", "closingTime": "21:00"}  # fmt: skip
        await post("/depots", depot)
        for n in range(5):
            await post("/vehicles", {"branchId": branch["id"], "name": f"Van {n}", "type": "van",
                                     "capacityWeightKg": 800.0})  # fmt: skip
        day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86_400))
        items = [
            {"branchId": branch["id"], "date": day, "latitude": 40.95 + (n % 20) * 0.005,
             "longitude": 29.00 + (n // 20) * 0.006, "weightKg": 5.0, "proofRequired": False,
             "timeWindowStart": "09:00" if n % 3 else "13:00", "timeWindowEnd": "13:00" if n % 3 else "18:00"}
            for n in range(missions)
        ]  # fmt: skip
        response = await http.post("/api/v1/missions/bulk", json={"missions": items})
        assert response.status_code in (200, 201, 207), response.text
    return {"branchId": branch["id"], "date": day}


async def probe(base: str, headers: dict[str, str], until: Any) -> list[float]:
    """Latencies (ms) of `GET /api/v1/me`, one request after another, while `until()` is false."""
    import httpx

    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as http:
        while not until():
            started = time.perf_counter()
            response = await http.get(PROBE)
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    return latencies


def summary(name: str, latencies: list[float]) -> float:
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{name:<6}{len(latencies):>9}{statistics.median(latencies):>10.1f}{cuts[98]:>10.1f}")
    return cuts[98]


async def measure(base: str, headers: dict[str, str], plan: dict[str, Any], idle_seconds: float) -> None:
    import httpx

    # Warm-up: connections, prepared statements, and the solver's processes (a small preview).
    await probe(base, headers, _for(2.0))
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300) as http:
        small = await http.post("/api/v1/routes/plan", json={**plan, "timeLimitSeconds": 1})
        assert small.status_code == 200, small.text
        idle = await probe(base, headers, _for(idle_seconds))
        started = time.perf_counter()
        preview = asyncio.create_task(http.post("/api/v1/routes/plan", json=plan))
        busy = await probe(base, headers, preview.done)
        answer = await preview
        took = time.perf_counter() - started
    assert answer.status_code == 200, answer.text
    routes = answer.json()["data"]["routes"]
    planned = sum(len(r["stops"]) for r in routes)
    print(f"preview: {took:.1f} s, {planned} missions planned on {len(routes)} routes")
    print(f"{'phase':<6}{'requests':>9}{'p50 ms':>10}{'p99 ms':>10}")
    ratio = summary("busy", busy) / summary("idle", idle)
    print(f"ratio busy p99 / idle p99: {ratio:.2f}  (target <= {TARGET_RATIO})")


def _for(seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() >= deadline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--missions", type=int, default=300)
    parser.add_argument("--time-limit", type=float, default=20, help="the preview's timeLimitSeconds")
    parser.add_argument("--idle-seconds", type=float, default=10)
    args = parser.parse_args()

    data_dir = scratch_dir()
    services = bootstrap(data_dir)
    token, _ = asyncio.run(seed(args.missions))
    headers = {"Authorization": f"Bearer {token}"}
    server = real_server(services, data_dir)
    server.start()
    try:
        server.wait_ready(headers, "")
        base = f"http://{HOST}:{server.port}"
        day = asyncio.run(plannable_day(base, headers, args.missions))
        plan = {**day, "timeLimitSeconds": args.time_limit}
        asyncio.run(measure(base, headers, plan, args.idle_seconds))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
