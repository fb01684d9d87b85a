from __future__ import annotations

from app.api_tokens.schemas import MeOut
from app.api_tokens.service import api_token_service
from app.core.principal import Scope
from rest_compat.spec import Endpoint

ENDPOINTS = [
    Endpoint(
        "GET", "/me", Scope.READ, lambda uow, c: api_token_service.me(uow),
        summary="Inspect token and company context.", tag="Account", returns=MeOut,
        description="The calling token (never its secret) and its company, with the scheduled-order "
        "credits remaining.",
    ),
]  # fmt: skip
