"""The standard battery, generated from the endpoint declarations: every endpoint refuses missing,
bad and under-scoped credentials, hides other companies' records, and is documented."""

from __future__ import annotations

import httpx
import pytest

from app.core.principal import Scope
from rest_compat.endpoints import ENDPOINTS
from rest_compat.router import PREFIXES
from rest_compat.spec import Endpoint
from tests.contract.resources import MAKERS, resource_of
from tests.fixtures.factories import Factory

AUTHENTICATED = [ep for ep in ENDPOINTS if ep.surface != "auth"]
API_WRITES = [ep for ep in ENDPOINTS if ep.surface == "api" and ep.scope == Scope.WRITE]
WITH_ID = [ep for ep in AUTHENTICATED if "{id}" in ep.path]


def _ids(ep: Endpoint) -> str:
    return f"{ep.method} {PREFIXES[ep.surface]}{ep.path}"


def _url(ep: Endpoint, record_id: str = "00000000-0000-4000-8000-000000000000") -> str:
    return PREFIXES[ep.surface] + ep.path.replace("{id}", record_id)


async def _send(client: httpx.AsyncClient, ep: Endpoint, url: str, headers: dict[str, str]) -> httpx.Response:
    kwargs: dict[str, object] = {"headers": headers}
    if ep.mutating and ep.method != "DELETE":
        kwargs["json"] = ep.example or {}
    return await client.request(ep.method, url, **kwargs)  # type: ignore[arg-type]


def _assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert set(body["error"]) == {"code", "message", "details", "requestId"}
    assert body["error"]["requestId"] == response.headers["x-request-id"]


@pytest.mark.parametrize("ep", AUTHENTICATED, ids=_ids)
async def test_no_token_is_401(client: httpx.AsyncClient, ep: Endpoint) -> None:
    _assert_error(await _send(client, ep, _url(ep), {}), 401, "unauthorized")


@pytest.mark.parametrize("ep", AUTHENTICATED, ids=_ids)
async def test_unknown_token_is_401(client: httpx.AsyncClient, ep: Endpoint) -> None:
    for credential in ("rpt_test_" + "x" * 43, "garbage", "rpt_live_"):
        response = await _send(client, ep, _url(ep), {"Authorization": f"Bearer {credential}"})
        _assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize("ep", API_WRITES, ids=_ids)
async def test_read_only_token_cannot_write(
    client: httpx.AsyncClient, factory: Factory, ep: Endpoint
) -> None:
    tenant = await factory.tenant()
    record = await MAKERS[resource_of(ep.path)](factory, tenant) if "{id}" in ep.path else {"id": "x"}
    response = await _send(client, ep, _url(ep, record["id"]), tenant.headers("read"))
    _assert_error(response, 403, "insufficient_scope")


@pytest.mark.parametrize("ep", [ep for ep in ENDPOINTS if ep.surface == "settings"], ids=_ids)
async def test_api_tokens_cannot_use_settings(
    client: httpx.AsyncClient, factory: Factory, ep: Endpoint
) -> None:
    tenant = await factory.tenant()
    for kind in ("read", "write"):
        _assert_error(await _send(client, ep, _url(ep), tenant.headers(kind)), 403, "insufficient_scope")


@pytest.mark.parametrize("ep", WITH_ID, ids=_ids)
async def test_other_companys_record_is_404(
    client: httpx.AsyncClient, factory: Factory, ep: Endpoint
) -> None:
    owner, intruder = await factory.tenant(), await factory.tenant()
    record = await MAKERS[resource_of(ep.path)](factory, owner)
    kind = "admin" if ep.surface == "settings" else "write"
    response = await _send(client, ep, _url(ep, record["id"]), intruder.headers(kind))
    _assert_error(response, 404, "not_found")
    # ... and exactly as a missing or malformed id answers.
    for missing in ("00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        _assert_error(await _send(client, ep, _url(ep, missing), intruder.headers(kind)), 404, "not_found")


async def test_every_contract_endpoint_is_documented_with_an_example(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    for ep in ENDPOINTS:
        operation = document["paths"][PREFIXES[ep.surface] + ep.path][ep.method.lower()]
        success = operation["responses"][str(ep.status)]
        if ep.status != 204:
            assert "example" in success["content"]["application/json"], _ids(ep)
        if ep.body is not None:
            assert "example" in operation["requestBody"]["content"]["application/json"], _ids(ep)


def test_every_endpoint_of_the_contract_is_declared() -> None:
    """The contract's endpoint table (shared/ENDPOINTS.md beside the repository) is fully served."""
    import re
    from pathlib import Path

    table = Path(__file__).parents[3] / "shared" / "ENDPOINTS.md"
    if not table.exists():
        pytest.skip("shared/ENDPOINTS.md is not beside this checkout")
    wanted = {
        (m.group(1), m.group(2))
        for m in re.finditer(r"^\| \d+ \| (\w+) \| `([^`]+)`", table.read_text(), re.M)
    }
    declared = {(ep.method, re.sub(r"\{(\w+)\}", r":\1", PREFIXES[ep.surface] + ep.path)) for ep in ENDPOINTS}
    assert len(wanted) == 71
    assert wanted - declared == set()


WRITES = [ep for ep in AUTHENTICATED if ep.mutating]


@pytest.mark.parametrize("ep", WRITES, ids=_ids)
async def test_every_write_replays_its_stored_answer(
    client: httpx.AsyncClient, factory: Factory, ep: Endpoint
) -> None:
    """Whatever the first answer was (created, refused, conflict), the same key gives it back as it was."""
    tenant = await factory.tenant()
    record = await MAKERS[resource_of(ep.path)](factory, tenant) if "{id}" in ep.path else {"id": "x"}
    kind = "admin" if ep.surface == "settings" else "write"
    headers = tenant.headers(kind, **{"Idempotency-Key": f"replay-{ep.operation_id}"})
    url = _url(ep, record["id"])
    first = await _send(client, ep, url, headers)
    second = await _send(client, ep, url, headers)
    assert first.status_code < 500, first.text
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert second.headers["idempotent-replayed"] == "true"
