"""Settings > Webhooks: endpoints, the secret shown once, test events, delivery history, recovery."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from app.settings_pages import documents
from app.settings_pages.panel import Form, Outcome, Panel, redirect

PAGE = "/settings/webhooks"
ALL = "*"
TEST_EVENT = "webhook_endpoint.test"
DELIVERY_STATUSES = ("PENDING", "SENDING", "SUCCEEDED", "RETRYING", "FAILED", "CANCELLED")
NOTICES = {
    "endpoint-deleted": "The endpoint is deleted: no more events are sent to it.",
    "endpoint-saved": "The endpoint is saved.",
    "endpoint-enabled": "The endpoint is enabled: events are sent to it again.",
    "endpoint-disabled": "The endpoint is disabled: no events are sent to it until you enable it.",
    "test-sent": "The test event was sent: its attempt is the newest in the history below.",
    "redelivered": "The event is planned for delivery again, now: its new attempt is listed below.",
    "replayed": "The time range's events are planned for delivery again.",
}


def _event_types(form: Form) -> list[str]:
    """What the checkboxes chose: "All event types", or none ticked, subscribes to every type."""
    chosen = form.getlist("eventTypes")
    return [ALL] if ALL in chosen or not chosen else chosen


def _endpoint_input(form: Form) -> dict[str, Any]:
    return {
        "url": form.get("url").strip(),
        "description": form.get("description").strip() or None,
        "eventTypes": _event_types(form),
    }


def _notice(panel: Panel) -> str:
    return NOTICES.get(panel.request.query_params.get("done", ""), "")


# --- the list and the new endpoint ---------------------------------------------------------------
async def _list(
    panel: Panel, status: int = 200, form: Form | None = None, refusal: Outcome | None = None
) -> Response:
    data = await panel.run(
        documents.WEBHOOKS_PAGE, {"after": panel.request.query_params.get("after") or None}
    )
    return panel.render(
        "webhooks.html", status, me=data["me"], endpoints=data["webhookEndpoints"],
        event_types=data["webhookEventTypes"], form=form or Form({}), refusal=refusal or Outcome(),
        notice=_notice(panel), section="webhooks",
    )  # fmt: skip


async def webhooks_page(panel: Panel, form: Form | None) -> Response:
    if form is None:
        return await _list(panel)
    result = await panel.mutate(documents.CREATE_ENDPOINT, {"input": _endpoint_input(form)})
    if result.refused:
        return await _list(panel, 422, form, result)
    assert result.payload is not None
    return await _endpoint(panel, result.payload["id"], 201, secret=result.payload["secret"], created=True)


# --- one endpoint ---------------------------------------------------------------------------------
def _filters(panel: Panel) -> dict[str, Any]:
    params = panel.request.query_params
    status = params.get("status", "")
    return {
        "status": [status] if status in DELIVERY_STATUSES else None,
        "eventType": params.get("eventType") or None,
        "after": params.get("after") or None,
    }


async def _endpoint(
    panel: Panel, endpoint_id: str, status: int = 200, *, secret: str | None = None, created: bool = False,
    form: Form | None = None, refusal: Outcome | None = None, action: str = "",
) -> Response:  # fmt: skip
    """The endpoint's page; a refused action shows its message beside that action's form."""
    filters = _filters(panel)
    data = await panel.run(documents.ENDPOINT_PAGE, {"id": endpoint_id, **filters})
    return panel.render(
        "endpoint.html", status, me=data["me"], endpoint=data["webhookEndpoint"],
        event_types=data["webhookEventTypes"], delivery_statuses=DELIVERY_STATUSES, test_event=TEST_EVENT,
        filters=panel.request.query_params, secret=secret, created=created, form=form or Form({}),
        refusal=refusal or Outcome(), action=action, notice=_notice(panel), section="webhooks",
    )  # fmt: skip


def _id(panel: Panel) -> str:
    return str(panel.request.path_params["id"])


async def endpoint_page(panel: Panel, form: Form | None) -> Response:
    """The endpoint and its history; posted, its edit form."""
    if form is None:
        return await _endpoint(panel, _id(panel))
    update = {**_endpoint_input(form), "description": form.get("description").strip()}
    result = await panel.mutate(documents.UPDATE_ENDPOINT, {"id": _id(panel), "input": update})
    if result.refused:
        return await _endpoint(panel, _id(panel), 422, form=form, refusal=result, action="edit")
    return redirect(f"{PAGE}/{_id(panel)}?done=endpoint-saved")


async def set_status(panel: Panel, form: Form | None) -> Response:
    assert form is not None
    wanted = "ENABLED" if form.get("status") == "enabled" else "DISABLED"
    result = await panel.mutate(documents.UPDATE_ENDPOINT, {"id": _id(panel), "input": {"status": wanted}})
    if result.refused:
        return await _endpoint(panel, _id(panel), 409, refusal=result, action="status")
    return redirect(f"{PAGE}/{_id(panel)}?done=endpoint-{wanted.lower()}")


async def rotate_secret(panel: Panel, form: Form | None) -> Response:
    assert form is not None
    hours = form.get("overlapHours").strip()
    if not hours.lstrip("-").isdigit():
        refusal = Outcome(message="The overlap must be a whole number of hours.",
                          fields={"overlapHours": "must be a whole number"})  # fmt: skip
        return await _endpoint(panel, _id(panel), 422, form=form, refusal=refusal, action="rotate")
    result = await panel.mutate(documents.ROTATE_SECRET, {"id": _id(panel), "overlapHours": int(hours)})
    if result.refused:
        return await _endpoint(panel, _id(panel), 422, form=form, refusal=result, action="rotate")
    assert result.payload is not None
    return await _endpoint(panel, _id(panel), secret=result.payload["secret"])


async def send_test(panel: Panel, form: Form | None) -> Response:
    result = await panel.mutate(documents.SEND_TEST, {"endpointId": _id(panel)})
    if result.refused:
        return await _endpoint(panel, _id(panel), 409, refusal=result, action="test")
    return redirect(f"{PAGE}/{_id(panel)}?done=test-sent")


async def redeliver(panel: Panel, form: Form | None) -> Response:
    delivery_id = str(panel.request.path_params["delivery_id"])
    variables = {"endpointId": _id(panel), "deliveryId": delivery_id}
    result = await panel.mutate(documents.REDELIVER, variables)
    if result.refused:
        return await _endpoint(panel, _id(panel), 409, refusal=result, action=f"redeliver:{delivery_id}")
    return redirect(f"{PAGE}/{_id(panel)}?done=redelivered")


def _instant(value: str) -> str | None:
    # A datetime-local field's value, read as UTC (the form says so).
    value = value.strip()
    return f"{value}:00Z" if len(value) == 16 else (f"{value}Z" if value else None)


async def replay(panel: Panel, form: Form | None) -> Response:
    assert form is not None
    start, end = _instant(form.get("from")), _instant(form.get("to"))
    missing = {name: "is required" for name, value in (("from", start), ("to", end)) if value is None}
    if missing:
        refusal = Outcome(message="Choose the start and the end of the range.", fields=missing)
        return await _endpoint(panel, _id(panel), 422, form=form, refusal=refusal, action="replay")
    variables = {"endpointId": _id(panel), "input": {"from": start, "to": end}}
    result = await panel.mutate(documents.REPLAY, variables)
    if result.refused:
        return await _endpoint(panel, _id(panel), 422, form=form, refusal=result, action="replay")
    assert result.payload is not None
    return redirect(f"{PAGE}/{_id(panel)}?done=replayed")


async def delete_endpoint(panel: Panel, form: Form | None) -> Response:
    if form is None:
        data = await panel.run(documents.ENDPOINT_PAGE, {"id": _id(panel)})
        return panel.render(
            "confirm_delete_endpoint.html", endpoint=data["webhookEndpoint"], section="webhooks"
        )
    result = await panel.mutate(documents.DELETE_ENDPOINT, {"id": _id(panel)})
    if result.refused:
        return await _endpoint(panel, _id(panel), 409, refusal=result, action="delete")
    return redirect(f"{PAGE}?done=endpoint-deleted")
