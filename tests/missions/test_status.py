"""The status machine end to end through PATCH on real routes: every allowed move, and a sample of
forbidden ones with the 409 naming the allowed moves or the right endpoint."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.factories import Factory, Tenant
from tests.fixtures.fleet import events, history
from tests.missions.support import get, patch, scheduled

# (path of PATCH moves from a scheduled mission, final status)
ALLOWED_PATHS = [
    ["in_progress", "delivered"],
    ["in_progress", "failed"],
    ["in_progress", "failed", "unassigned"],
    ["in_progress", "cancelled"],
    ["in_progress", "delivered", "cancelled"],
    ["cancelled"],
]


async def _at(
    client: httpx.AsyncClient, factory: Factory, tenant: Tenant, *path: str, **fields: Any
) -> dict[str, Any]:
    mission, _ = await scheduled(factory, tenant, **fields)
    for status in path:
        extra = {"failureReason": "Nobody home"} if status == "failed" else {}
        response = await patch(client, tenant, mission["id"], status=status, **extra)
        assert response.status_code == 200, (path, response.text)
    return mission


class TestAllowedMoves:
    @pytest.mark.parametrize("path", ALLOWED_PATHS, ids=lambda p: "->".join(p))
    async def test_path(self, client: httpx.AsyncClient, factory: Factory, path: list[str]) -> None:
        tenant = await factory.tenant()
        mission = await _at(client, factory, tenant, *path)
        now = await get(client, tenant, mission["id"])
        assert now["status"] == path[-1]
        changed = [e for e in await events(tenant.id, mission["id"]) if e.type == "mission.status_changed"]
        # One event per move (the first is the route putting it on), each with its previous status.
        previous = ["unassigned", "scheduled", *path[:-1]]
        assert [e.payload["data"]["previousStatus"] for e in changed] == previous
        assert [e.payload["data"]["status"] for e in changed] == ["scheduled", *path]
        if path[-1] in ("cancelled", "unassigned"):
            assert now["routeId"] is None and now["sequence"] is None
        if "failed" in path:
            assert (await history(tenant.id, mission["id"]))[-1].changes[0]["field"] == "status"

    async def test_unassigned_can_be_cancelled_and_same_status_is_a_no_op(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        mission = await factory.mission(tenant)
        assert (await patch(client, tenant, mission["id"], status="unassigned")).status_code == 200
        assert (await patch(client, tenant, mission["id"], status="cancelled")).status_code == 200
        assert [e.type for e in await events(tenant.id, mission["id"])] == [
            "mission.created", "mission.status_changed"]  # fmt: skip

    async def test_cancel_before_start_refunds(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant(credits=3)
        await _at(client, factory, tenant, "cancelled")
        await _at(client, factory, tenant, "in_progress", "cancelled")
        me = (await client.get("/api/v1/me", headers=tenant.headers())).json()["data"]["company"]
        assert me["creditsRemaining"] == 2


class TestForbiddenMoves:
    @pytest.mark.parametrize(
        ("path", "target", "key"),
        [
            (["in_progress", "failed", "unassigned"], "scheduled", "useEndpoint"),
            ([], "proofed", "useEndpoint"),
            ([], "delivered", "allowedMoves"),
            (["in_progress"], "unassigned", "allowedMoves"),
            (["in_progress", "failed"], "in_progress", "allowedMoves"),
            (["in_progress", "delivered"], "proofed", "useEndpoint"),
            (["cancelled"], "unassigned", "allowedMoves"),
        ],
    )
    async def test_refused(
        self, client: httpx.AsyncClient, factory: Factory, path: list[str], target: str, key: str
    ) -> None:
        tenant = await factory.tenant()
        mission = await _at(client, factory, tenant, *path)
        before = await events(tenant.id, mission["id"])
        response = await patch(client, tenant, mission["id"], status=target)
        assert response.status_code == 409, response.text
        assert key in response.json()["error"]["details"]
        assert len(await events(tenant.id, mission["id"])) == len(before)

    async def test_scheduled_cannot_be_unassigned_by_patch(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        mission, _ = await scheduled(factory, tenant)
        response = await patch(client, tenant, mission["id"], status="unassigned")
        assert response.status_code == 409
        assert "reassign" in response.json()["error"]["details"]["useEndpoint"]

    async def test_delivered_without_proof_is_final(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        mission = await _at(client, factory, tenant, "in_progress", "delivered", proofRequired=False)
        response = await patch(client, tenant, mission["id"], status="cancelled")
        assert response.status_code == 409 and response.json()["error"]["details"]["allowedMoves"] == []

    async def test_failed_needs_a_reason(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission = await _at(client, factory, tenant, "in_progress")
        response = await patch(client, tenant, mission["id"], status="failed")
        assert (
            response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "failureReason"
        )
        stray = await patch(client, tenant, mission["id"], failureReason="why")
        assert stray.status_code == 422
