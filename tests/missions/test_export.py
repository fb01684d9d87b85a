from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from sqlalchemy import event

from app.core import db
from app.missions import export
from tests.fixtures import days
from tests.fixtures.factories import Factory
from tests.missions.support import scheduled


def _as_csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class TestExport:
    async def test_csv_has_the_json_rows(
        self, client: httpx.AsyncClient, factory: Factory, monkeypatch: Any
    ) -> None:
        monkeypatch.setattr(export, "BATCH", 2)  # several keyset batches even for a few rows
        tenant = await factory.tenant()
        placed, route = await scheduled(factory, tenant, notes='says "hi", twice\nreally', weightKg=2.5)
        driver = await factory.driver(tenant, route["branchId"], firstName="Ayse", lastName="Yilmaz")
        await client.put(f"/api/v1/routes/{route['id']}/assign-driver", json={"driverId": driver["id"]},
                         headers=tenant.headers())  # fmt: skip
        others = [await factory.mission(tenant, route["branchId"], externalId=f"x-{n}") for n in range(4)]
        read = tenant.headers("read")
        as_json = await client.get("/api/v1/missions/export", headers=read)
        assert as_json.status_code == 200 and as_json.headers["content-type"].startswith("application/json")
        rows = as_json.json()["data"]
        assert [r["id"] for r in rows] == [placed["id"], *(m["id"] for m in others)]
        first = rows[0]
        assert first["routeName"] == route["name"] and first["sequence"] == 1
        assert first["driverName"] == "Ayse Yilmaz" and first["vehicleName"] is None
        assert first["proofRequired"] is True and first["proofedAt"] is None and "proof" not in first
        assert list(first) == export.HEADER

        for kwargs in (
            {"headers": {**read, "Accept": "text/csv"}},
            {"headers": read, "params": {"format": "csv"}},
        ):
            as_csv = await client.get("/api/v1/missions/export", **kwargs)  # type: ignore[arg-type]
            assert as_csv.headers["content-type"].startswith("text/csv")
            parsed = list(csv.DictReader(io.StringIO(as_csv.text)))
            assert parsed == [{k: _as_csv_cell(v) for k, v in row.items()} for row in rows]

    async def test_filters_and_empty(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        placed, _ = await scheduled(factory, tenant)
        await factory.mission(tenant)
        read = tenant.headers("read")
        only = await client.get("/api/v1/missions/export", params={"status": "scheduled"}, headers=read)
        assert [r["id"] for r in only.json()["data"]] == [placed["id"]]
        none = await client.get("/api/v1/missions/export", params={"format": "csv", "date": days.day(-3650)},
                                headers=read)  # fmt: skip
        assert none.text.strip() == ",".join(export.HEADER)
        assert (await client.get("/api/v1/missions/export", params={"date": days.day(-3650)},
                                 headers=read)).json() == {"data": []}  # fmt: skip
        bad = await client.get("/api/v1/missions/export", params={"format": "xml"}, headers=read)
        assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "format"
        other = await factory.tenant()
        assert (await client.get("/api/v1/missions/export", headers=other.headers("read"))).json() == {
            "data": []
        }


class TestDistributionView:
    async def test_routes_and_unassigned(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        placed, route = await scheduled(
            factory, tenant, timeWindowStart="09:00", timeWindowEnd="12:00", items=3
        )
        branch_id = route["branchId"]
        vehicle = await factory.vehicle(tenant, branch_id, plateNumber="34 AB 1")
        await client.put(f"/api/v1/routes/{route['id']}/assign-vehicle", json={"vehicleId": vehicle["id"]},
                         headers=tenant.headers())  # fmt: skip
        loose = await factory.mission(tenant, branch_id)
        await factory.mission(tenant, branch_id, date=days.day(1))
        response = await client.get("/api/v1/missions/distribution-view",
                                    params={"date": days.day(), "branchId": branch_id},
                                    headers=tenant.headers("read"))  # fmt: skip
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert (data["date"], data["branchId"]) == (days.day(), branch_id)
        [group] = data["routes"]
        assert group["route"]["id"] == route["id"] and group["driver"] is None
        assert group["vehicle"] == {"id": vehicle["id"], "name": vehicle["name"], "plateNumber": "34 AB 1",
                                    "type": "van"}  # fmt: skip
        [stop] = group["missions"]
        assert stop["id"] == placed["id"] and stop["sequence"] == 1 and stop["timeWindowStart"] == "09:00"
        assert stop["items"] == 3 and stop["eta"] is not None
        assert [m["id"] for m in data["unassigned"]] == [loose["id"]]

    async def test_a_fixed_number_of_queries(self, client: httpx.AsyncClient, factory: Factory) -> None:
        async def statements_for(routes: int) -> int:
            tenant = await factory.tenant()
            branch = await factory.branch(tenant)
            for _ in range(routes):
                made = [await factory.mission(tenant, branch["id"]) for _ in range(2)]
                driver = await factory.driver(tenant, branch["id"])
                vehicle = await factory.vehicle(tenant, branch["id"])
                await factory.route(tenant, branch["id"], missionIds=[m["id"] for m in made],
                                    driverId=driver["id"], vehicleId=vehicle["id"])  # fmt: skip
            await factory.mission(tenant, branch["id"])
            statements: list[str] = []

            def count(conn: object, cursor: object, statement: str, *args: object) -> None:
                statements.append(statement)

            engine = db.engine().sync_engine
            event.listen(engine, "before_cursor_execute", count)
            try:
                response = await client.get("/api/v1/missions/distribution-view",
                                            params={"date": days.day(), "branchId": branch["id"]},
                                            headers=tenant.headers("read"))  # fmt: skip
            finally:
                event.remove(engine, "before_cursor_execute", count)
            data = response.json()["data"]
            assert len(data["routes"]) == routes and len(data["unassigned"]) == 1
            assert all(r["driver"] and r["vehicle"] and len(r["missions"]) == 2 for r in data["routes"])
            return len(statements)

        assert await statements_for(1) == await statements_for(4)

    async def test_parameters_are_required(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant, other = await factory.tenant(), await factory.tenant()
        foreign = await factory.branch(other)
        url = "/api/v1/missions/distribution-view"
        missing = await client.get(url, params={"date": days.day()}, headers=tenant.headers("read"))
        assert missing.status_code == 422 and missing.json()["error"]["details"][0]["field"] == "branchId"
        response = await client.get(url, params={"date": days.day(), "branchId": foreign["id"]},
                                    headers=tenant.headers("read"))  # fmt: skip
        assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "branchId"
