"""Plain ASGI middleware: request ids, the per-request log line and the last-resort 500."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import throttle
from app.core.envelope import error_response
from app.core.errors import InternalError
from app.core.logging import get_logger
from app.settings import get_settings

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
log = get_logger("rouptimize.http")


# A page-specific Content-Security-Policy (GraphiQL, Swagger UI) is set by the page itself.
_BASE_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


def security_headers() -> list[tuple[bytes, bytes]]:
    """Headers every answer carries; HSTS only in production, which is served over https."""
    return [*_BASE_SECURITY_HEADERS, _HSTS] if get_settings().is_production else _BASE_SECURITY_HEADERS


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = _header(scope, b"x-request-id")
        request_id = supplied if supplied and _REQUEST_ID.match(supplied) else new_request_id()
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        client = scope.get("client")
        application = scope.get("app")
        throttle.caller.set(throttle.Caller(
            client[0] if client else None, getattr(getattr(application, "state", None), "rate_limiter", None)
        ))  # fmt: skip
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in security_headers() if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled_error", request_id=request_id, path=scope.get("path"))
            if not response_started:
                response = error_response(InternalError("An unexpected error occurred."), request_id)
                await response(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                request_id=request_id,
                company_id=state.get("company_id"),
                token_id=state.get("token_id"),
            )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None
