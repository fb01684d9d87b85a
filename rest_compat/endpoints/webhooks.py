from __future__ import annotations

from app.core.principal import Scope
from app.webhooks.schemas import (
    DeliveryQuery,
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
    'HMAC-SHA256(secret, "<t>." + body), plus `X-Rouptimize-Event-Id` and `X-Rouptimize-Event-Type`. '
    "Any 2xx within 10 s is success; otherwise delivery is retried with exponential backoff "
    "(4xx other than 408/429 are not retried)."
)

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
             description="`rotateSecret: true` returns a new `secret` once; during the next 24 hours every "
             "delivery carries one `v1=` per active secret."),
    Endpoint("DELETE", "/webhook-endpoints/{id}", Scope.ADMIN, lambda uow, c: svc.delete(uow, c.record),
             loads=svc.get, summary="Delete a webhook endpoint.", tag=TAG, surface="settings", status=204),
    Endpoint("GET", "/webhook-endpoints/{id}/deliveries", Scope.ADMIN,
             lambda uow, c: svc.deliveries(uow, c.record, c.query), loads=svc.get,
             summary="Review recent webhook deliveries.", tag=TAG, surface="settings", query=DeliveryQuery,
             returns=WebhookDeliveryOut, many=True,
             description="Newest first; one entry per delivery attempt."),
]  # fmt: skip
