"""Bulk import throughput: `POST /api/v1/missions/bulk` against a bare asyncpg COPY of the same rows.

    python bench/missions_bulk.py [--batches 10] [--size 1000] [--rounds 3]

Brings up embedded PostgreSQL and Redis (bench/branches_list.py's `bootstrap`), creates one company
with a branch and a full_access token, serves the real application in a single-worker uvicorn
subprocess (bench/real_app.py) and sends `--batches` bulk requests of `--size` missions one after
the other, end to end over HTTP (validation, proof codes, history rows, webhook events, the JSON
answer). Then it writes the same number of mission rows, with the same column values, through a
bare asyncpg `copy_records_to_table`, one transaction per batch. PostgreSQL refuses COPY FROM under
row-level security, so the baseline connects as the table owner (the application role cannot COPY).
Request bodies are encoded before the clock starts (as the COPY records are built before theirs),
and each timed phase starts vacuumed, analysed and checkpointed with autovacuum off, so that the
maintenance one phase's inserts trigger does not land inside the next one's measurement.
Prints missions/second of each and the ratio real/COPY (target: >= 0.25); for reference, also a COPY
of the three rows the real path writes per mission (the mission, its history row, its event).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from branches_list import Server, bootstrap, real_server, scratch_dir  # noqa: E402

TARGET_RATIO = 0.25


async def seed() -> tuple[str, str, str]:
    """One company with one branch and a full_access token: (company id, branch id, raw token)."""
    from app.api_tokens.schemas import ApiTokenCreate
    from app.api_tokens.service import api_token_service
    from app.branches.schemas import BranchCreate
    from app.branches.service import branch_service
    from app.companies.service import company_service
    from app.core import db
    from app.core.db import unit_of_work
    from app.core.principal import Preset, Principal

    try:
        async with unit_of_work(Principal.system(None), kind="owner") as uow:
            created = await company_service.create(
                uow, name="Bench Company", admin_email="bench-admin@example.com", admin_password="bench-pass"
            )
            token = await api_token_service.create(
                uow, ApiTokenCreate(name="bench", preset=Preset.FULL_ACCESS)
            )
        async with unit_of_work(Principal.system(created.company.id)) as uow:
            branch = await branch_service.create(
                uow,
                BranchCreate.model_validate(
                    {
                        "name": "Bench Branch",
                        "latitude": 41.0,
                        "longitude": 29.0,
                        "timezone": "Europe/Istanbul",
                    }
                ),
            )
    finally:
        await db.dispose()
    return str(created.company.id), str(branch.id), token.token


def mission_body(branch_id: str, prefix: str, n: int) -> dict[str, Any]:
    return {
        "externalId": f"{prefix}-{n:06d}",
        "branchId": branch_id,
        "type": "delivery",
        "date": "2026-11-27",
        "customerName": f"Customer {n}",
        "customerPhone": f"+90555{n:07d}",
        "address": f"{n} Benchmark Street, Istanbul",
        "latitude": 40.9 + (n % 1000) / 10_000,
        "longitude": 29.0 + (n % 997) / 10_000,
        "timeWindowStart": "09:00",
        "timeWindowEnd": "17:00",
        "weightKg": 2.5,
        "items": 1,
        "notes": "Leave at the door.",
    }


def run_real(server: Server, token: str, batches: list[list[dict[str, Any]]]) -> float:
    """Seconds to send the bulk requests one after the other and receive their answers. Like the
    COPY baseline's records, request bodies are encoded before the clock starts, and the answers
    are checked after it stops: the clock measures the server, not this client's JSON library."""
    import httpx
    import orjson

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies = [orjson.dumps({"missions": batch}) for batch in batches]
    answers = []
    with httpx.Client(base_url=server.url, timeout=120) as http:
        started = time.perf_counter()
        for body in bodies:
            response = http.post("/api/v1/missions/bulk", content=body, headers=headers)
            response.raise_for_status()
            answers.append(response.content)
        elapsed = time.perf_counter() - started
    for batch, answer in zip(batches, answers, strict=True):
        results = orjson.loads(answer)["data"]
        failed = [r for r in results if r["status"] != "created"]
        if failed or len(results) != len(batch):
            raise RuntimeError(f"bulk request did not create every mission: {failed[:3]}")
    return elapsed


def copy_records(company_id: str, bodies: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The mission rows the real path writes, column for column (proof code hashed the same way,
    ids made the same way)."""
    from app.core.models import new_id
    from app.missions import proof
    from app.missions.models import Mission

    columns = [c.name for c in Mission.__table__.columns]  # type: ignore[attr-defined]
    now = dt.datetime.now(dt.UTC)
    records = []
    for body in bodies:
        mission_id = new_id()
        code = proof.new_code()
        row: dict[str, Any] = {
            "id": mission_id, "company_id": uuid.UUID(company_id), "created_at": now, "updated_at": now,
            "external_id": body["externalId"], "branch_id": uuid.UUID(body["branchId"]), "type": body["type"],
            "date": dt.date.fromisoformat(body["date"]), "customer_name": body["customerName"],
            "customer_phone": body["customerPhone"], "customer_email": None, "address": body["address"],
            "latitude": body["latitude"], "longitude": body["longitude"],
            "time_window_start": dt.time(9), "time_window_end": dt.time(17), "service_duration_seconds": 300,
            "priority": 0, "weight_kg": body["weightKg"], "volume_m3": None, "items": body["items"],
            "notes": body["notes"], "proof_required": True, "status": "unassigned", "route_id": None,
            "sequence": None, "eta": None, "etd": None, "distance_from_previous_meters": None,
            "duration_from_previous_seconds": None, "failure_reason": None, "credit_charged": False,
            "started_at": None, "finished_at": None, "proof_code_hash": proof.hash_code(mission_id, code),
            "proof_sent_to": body["customerPhone"], "proof_sms_status": "not_sent", "proof_sent_at": None,
            "proof_expires_at": proof.expires_at(dt.date.fromisoformat(body["date"]), "Europe/Istanbul"),
            "proof_attempts": 0, "proof_max_attempts": 5, "proof_verified_at": None,
        }  # fmt: skip
        records.append(tuple(row[c] for c in columns))
    return records


def side_records(company_id: str, missions: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    """What the real path writes beside each mission: its `created` history row and its
    `mission.created` outbox event, with JSON documents of the same size."""
    import json

    from app.core.history import ChangeRecord
    from app.core.models import new_id
    from app.core.outbox import WebhookEvent, new_event_id
    from app.missions.models import Mission

    columns = [c.name for c in Mission.__table__.columns]  # type: ignore[attr-defined]
    company, now = uuid.UUID(company_id), dt.datetime.now(dt.UTC)
    history, events = [], []
    for record in missions:
        doc = {k: (str(v) if v is not None and not isinstance(v, int | float | bool) else v)
               for k, v in zip(columns, record, strict=True) if k != "proof_code_hash"}  # fmt: skip
        changes = json.dumps(doc)  # a creation's history entry is the created snapshot
        history.append((new_id(), company, "mission", record[0], "created", "api", "token", None, "bench",
                        changes, now))  # fmt: skip
        event_id = new_event_id()
        payload = json.dumps({"id": event_id, "type": "mission.created", "data": doc})
        events.append((event_id, company, "mission.created", "mission", record[0], payload, now, "pending"))
    order = {
        "change_history": [c.name for c in ChangeRecord.__table__.columns],  # type: ignore[attr-defined]
        "webhook_event": [c.name for c in WebhookEvent.__table__.columns],  # type: ignore[attr-defined]
    }
    assert order["change_history"] == ["id", "company_id", "resource_type", "resource_id", "action", "source",
                                       "actor_type", "actor_id", "actor_name", "changes", "at"]  # fmt: skip
    assert order["webhook_event"] == ["id", "company_id", "type", "resource_type", "resource_id", "payload",
                                      "created_at", "status"]  # fmt: skip
    return {"change_history": history, "webhook_event": events}


async def run_copy(dsn: str, tables: dict[str, list[tuple[Any, ...]]], batch: int) -> float:
    """COPY each table's rows, one transaction per batch (the real path commits once per request)."""
    import asyncpg

    from app.core.history import ChangeRecord
    from app.core.outbox import WebhookEvent
    from app.missions.models import Mission

    models = {"mission": Mission, "change_history": ChangeRecord, "webhook_event": WebhookEvent}
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        total = len(next(iter(tables.values())))
        for start in range(0, total, batch):
            async with connection.transaction():
                for name, records in tables.items():
                    columns = [c.name for c in models[name].__table__.columns]  # type: ignore[attr-defined]
                    await connection.copy_records_to_table(
                        name, records=records[start : start + batch], columns=columns
                    )
        return time.perf_counter() - started
    finally:
        await connection.close()


async def settle(dsn: str) -> None:
    """Start every timed phase from the same state: vacuumed, analysed and checkpointed. Autovacuum
    is off for this benchmark's own database (`quiet_maintenance`) so that the clean-up a phase's
    inserts trigger does not land, at random, inside the next phase's measurement."""
    await _as_owner(dsn, "VACUUM (ANALYZE)", "CHECKPOINT")


async def quiet_maintenance(dsn: str) -> None:
    await _as_owner(dsn, "ALTER SYSTEM SET autovacuum = off", "SELECT pg_reload_conf()")


async def _as_owner(dsn: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=10, help="bulk requests per round (default 10)")
    parser.add_argument("--size", type=int, default=1000, help="missions per request, 1..1000 (default 1000)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="real/COPY alternations, medians reported (default 3)"
    )
    args = parser.parse_args()
    if not 1 <= args.size <= 1000 or args.batches < 1 or args.rounds < 1:
        parser.error("--size must be 1..1000, --batches and --rounds positive")
    return args


def main() -> int:
    args = parse_args()
    data_dir = scratch_dir()
    print(f"services: embedded PostgreSQL + Redis in {data_dir}")
    services = bootstrap(data_dir)
    company_id, branch_id, token = asyncio.run(seed())
    server = real_server(services, data_dir)
    # COPY FROM is refused under row-level security, so the baseline runs as the table owner.
    dsn = services.owner_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    total = args.batches * args.size
    asyncio.run(quiet_maintenance(dsn))
    try:
        server.start()
        server.wait_ready({"Authorization": f"Bearer {token}"}, "?limit=1")
        # Warm-up, so that start-up is not measured: imports, and on each pooled connection (the pool
        # hands them out in turn) its first use and its prepared statements.
        from app.settings import get_settings

        warm = [mission_body(branch_id, "warm", n) for n in range(100 * get_settings().db_pool_size)]
        run_real(server, token, [warm[i : i + 100] for i in range(0, len(warm), 100)])
        print(f"real: {server.url} (rest_compat.asgi:app via bench/real_app.py), single uvicorn worker")
        print(f"load: {args.batches} sequential POST /api/v1/missions/bulk of {args.size} missions per round")
        print("each timed phase starts vacuumed, analysed and checkpointed; autovacuum is off")
        real_rates, copy_rates, all_rates = [], [], []
        for round_no in range(args.rounds):
            bodies = [mission_body(branch_id, f"r{round_no}", n) for n in range(total)]
            batches = [bodies[i : i + args.size] for i in range(0, total, args.size)]
            asyncio.run(settle(dsn))
            seconds = run_real(server, token, batches)
            real_rates.append(total / seconds)
            copy_bodies = [mission_body(branch_id, f"c{round_no}", n) for n in range(total)]
            records = copy_records(company_id, copy_bodies)
            asyncio.run(settle(dsn))
            copy_seconds = asyncio.run(run_copy(dsn, {"mission": records}, args.size))
            copy_rates.append(total / copy_seconds)
            side_bodies = [mission_body(branch_id, f"s{round_no}", n) for n in range(total)]
            side = copy_records(company_id, side_bodies)
            asyncio.run(settle(dsn))
            all_seconds = asyncio.run(
                run_copy(dsn, {"mission": side, **side_records(company_id, side)}, args.size)
            )
            all_rates.append(total / all_seconds)
            print(
                f"  round {round_no + 1}: real {total} missions in {seconds:.2f}s = {total / seconds:,.0f}/s;"
                f" COPY missions {copy_seconds:.3f}s = {total / copy_seconds:,.0f}/s;"
                f" COPY missions+history+events {all_seconds:.3f}s = {total / all_seconds:,.0f}/s"
            )
        real, bare, bare_all = (statistics.median(r) for r in (real_rates, copy_rates, all_rates))
        ratio = real / bare
        verdict = "PASS" if ratio >= TARGET_RATIO else "BELOW TARGET"
        print(f"\nreal {real:,.0f} missions/s, bare COPY {bare:,.0f} missions/s")
        print(f"ratio real/COPY = {ratio:.3f}   target >= {TARGET_RATIO}: {verdict}")
        print(
            "for reference: COPY of the three rows the real path writes per mission (mission, history, "
            f"event) {bare_all:,.0f} missions/s; ratio real/that = {real / bare_all:.3f}"
        )
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: server stopped", file=sys.stderr)
        sys.exit(130)
