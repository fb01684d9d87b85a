"""Settings > Rouptimize API: the company's tokens, the raw token shown once, credits and a curl line."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from app.settings_pages import documents
from app.settings_pages.panel import Form, Outcome, Panel, redirect

PAGE = "/settings/api"
NOTICES = {"token-deleted": "The token is deleted: requests made with it are now refused."}


def api_base_url(panel: Panel) -> str:
    return str(panel.request.base_url).rstrip("/") + "/api/v1"


async def _page(
    panel: Panel, status: int = 200, created: dict[str, Any] | None = None,
    form: Form | None = None, refusal: Outcome | None = None,
) -> Response:  # fmt: skip
    data = await panel.run(documents.API_PAGE, {"after": panel.request.query_params.get("after") or None})
    return panel.render(
        "api.html", status, me=data["me"], tokens=data["apiTokens"], created=created,
        base_url=api_base_url(panel), form=form or Form({}), refusal=refusal or Outcome(),
        notice=NOTICES.get(panel.request.query_params.get("done", ""), ""), section="api",
    )  # fmt: skip


async def api_page(panel: Panel, form: Form | None) -> Response:
    return await _page(panel)


def _token_input(form: Form) -> dict[str, Any]:
    expires_on = form.get("expiresOn").strip()
    return {
        "name": form.get("name"),
        "preset": form.get("preset").upper(),
        # A day picked in the form: the token works through the end of that day (UTC).
        "expiresAt": f"{expires_on}T23:59:59Z" if expires_on else None,
    }


async def create_token(panel: Panel, form: Form | None) -> Response:
    assert form is not None
    if form.get("preset") not in ("read_only", "full_access"):
        return await _page(panel, 422, form=form, refusal=Outcome(fields={"preset": "Choose a preset."}))
    result = await panel.mutate(documents.CREATE_TOKEN, {"input": _token_input(form)})
    if result.refused:
        return await _page(panel, 422, form=form, refusal=result)
    return await _page(panel, 201, created=result.payload)


async def delete_token(panel: Panel, form: Form | None) -> Response:
    token_id = str(panel.request.path_params["id"])
    if form is None:
        token = (await panel.run(documents.TOKEN, {"id": token_id}))["node"]
        return panel.render("confirm_delete_token.html", 200 if token else 404, token=token, section="api")
    result = await panel.mutate(documents.DELETE_TOKEN, {"id": token_id})
    if result.refused:
        return await _page(panel, 409, refusal=result)
    return redirect(f"{PAGE}?done=token-deleted")
