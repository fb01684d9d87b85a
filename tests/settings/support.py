"""Signing in to the settings pages over HTTP, as a browser's form posts do."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from app.companies.service import company_service
from app.core.db import unit_of_work
from app.core.principal import Principal
from tests.fixtures.factories import Tenant

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found, page
    return found.group(1)


@asynccontextmanager
async def browser_like(app: object) -> AsyncIterator[httpx.AsyncClient]:
    """A client over https (the session cookie is Secure outside development) that keeps cookies."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as http:
        yield http


async def sign_in(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await http.get("/settings/sign-in")
    return await http.post(
        "/settings/sign-in", data={"csrf": csrf_of(form.text), "email": email, "password": password}
    )


async def web_user(tenant: Tenant, role: str, password: str = "s3cret-password") -> str:
    """Another user of the tenant's company, with this role: their email."""
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
    async with unit_of_work(Principal.system(tenant.id), kind="owner") as uow:
        await uow.bind(Principal.system(tenant.id))
        await company_service.add_user(uow, email=email, password=password, role=role)
    return email
