"""Webhook delivery throughput and lag: 10,000 events through the real path (API commit -> outbox ->
worker fan-out -> planned attempts -> signed POSTs) to a local receiver, against a bare httpx POST
loop to the same receiver, measured in one run.

    python bench/webhooks.py [--events 10000] [--workers 2] [--threads 16] [--batch 1000] [--paced 2000]

Brings up embedded PostgreSQL and Redis in a throw-away data directory, one company with a webhook
endpoint subscribed to `mission.created`, and serves on 127.0.0.1, each in its own process:
  api       rest_compat.asgi:app (as `rouptimize serve-api`)
  workers   `--workers` x `rouptimize worker --threads N` (fan-out and delivery; replicas, as deployed)
  receiver  bench/webhook_receiver.py (answers 200 at once, notes each arrival)
real   `--events` missions created by bulk imports of `--batch` as fast as the API takes them: time
       from the first import to the last arrival.
bare   the same number of POSTs of a same-sized body from `--threads` concurrent httpx tasks.
lag    `--paced` missions created 20 at a time at half the real path's measured rate (a steady load
       the deployment can carry): each mission's lag from its import's answer (the commit) to its
       arrival at the receiver.
Prints both rates, the ratio real/bare (target >= 0.5) and the lag p50/p99 (target p99 < 1 s).
Everything started here is stopped on exit, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from branches_list import BENCH, HOST, ROOT, Server, bootstrap, free_port, real_server, scratch_dir  # noqa: E402

TARGET_RATIO, TARGET_P99_MS = 0.5, 1000.0
PACED_BATCH = 20


async def seed(receiver_url: str) -> tuple[str, str]:
    """A company with a webhook endpoint to the receiver: (full_access token, branch id)."""
    from app.api_tokens.schemas import ApiTokenCreate
    from app.api_tokens.service import api_token_service
    from app.branches.schemas import BranchCreate
    from app.branches.service import branch_service
    from app.companies.service import company_service
    from app.core import db
    from app.core.db import unit_of_work
    from app.core.principal import Preset, Principal
    from app.webhooks.schemas import WebhookEndpointCreate
    from app.webhooks.service import webhook_service

    try:
        async with unit_of_work(Principal.system(None), kind="owner") as uow:
            created = await company_service.create(
                uow, name="Bench Company", admin_email="bench@example.com", admin_password="bench-password"
            )
            token = await api_token_service.create(
                uow, ApiTokenCreate(name="bench", preset=Preset.FULL_ACCESS)
            )
        async with unit_of_work(Principal.system(created.company.id)) as uow:
            branch = await branch_service.create(
                uow, BranchCreate.model_validate({"name": "Kadikoy", "latitude": 40.99, "longitude": 29.03})
            )
            body = {"url": receiver_url, "eventTypes": ["mission.created"]}
            await webhook_service.create(uow, WebhookEndpointCreate.model_validate(body))
    finally:
        await db.dispose()
    return token.token, str(branch.id)


def start_worker(services: Any, data_dir: Path, threads: int, number: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, **services.env(), "PYTHONUNBUFFERED": "1"}
    log = (data_dir / f"worker-{number}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--threads", str(threads)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


async def stats(http: Any) -> dict[str, Any]:
    return (await http.get("/stats")).json()  # type: ignore[no-any-return]


async def wait_count(http: Any, count: int, seconds: float = 600) -> float:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (await stats(http))["count"] >= count:
            return time.time()
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the receiver got {(await stats(http))['count']} of {count} deliveries")


async def real_path(
    api: str, receiver: str, token: str, branch_id: str, events: int, batch: int, tag: str
) -> Any:
    import httpx

    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86_400))
    headers = {"Authorization": f"Bearer {token}"}
    committed: dict[str, float] = {}
    async with (
        httpx.AsyncClient(base_url=api, headers=headers, timeout=300) as client,
        httpx.AsyncClient(base_url=receiver, timeout=30) as sink,
    ):
        await sink.post("/reset")
        started = time.time()
        for first in range(0, events, batch):
            keys = [f"{tag}-{n}" for n in range(first, min(first + batch, events))]
            place = {"branchId": branch_id, "date": day, "latitude": 41.0, "longitude": 29.0}
            items = [{**place, "externalId": key, "customerName": "Customer", "proofRequired": False}
                     for key in keys]  # fmt: skip
            response = await client.post("/api/v1/missions/bulk", json={"missions": items})
            assert response.status_code in (200, 201, 207), response.text
            answered = time.time()
            committed.update(dict.fromkeys(keys, answered))
        finished = await wait_count(sink, events)
        arrivals = (await stats(sink))["arrivals"]
    assert len(arrivals) == events, f"{len(arrivals)} of {events} missions arrived"
    return events / (finished - started)


async def paced(api: str, receiver: str, token: str, branch_id: str, events: int, rate: float) -> list[float]:
    """`events` missions in imports of PACED_BATCH, one import every PACED_BATCH / `rate` seconds:
    each mission's lag from its import's answer to its arrival (ms)."""
    import httpx

    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86_400))
    committed: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=api, headers=headers, timeout=60) as client,
        httpx.AsyncClient(base_url=receiver, timeout=30) as sink,
    ):
        await sink.post("/reset")
        start = time.monotonic()
        for number, first in enumerate(range(0, events, PACED_BATCH)):
            await asyncio.sleep(max(0.0, start + number * PACED_BATCH / rate - time.monotonic()))
            keys = [f"paced-{n}" for n in range(first, min(first + PACED_BATCH, events))]
            place = {"branchId": branch_id, "date": day, "latitude": 41.0, "longitude": 29.0}
            items = [{**place, "externalId": key, "proofRequired": False} for key in keys]
            response = await client.post("/api/v1/missions/bulk", json={"missions": items})
            assert response.status_code in (200, 201, 207), response.text
            committed.update(dict.fromkeys(keys, time.time()))
        await wait_count(sink, events)
        arrivals = (await stats(sink))["arrivals"]
    return [(arrivals[key] - at) * 1000 for key, at in committed.items() if key in arrivals]


async def bare_loop(receiver: str, events: int, concurrency: int, body: bytes) -> float:
    import httpx

    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=receiver, timeout=30) as client:
        await client.post("/reset")
        queue = iter(range(events))

        async def post() -> None:
            for _ in queue:
                response = await client.post("/hooks", content=body, headers=headers)
                assert response.status_code == 200

        started = time.time()
        await asyncio.gather(*(post() for _ in range(concurrency)))
        return events / (time.time() - started)


def sample_body() -> bytes:
    """A delivery-sized body: a mission.created event as the real path sends it."""
    import json

    data = {"id": "0193a5e0-7c1d-7e2f-8a3b-4c5d6e7f8091", "externalId": "sample", "status": "unassigned",
            "customerName": "Customer", "latitude": 41.0, "longitude": 29.0}  # fmt: skip
    data |= {f"field{n}": None for n in range(30)}
    event = {"id": "evt_" + "0" * 32, "type": "mission.created", "timestamp": "2026-12-04T12:00:00Z",
             "companyId": "0193a5e0-7c1d-7e2f-8a3b-4c5d6e7f8092", "resourceType": "mission",
             "resourceId": data["id"], "data": data}  # fmt: skip
    return json.dumps(event).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=16, help="worker threads; the bare loop's concurrency")
    parser.add_argument("--batch", type=int, default=1000, help="missions per bulk import")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (replicas)")
    parser.add_argument("--paced", type=int, default=2000, help="missions of the lag measurement")
    args = parser.parse_args()

    # The receiver is on this machine: lift the webhook address guard for every process started here.
    os.environ["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true"
    data_dir = scratch_dir()
    services = bootstrap(data_dir)
    receiver = Server("receiver", ["--app-dir", str(BENCH), "webhook_receiver:app"], dict(os.environ),
                      data_dir / "receiver.log", port=free_port())  # fmt: skip
    receiver_url = f"http://{HOST}:{receiver.port}"
    token, branch_id = asyncio.run(seed(receiver_url + "/hooks"))
    api = real_server(services, data_dir)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        receiver.start()
        api.start()
        api.wait_ready({"Authorization": f"Bearer {token}"}, "")
        processes += [start_worker(services, data_dir, args.threads, n) for n in range(args.workers)]
        base = f"http://{HOST}:{api.port}"
        # Warm-up: connections, prepared statements, the worker's first messages.
        asyncio.run(real_path(base, receiver_url, token, branch_id, 200, 100, "warm"))
        rate = asyncio.run(real_path(base, receiver_url, token, branch_id, args.events, args.batch, "run"))
        bare = asyncio.run(bare_loop(receiver_url, args.events, args.threads, sample_body()))
        lags = asyncio.run(paced(base, receiver_url, token, branch_id, args.paced, rate / 2))
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
        api.stop()
        receiver.stop()
    cuts = statistics.quantiles(lags, n=100)
    print(f"{'path':<6}{'deliveries/s':>14}")
    print(f"{'real':<6}{rate:>14.0f}\n{'bare':<6}{bare:>14.0f}")
    print(f"ratio real / bare: {rate / bare:.2f}  (target >= {TARGET_RATIO})")
    print(f"lag commit -> receipt at {rate / 2:.0f} events/s: p50 {statistics.median(lags):.0f} ms, "
          f"p99 {cuts[98]:.0f} ms (target p99 < {TARGET_P99_MS:.0f} ms; {len(lags)} deliveries)")  # fmt: skip


if __name__ == "__main__":
    main()
