"""The fuzz tests' world: a company with a record of each kind, its credentials, and a server of
its own (rate limits out of the way) that schemathesis and the GraphQL fuzzer call over loopback."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.conftest import serve_api
from tests.fixtures.factories import Factory, Tenant

# Examples per operation (REST) or per document kind (GraphQL); FUZZ_EXAMPLES=200 digs deeper.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))


@dataclass
class World:
    base_url: str
    tenant: Tenant
    ids: dict[str, list[str]] = field(default_factory=dict)

    def headers(self, path: str) -> dict[str, str]:
        """The credential each surface takes: a full_access token, an admin's session, or none."""
        if path.startswith("/api/v1"):
            return self.tenant.headers("write")
        if path.startswith("/companies/me"):
            return self.tenant.headers("admin")
        return {}


@pytest.fixture(scope="session")
def fuzz_server(services: Any) -> Iterator[str]:
    # The fuzzers send hundreds of requests a second from one token: rate limiting has its own tests.
    yield from serve_api(services, "fuzz-api.log", RATE_LIMIT_PER_SECOND="100000", RATE_LIMIT_BURST="100000")


@pytest.fixture(scope="session")
async def fuzz_world(app: Any, fuzz_server: str) -> AsyncIterator[World]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        factory = Factory(http)
        tenant = await factory.tenant(credits=100_000)
        branch = await factory.branch(tenant)
        depot = await factory.depot(tenant, branch["id"])
        vehicle = await factory.vehicle(tenant, branch["id"])
        driver = await factory.driver(tenant, branch["id"])
        mission = await factory.mission(tenant, branch["id"])
        route = await factory.route(tenant, branch["id"], missionIds=[mission["id"]])
    yield World(
        base_url=fuzz_server,
        tenant=tenant,
        ids={
            "branch": [branch["id"]], "depot": [depot["id"]], "vehicle": [vehicle["id"]],
            "driver": [driver["id"]], "mission": [mission["id"]], "route": [route["id"]],
        },
    )  # fmt: skip
