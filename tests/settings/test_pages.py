"""The settings pages over HTTP: sign-in, the admin-only rule, CSRF, errors beside their fields."""

from __future__ import annotations

from tests.fixtures.factories import Factory
from tests.settings.support import browser_like, sign_in


async def test_smoke(app: object, factory: Factory) -> None:
    tenant = await factory.tenant()
    async with browser_like(app) as http:
        signed = await sign_in(http, tenant.admin_email, tenant.admin_password)
        assert signed.status_code == 303, signed.text
        page = await http.get("/settings/api")
        assert page.status_code == 200, page.text
        print(page.text)
        hooks = await http.get("/settings/webhooks")
        assert hooks.status_code == 200, hooks.text
