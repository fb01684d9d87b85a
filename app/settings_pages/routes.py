"""The settings pages' routes, registered by app/main.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.settings_pages import api_tokens, assets, sign_in, webhooks
from app.settings_pages.panel import admin_page, redirect

_GET, _POST, _BOTH = ["GET"], ["POST"], ["GET", "POST"]


async def home(request: Request) -> Response:
    return redirect(api_tokens.PAGE)


def routes() -> list[Route]:
    endpoint = "/settings/webhooks/{id:uuid}"
    return [
        Route("/settings", home, methods=_GET),
        Route("/settings/", home, methods=_GET),
        Route("/settings/sign-in", sign_in.sign_in, methods=_BOTH),
        Route("/settings/sign-out", sign_in.sign_out, methods=_POST),
        Route("/settings/api", admin_page(api_tokens.api_page), methods=_GET),
        Route("/settings/api/tokens", admin_page(api_tokens.create_token), methods=_POST),
        Route("/settings/api/tokens/{id:uuid}/delete", admin_page(api_tokens.delete_token), methods=_BOTH),
        Route("/settings/webhooks", admin_page(webhooks.webhooks_page), methods=_BOTH),
        Route(endpoint, admin_page(webhooks.endpoint_page), methods=_BOTH),
        Route(endpoint + "/status", admin_page(webhooks.set_status), methods=_POST),
        Route(endpoint + "/rotate", admin_page(webhooks.rotate_secret), methods=_POST),
        Route(endpoint + "/test", admin_page(webhooks.send_test), methods=_POST),
        Route(endpoint + "/replay", admin_page(webhooks.replay), methods=_POST),
        Route(
            endpoint + "/deliveries/{delivery_id:uuid}/redeliver",
            admin_page(webhooks.redeliver),
            methods=_POST,
        ),
        Route(endpoint + "/delete", admin_page(webhooks.delete_endpoint), methods=_BOTH),
        Route(assets.ASSET_PREFIX + "/{digest}/{name}", assets.asset, methods=_GET),
    ]
