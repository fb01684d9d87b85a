from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from app.companies.service import company_service
from app.core.db import unit_of_work
from app.core.principal import Principal
from app.core.security import sign_session
from app.settings import Settings
from tests.fixtures.factories import Factory


def test_production_refuses_to_start_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TOKEN_HASH_SECRET",
        "SESSION_SECRET",
        "WEBHOOK_SIGNING_SECRET",
        "CLOCK_OFFSET_SECONDS",
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS",
    ):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError, match="TOKEN_HASH_SECRET"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="SESSION_SECRET must be at least 32 bytes"):
        Settings(environment="production", token_hash_secret="a" * 32, session_secret="short",
                 webhook_signing_secret="c" * 32)  # fmt: skip
    live = Settings(
        environment="production", token_hash_secret="a" * 32, session_secret="b" * 40,
        webhook_signing_secret="c" * 32,
    )  # fmt: skip
    assert live.token_prefix == "rpt_live_"


async def test_only_admins_reach_settings(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    async with unit_of_work(Principal.system(tenant.id), kind="owner") as uow:
        dispatcher = await company_service.add_user(
            uow, email=f"d-{tenant.id.hex[:8]}@example.com", password="dispatch-pw", role="dispatcher"
        )
    session, _ = sign_session({"sub": str(dispatcher.id), "cid": str(tenant.id), "typ": "web"}, 600)
    response = await client.get("/companies/me/api-tokens", headers={"Authorization": f"Bearer {session}"})
    assert (response.status_code, response.json()["error"]["code"]) == (403, "insufficient_scope")
