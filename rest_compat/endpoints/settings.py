from __future__ import annotations

from pydantic import Field

from app.api_tokens.schemas import ApiTokenCreate, ApiTokenCreatedOut, ApiTokenOut
from app.api_tokens.service import api_token_service as svc
from app.core.principal import Scope
from app.core.schemas import QueryModel
from rest_compat.spec import Endpoint

TAG = "Settings"


class SettingsListQuery(QueryModel):
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = None


ENDPOINTS = [
    Endpoint("GET", "/api-tokens", Scope.ADMIN, lambda uow, c: svc.list(uow, c.query),
             summary="List API tokens for the current company.", tag=TAG, surface="settings",
             query=SettingsListQuery, returns=ApiTokenOut, many=True),
    Endpoint("POST", "/api-tokens", Scope.ADMIN, lambda uow, c: svc.create(uow, c.body),
             summary="Create a scoped API token.", tag=TAG, surface="settings", body=ApiTokenCreate,
             returns=ApiTokenCreatedOut, status=201,
             example={"name": "ERP sync", "preset": "full_access", "expiresAt": "2027-12-31T00:00:00Z"},
             description="The raw `token` is in this response only; afterwards only its `prefix` is shown."),
    Endpoint("DELETE", "/api-tokens/{id}", Scope.ADMIN, lambda uow, c: svc.delete(uow, c.record),
             loads=svc.get, summary="Delete an API token.", tag=TAG, surface="settings", status=204,
             description="Revokes the token: its next request is refused with 401."),
]  # fmt: skip
