"""The settings pages over HTTP, as a browser's form posts reach them: the session cookie, CSRF and
origin checks, the admin-only rule, and every webhook action with its refusal beside its form."""

from __future__ import annotations

import re

import httpx

from app.core.outbox import EVENT_TYPES
from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant
from tests.graphql.client import gql
from tests.settings.support import browser_like, csrf_of, sign_in, web_user


async def _token_names(client: httpx.AsyncClient, tenant: Tenant) -> list[str]:
    answer = await gql(client, tenant.admin_session, "{ apiTokens { nodes { name } } }")
    return [t["name"] for t in answer.json()["data"]["apiTokens"]["nodes"]]


def _value(page: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}"[^>]*value="([^"]*)"', page)
    assert found, page
    return found.group(1)


async def test_the_session_cookie_is_httponly_lax_and_secure_and_kept_to_settings(
    app: object, factory: Factory
) -> None:
    tenant = await factory.tenant()
    async with browser_like(app) as http:
        away = await http.get("/settings/webhooks")
        assert (away.status_code, away.headers["location"]) == (
            303,
            "/settings/sign-in?next=/settings/webhooks",
        )

        wrong = await sign_in(http, tenant.admin_email, "not-the-password")
        assert wrong.status_code == 401 and "Email or password is wrong." in wrong.text
        assert _value(wrong.text, "email") == tenant.admin_email  # typed input kept
        assert "rouptimize_session" not in http.cookies

        signed = await sign_in(http, tenant.admin_email, tenant.admin_password)
        assert (signed.status_code, signed.headers["location"]) == (303, "/settings/api")
        cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith("rouptimize_session="))
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "secure", "samesite=lax", "path=/settings"} <= flags

        page = await http.get("/settings/api")
        assert page.status_code == 200 and tenant.admin_email in page.text
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert page.headers["cache-control"] == "no-store"
        assert "<script>" not in page.text and " style=" not in page.text  # nothing inline
        for asset in re.findall(r'(?:src|href)="(/settings/assets/[^"]+)"', page.text):
            served = await http.get(asset)
            assert served.status_code == 200 and "immutable" in served.headers["cache-control"]
        stale = await http.get("/settings/assets/0000000000000000/settings.js")
        assert stale.status_code == 404


async def test_sign_in_refuses_a_forged_form_and_only_returns_to_settings(
    app: object, factory: Factory
) -> None:
    tenant = await factory.tenant()
    async with browser_like(app) as http:
        await http.get("/settings/sign-in")
        credentials = {"email": tenant.admin_email, "password": tenant.admin_password}
        forged = await http.post("/settings/sign-in", data={**credentials, "csrf": "guessed"})
        assert forged.status_code == 403 and "rouptimize_session" not in http.cookies

        form = await http.get("/settings/sign-in")
        away = await http.post(
            "/settings/sign-in", data={**credentials, "csrf": csrf_of(form.text), "next": "//evil.example/x"}
        )
        assert away.headers["location"] == "/settings/api"


async def test_forms_need_the_session_csrf_token_and_this_origin(
    app: object, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    async with browser_like(app) as http:
        await sign_in(http, tenant.admin_email, tenant.admin_password)
        csrf = csrf_of((await http.get("/settings/api")).text)
        token = {"name": "Forged", "preset": "full_access"}

        missing = await http.post("/settings/api/tokens", data=token)
        other_session = await http.post("/settings/api/tokens", data={**token, "csrf": csrf[::-1]})
        cross_site = await http.post(
            "/settings/api/tokens", data={**token, "csrf": csrf}, headers={"origin": "https://evil.example"}
        )
        assert [r.status_code for r in (missing, other_session, cross_site)] == [403, 403, 403]
        assert "Forged" not in await _token_names(client, tenant)

        made = await http.post(
            "/settings/api/tokens", data={**token, "csrf": csrf}, headers={"origin": "https://test"}
        )
        assert made.status_code == 201 and "Forged" in await _token_names(client, tenant)

        out = await http.post("/settings/sign-out", data={"csrf": "guessed"})
        assert out.status_code == 403 and "rouptimize_session" in http.cookies
        out = await http.post("/settings/sign-out", data={"csrf": csrf})
        assert out.headers["location"] == "/settings/sign-in?done=signed-out"
        assert "rouptimize_session" not in http.cookies


async def test_other_roles_are_signed_in_but_refused_every_page_and_action(
    app: object, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    for role in ("viewer", "dispatcher"):
        email = await web_user(tenant, role)
        async with browser_like(app) as http:
            await sign_in(http, email, "s3cret-password")
            refused = await http.get("/settings/api")
            assert refused.status_code == 403 and "Only company admins" in refused.text
            assert (await http.get("/settings/webhooks")).status_code == 403
            posted = await http.post(
                "/settings/api/tokens",
                data={"name": role, "preset": "read_only", "csrf": csrf_of(refused.text)},
            )
            assert posted.status_code == 403
    assert set(await _token_names(client, tenant)) == {"reader", "writer"}


async def test_a_token_refused_keeps_what_was_typed_and_the_created_one_is_shown_once(
    app: object, factory: Factory
) -> None:
    tenant = await factory.tenant()
    async with browser_like(app) as http:
        await sign_in(http, tenant.admin_email, tenant.admin_password)
        csrf = csrf_of((await http.get("/settings/api")).text)
        refused = await http.post(
            "/settings/api/tokens",
            data={"csrf": csrf, "name": "Nightly", "preset": "read_only", "expiresOn": days.day(-1)},
        )
        assert refused.status_code == 422
        assert re.search(r'id="expiresAt-error">[^<]*future', refused.text)
        assert _value(refused.text, "name") == "Nightly" and _value(refused.text, "expiresOn") == days.day(-1)

        blank = await http.post(
            "/settings/api/tokens", data={"csrf": csrf, "name": "", "preset": "read_only"}
        )
        assert blank.status_code == 422 and 'id="name-error"' in blank.text

        made = await http.post(
            "/settings/api/tokens", data={"csrf": csrf, "name": "Nightly", "preset": "read_only"}
        )
        raw = re.search(r'id="new-token">([^<]+)<', made.text)
        assert made.status_code == 201 and raw and made.headers["cache-control"] == "no-store"
        async with httpx.AsyncClient(transport=http._transport, base_url="https://test") as api:
            me = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {raw.group(1)}"})
        assert me.json()["data"]["token"]["preset"] == "read_only"
        assert raw.group(1) not in (await http.get("/settings/api")).text


async def test_every_webhook_action_answers_beside_its_form(app: object, factory: Factory) -> None:
    tenant = await factory.tenant()
    async with browser_like(app) as http:
        await sign_in(http, tenant.admin_email, tenant.admin_password)
        csrf = csrf_of((await http.get("/settings/webhooks")).text)
        created = await http.post(
            "/settings/webhooks",
            data={"csrf": csrf, "url": "http://127.0.0.1:9/hooks", "eventTypes": ["mission.created"]},
        )
        assert created.status_code == 201 and re.search(r'id="new-secret">whsec_', created.text)
        page = re.search(r'action="(/settings/webhooks/[0-9a-f-]+)/test"', created.text)
        assert page
        endpoint = page.group(1)

        edit = {"csrf": csrf, "url": "ftp://nowhere", "description": "Kept", "eventTypes": ["route.created"]}
        refused = await http.post(endpoint, data=edit)
        assert refused.status_code == 422 and 'id="url-error"' in refused.text
        assert _value(refused.text, "description") == "Kept"
        assert re.search(r'value="route.created" checked', refused.text)
        saved = await http.post(endpoint, data={**edit, "url": "http://127.0.0.1:9/other"})
        assert saved.status_code == 303
        shown = (await http.get(endpoint)).text
        assert "http://127.0.0.1:9/other" in shown and "Events: route.created" in shown

        await http.post(f"{endpoint}/status", data={"csrf": csrf, "status": "disabled"})
        disabled = await http.get(endpoint)
        assert "disabled by an admin" in disabled.text
        test = await http.post(f"{endpoint}/test", data={"csrf": csrf})
        assert test.status_code == 409 and 'role="alert"' in test.text and "enable" in test.text.lower()
        await http.post(f"{endpoint}/status", data={"csrf": csrf, "status": "enabled"})
        assert 'id="endpoint-status">enabled' in (await http.get(endpoint)).text

        too_long = await http.post(f"{endpoint}/rotate", data={"csrf": csrf, "overlapHours": "500"})
        assert too_long.status_code == 422 and 'id="overlapHours-error"' in too_long.text
        assert _value(too_long.text, "overlapHours") == "500"
        rotated = await http.post(f"{endpoint}/rotate", data={"csrf": csrf, "overlapHours": "2"})
        assert re.search(r'id="new-secret">whsec_', rotated.text) and "New signing secret" in rotated.text

        backwards = {"csrf": csrf, "from": days.at("10:00")[:16], "to": days.at("09:00")[:16]}
        replay = await http.post(f"{endpoint}/replay", data=backwards)
        assert replay.status_code == 422 and 'role="alert"' in replay.text
        assert _value(replay.text, "replay-from") == backwards["from"]
        empty = await http.post(f"{endpoint}/replay", data={"csrf": csrf, "from": "", "to": ""})
        assert empty.status_code == 422 and 'id="from-error"' in empty.text
        replayed = await http.post(
            f"{endpoint}/replay",
            data={"csrf": csrf, "from": days.at("00:00", -1)[:16], "to": days.at("23:59")[:16]},
        )
        assert replayed.status_code == 303 and replayed.headers["location"].endswith("done=replayed")

        confirm = await http.get(f"{endpoint}/delete")
        assert confirm.status_code == 200 and "Delete the endpoint?" in confirm.text
        deleted = await http.post(f"{endpoint}/delete", data={"csrf": csrf})
        assert deleted.headers["location"] == "/settings/webhooks?done=endpoint-deleted"
        assert (await http.get(endpoint)).status_code == 404


async def test_graphql_lists_the_event_types_an_endpoint_may_subscribe_to(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    answer = (await gql(client, tenant.admin_session, "{ webhookEventTypes }")).json()
    assert answer["data"]["webhookEventTypes"] == sorted(EVENT_TYPES)
    refused = (await gql(client, tenant.write_token, "{ webhookEventTypes }")).json()
    assert refused["errors"][0]["extensions"]["code"] == "insufficient_scope"
