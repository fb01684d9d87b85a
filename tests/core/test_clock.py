"""Every rule that depends on "now" reads the application's clock: freezing it moves token, session
and idempotency-key expiry, the dashboard's today and the sweeps without sleeping or a calendar."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from app.core import clock
from app.core.db import unit_of_work
from app.core.idempotency import IdempotencyRecord
from app.core.principal import Principal
from app.core.security import read_session, sign_session
from app.settings import Settings, get_settings
from tests.fixtures import days
from tests.fixtures.factories import Factory
from workers.maintenance import expire_idempotency_keys_older_than


def test_frozen_clock_and_todays_date_in_a_zone() -> None:
    # 22:30 UTC on New Year's Eve is already the new year in Istanbul and still the old one in Chicago.
    eve = dt.datetime(2031, 12, 31, 22, 30, tzinfo=dt.UTC)
    with clock.frozen(eve):
        assert clock.utcnow() == eve and clock.timestamp() == eve.timestamp()
        assert clock.today("Europe/Istanbul") == dt.date(2032, 1, 1)
        assert clock.today("America/Chicago") == dt.date(2031, 12, 31)
        assert days.day() == "2032-01-01" and days.at("09:00", 1) == "2032-01-01T09:00:00Z"
    assert clock.utcnow() != eve
    with pytest.raises(ValueError, match="aware"):
        with clock.frozen(dt.datetime(2031, 1, 1)):
            pass


def test_the_offset_setting_shifts_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    base = get_settings().clock_offset_seconds
    monkeypatch.setenv("CLOCK_OFFSET_SECONDS", str(base + 3 * 365 * 86_400))
    get_settings.cache_clear()
    clock.reload()
    try:
        ahead = clock.utcnow() - dt.datetime.now(dt.UTC) - dt.timedelta(seconds=base)
        assert dt.timedelta(days=3 * 365, seconds=-5) < ahead < dt.timedelta(days=3 * 365, seconds=5)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        clock.reload()
    drift = clock.utcnow() - dt.datetime.now(dt.UTC) - dt.timedelta(seconds=base)
    assert abs(drift) < dt.timedelta(seconds=5)


def test_production_runs_on_the_real_clock() -> None:
    with pytest.raises(ValidationError, match="CLOCK_OFFSET_SECONDS"):
        Settings(environment="production", token_hash_secret="a" * 32, session_secret="b" * 32,
                 webhook_signing_secret="c" * 32, webhook_allow_private_networks=False,
                 clock_offset_seconds=3600)  # fmt: skip


def test_sessions_expire_by_the_application_clock() -> None:
    token, expires_at = sign_session({"sub": "u", "typ": "web"}, 600)
    assert expires_at - clock.utcnow() <= dt.timedelta(seconds=600)
    with clock.frozen(expires_at - dt.timedelta(seconds=1)):
        assert read_session(token) is not None
    with clock.frozen(expires_at):
        assert read_session(token) is None
    # Signed on a clock a year ahead, it is still good there and not yet expired here.
    with clock.frozen(clock.utcnow() + dt.timedelta(days=365)):
        ahead, _ = sign_session({"sub": "u", "typ": "web"}, 600)
        assert read_session(ahead) is not None


async def test_api_tokens_expire_by_the_application_clock(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    expires = days.moment("12:00", 3)
    created = await client.post(
        "/companies/me/api-tokens",
        json={"name": "until noon", "preset": "read_only", "expiresAt": days.at("12:00", 3)},
        headers=tenant.headers("admin"),
    )
    assert created.status_code == 201, created.text
    bearer = {"Authorization": f"Bearer {created.json()['data']['token']}"}
    with clock.frozen(expires - dt.timedelta(seconds=1)):
        assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200
    with clock.frozen(expires):
        assert (await client.get("/api/v1/me", headers=bearer)).status_code == 401
    # The token's use is stamped by the same clock.
    listed = await client.get("/companies/me/api-tokens", headers=tenant.headers("admin"))
    [token] = [t for t in listed.json()["data"] if t["name"] == "until noon"]
    assert token["lastUsedAt"].startswith(days.day(3, zone="UTC"))


async def test_idempotency_keys_expire_by_the_application_clock(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    headers = tenant.headers(**{"Idempotency-Key": "tomorrow-it-is-gone"})
    assert (await client.post("/api/v1/branches", json={"name": "A"}, headers=headers)).status_code == 201

    async def kept() -> list[str]:
        async with unit_of_work(Principal.system(tenant.id)) as uow:
            return await uow.scalars(
                select(IdempotencyRecord.key).where(IdempotencyRecord.company_id == tenant.id)
            )

    with clock.frozen(clock.utcnow() + dt.timedelta(hours=23)):
        async with unit_of_work(Principal.system(None)) as uow:
            await expire_idempotency_keys_older_than(uow, 24)
    assert await kept() == ["tomorrow-it-is-gone"]
    with clock.frozen(clock.utcnow() + dt.timedelta(hours=25)):
        async with unit_of_work(Principal.system(None)) as uow:
            assert await expire_idempotency_keys_older_than(uow, 24) >= 1
    assert await kept() == []
