from __future__ import annotations

from app.core.principal import Scope
from app.webhooks import recovery
from app.webhooks.schemas import (
    DeliveryQuery,
    ReplayOut,
    ReplayRequest,
    WebhookDeliveryOut,
    WebhookEndpointCreate,
    WebhookEndpointOut,
    WebhookEndpointUpdate,
)
from app.webhooks.service import webhook_service as svc
from rest_compat.endpoints.settings import SettingsListQuery
from rest_compat.spec import Endpoint

TAG = "Settings"
SIGNING = (
    "Deliveries are POSTed with `X-Rouptimize-Signature: t=<unix>,v1=<hex>` where hex = "
    'HMAC-SHA256(secret, "<t>." + body), plus `X-Rouptimize-Event-Id` and `X-Rouptimize-Event-Type`, '
    "and the Standard Webhooks headers `webhook-id`, `webhook-timestamp` and "
    "`webhook-signature: v1,<base64>` "
    "(verify them with the `standardwebhooks` package or Svix's libraries and the `whsec_` secret). "
    "Any 2xx within 15 s is success; anything else is tried again at 5 s, 5 min, 30 min, 2 h, 5 h, "
    "10 h, 14 h, 20 h and 24 h (+-10 %; a 429 or 503 `Retry-After` is honoured). A 410 disables the "
    "endpoint at once (`disabledReason: gone`); five days without a success disable it (`failing`). "
    "The URL must be https in production, and every address it names or resolves to must be public."
)
DELIVERY = {
    "id": "0193a5e0-7c1d-7e2f-8a3b-4c5d6e7f8091", "eventId": "evt_0193a5e07c1d7e2f8a3b4c5d6e7f8090",
    "eventType": "mission.status_changed", "attempt": 2, "status": "pending", "trigger": "redeliver",
    "dueAt": "2026-11-26T08:30:00Z", "sentAt": None, "responseStatus": None, "responseExcerpt": None,
    "error": None, "durationMs": None, "nextAttemptAt": None, "createdAt": "2026-11-26T08:30:00Z",
}  # fmt: skip

ENDPOINTS = [
    Endpoint("GET", "/webhook-endpoints", Scope.ADMIN, lambda uow, c: svc.list(uow, c.query),
             summary="List webhook endpoints.", tag=TAG, surface="settings", query=SettingsListQuery,
             returns=WebhookEndpointOut, many=True),
    Endpoint("POST", "/webhook-endpoints", Scope.ADMIN, lambda uow, c: svc.create(uow, c.body),
             summary="Create a webhook endpoint.", tag=TAG, surface="settings", body=WebhookEndpointCreate,
             returns=WebhookEndpointOut, status=201,
             example={"url": "https://erp.example.com/rouptimize/webhooks", "description": "ERP sync",
                      "eventTypes": ["mission.status_changed", "route.completed"]},
             description="The signing `secret` is in this response only. An empty `eventTypes` subscribes "
             "to every event type. " + SIGNING),
    Endpoint("PATCH", "/webhook-endpoints/{id}", Scope.ADMIN,
             lambda uow, c: svc.update(uow, c.record, c.body),
             loads=svc.get, summary="Update a webhook endpoint.", tag=TAG, surface="settings",
             body=WebhookEndpointUpdate, returns=WebhookEndpointOut,
             example={"status": "disabled"},
             description="`rotateSecret: {\"overlapHours\": 1..168}` (or `true`: 24 hours) returns a new "
             "`secret` once; during the overlap every delivery is signed with each active secret. Setting "
             "`status` to `disabled` records `disabledReason: manual`; enabling clears the reason."),
    Endpoint("DELETE", "/webhook-endpoints/{id}", Scope.ADMIN, lambda uow, c: svc.delete(uow, c.record),
             loads=svc.get, summary="Delete a webhook endpoint.", tag=TAG, surface="settings", status=204),
    Endpoint("GET", "/webhook-endpoints/{id}/deliveries", Scope.ADMIN,
             lambda uow, c: svc.deliveries(uow, c.record, c.query), loads=svc.get,
             summary="Review recent webhook deliveries.", tag=TAG, surface="settings", query=DeliveryQuery,
             returns=WebhookDeliveryOut, many=True,
             description="Newest first; one entry per attempt, made or planned (`pending`), filtered by "
             "`status` (repeatable) and `eventType`. Attempts are kept 30 days."),
    Endpoint("POST", "/webhook-endpoints/{id}/deliveries/{deliveryId}/redeliver", Scope.ADMIN,
             lambda uow, c: recovery.redeliver(uow, c.record, c.path["deliveryId"]), loads=svc.get,
             summary="Deliver one event again.", tag=TAG, surface="settings", returns=WebhookDeliveryOut,
             response_example={"data": DELIVERY},
             description="Plans one more attempt of that delivery's event to this endpoint, due now, and "
             "answers it (`pending`); follow it in the deliveries list. A delivery of another endpoint is "
             "404; a disabled endpoint is 409 (enable it first)."),
    Endpoint("POST", "/webhook-endpoints/{id}/replay", Scope.ADMIN,
             lambda uow, c: recovery.replay(uow, c.record, c.body), loads=svc.get,
             summary="Re-send the events of a time range.", tag=TAG, surface="settings", body=ReplayRequest,
             returns=ReplayOut, example={"from": "2026-11-21T00:00:00Z", "to": "2026-11-24T00:00:00Z",
                                         "eventTypes": ["mission.status_changed"]},
             response_example={"data": {"queued": 42}},
             description="Plans a delivery, due now, of every event created in [`from`, `to`) that the "
             "endpoint subscribes to (narrowed by `eventTypes`), oldest first: after an outage, or to "
             "backfill a new receiver. `from` may be at most 30 days back (events are kept 30 days)."),
    Endpoint("POST", "/webhook-endpoints/{id}/test", Scope.ADMIN,
             lambda uow, c: recovery.send_test(uow, c.record), loads=svc.get,
             summary="Send a signed test event now.", tag=TAG, surface="settings", returns=WebhookDeliveryOut,
             response_example={"data": {**DELIVERY, "eventType": "webhook_endpoint.test", "attempt": 1,
                                        "status": "succeeded", "trigger": "test", "responseStatus": 200,
                                        "sentAt": "2026-11-26T08:30:00Z", "durationMs": 84}},
             description="Sends a `webhook_endpoint.test` event, signed like every delivery, and answers "
             "the attempt with the receiver's status, time and first KiB of its answer. It is tried once."),
]  # fmt: skip
