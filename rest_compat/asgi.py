"""Composition root: the domain app plus the /api/v1, /companies/me and /auth surfaces."""

from __future__ import annotations

from starlette.applications import Starlette

from app.main import build_app as build_domain_app
from rest_compat import openapi, router
from rest_compat.endpoints import ENDPOINTS


def build_app() -> Starlette:
    return build_domain_app([*router.routes(ENDPOINTS), *openapi.routes(ENDPOINTS)])


def __getattr__(name: str) -> Starlette:
    # `rest_compat.asgi:app` for uvicorn, built on first access so settings are read at start-up.
    if name == "app":
        globals()["app"] = built = build_app()
        return built
    raise AttributeError(name)
