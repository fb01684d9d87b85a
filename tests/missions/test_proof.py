from __future__ import annotations

import datetime as dt

import httpx

from app.core import clock
from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant
from tests.fixtures.fleet import events, history
from tests.missions.support import get, patch, scheduled


def _wrong(code: str) -> str:
    return "00000" if code != "00000" else "11111"


async def _verify(
    client: httpx.AsyncClient, tenant: Tenant, mission_id: str, code: str, **headers: str
) -> httpx.Response:
    return await client.post(f"/api/v1/missions/{mission_id}/proof-of-delivery/verify", json={"code": code},
                             headers=tenant.headers(**headers))  # fmt: skip


async def _started(
    client: httpx.AsyncClient, factory: Factory, tenant: Tenant, *path: str
) -> dict[str, object]:
    mission, _ = await scheduled(factory, tenant)
    for status in ("in_progress", *path):
        assert (await patch(client, tenant, mission["id"], status=status)).status_code == 200
    return mission


class TestVerify:
    async def test_right_code_from_delivered(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission = await _started(client, factory, tenant, "delivered")
        response = await _verify(client, tenant, mission["id"], mission["proof"]["code"])
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["status"] == "proofed" and data["proof"]["proofed"] and data["proof"]["attempts"] == 1
        assert "code" not in data["proof"]
        changed = [e for e in await events(tenant.id, mission["id"]) if e.type == "mission.status_changed"]
        assert changed[-1].payload["data"]["previousStatus"] == "delivered"
        entries = await history(tenant.id, mission["id"])
        attempt = [e for e in entries if e.action == "proof_attempt"]
        assert attempt[0].changes[0] == {"field": "proofResult", "from": None, "to": "verified"}
        assert mission["proof"]["code"] not in str([e.changes for e in entries][1:])

    async def test_right_code_from_in_progress_passes_through_delivered(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        mission = await _started(client, factory, tenant)
        response = await _verify(client, tenant, mission["id"], mission["proof"]["code"])
        assert response.json()["data"]["status"] == "proofed"
        changed = [e.payload["data"]["status"] for e in await events(tenant.id, mission["id"])
                   if e.type == "mission.status_changed"]  # fmt: skip
        assert changed[-2:] == ["delivered", "proofed"]

    async def test_five_wrong_then_exhausted(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission = await _started(client, factory, tenant, "delivered")
        code = mission["proof"]["code"]
        for remaining in (4, 3, 2, 1, 0):
            response = await _verify(client, tenant, mission["id"], _wrong(code))
            assert response.status_code == 422
            assert response.json()["error"]["code"] == "invalid_proof_code"
            assert response.json()["error"]["details"] == {"attemptsRemaining": remaining}
        exhausted = await _verify(client, tenant, mission["id"], code)
        assert (
            exhausted.status_code == 422 and exhausted.json()["error"]["code"] == "proof_attempts_exhausted"
        )
        now = await get(client, tenant, mission["id"])
        assert (now["status"], now["proof"]["attempts"]) == ("delivered", 5)
        outcomes = [
            e.changes[0]["to"] for e in await history(tenant.id, mission["id"]) if e.action == "proof_attempt"
        ]
        assert outcomes == ["invalid_code"] * 5 + ["attempts_exhausted"]
        assert [e.type for e in await events(tenant.id, mission["id"])].count("mission.status_changed") == 3

    async def test_valid_to_the_end_of_the_day_after_in_the_branchs_zone(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        last_minute, first, second = days.moment("23:59", 1, days.ZONE), *[
            await _started(client, factory, tenant, "delivered") for _ in range(2)
        ]  # fmt: skip
        assert first["date"] == days.day()  # today in Istanbul, the factories' branch zone
        with clock.frozen(last_minute):
            response = await _verify(client, tenant, first["id"], first["proof"]["code"])
        assert response.status_code == 200, response.text
        with clock.frozen(last_minute + dt.timedelta(minutes=1)):
            response = await _verify(client, tenant, second["id"], second["proof"]["code"])
        assert response.status_code == 422 and response.json()["error"]["code"] == "proof_code_expired"
        assert (await get(client, tenant, second["id"]))["proof"]["attempts"] == 0

    async def test_not_proofable(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission, _ = await scheduled(factory, tenant)
        response = await _verify(client, tenant, mission["id"], mission["proof"]["code"])
        assert response.status_code == 409 and response.json()["error"]["details"]["status"] == "scheduled"
        assert (await get(client, tenant, mission["id"]))["proof"]["attempts"] == 0
        malformed = await _verify(client, tenant, mission["id"], "12ab")
        assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "validation_error"

    async def test_replay_spends_no_second_attempt(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission = await _started(client, factory, tenant, "delivered")
        wrong = _wrong(mission["proof"]["code"])
        first = await _verify(client, tenant, mission["id"], wrong, **{"Idempotency-Key": "v-1"})
        second = await _verify(client, tenant, mission["id"], wrong, **{"Idempotency-Key": "v-1"})
        assert second.headers["idempotent-replayed"] == "true" and second.content == first.content
        assert (await get(client, tenant, mission["id"]))["proof"]["attempts"] == 1
        attempts = [e for e in await history(tenant.id, mission["id"]) if e.action == "proof_attempt"]
        assert len(attempts) == 1
