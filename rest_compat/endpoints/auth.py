from __future__ import annotations

from app.auth.schemas import LoginInput, SessionOut
from app.auth.service import auth_service
from app.core.principal import Scope
from rest_compat.spec import Endpoint

ENDPOINTS = [
    Endpoint("POST", "/login", Scope.READ, lambda uow, c: auth_service.login(uow, c.body),
             summary="Sign in to the web panel.", tag="Session", surface="auth", body=LoginInput,
             returns=SessionOut, example={"email": "admin@example.com", "password": "correct horse"},
             description="Returns a signed, expiring session token for `Authorization: Bearer`."),
]  # fmt: skip
