"""The contract's response shapes, shared by every HTTP surface."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from app.core import jsonutil
from app.core.errors import DomainError, ValidationFailed


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        jsonutil.dumps(payload), status_code=status, headers=headers, media_type="application/json"
    )


def error_body(error: DomainError, request_id: str) -> dict[str, Any]:
    return {
        "error": {
            "code": error.code,
            "message": error.message,
            "details": error.details,
            "requestId": request_id,
        }
    }


def error_response(error: DomainError, request_id: str, headers: dict[str, str] | None = None) -> Response:
    extra = dict(headers or {})
    if error.code == "rate_limited":
        extra["Retry-After"] = str(getattr(error, "retry_after", 1))
    return json_response(error_body(error, request_id), error.http_status, extra)


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path


def validation_failed(exc: ValidationError, prefix: str = "") -> ValidationFailed:
    """A pydantic error as the contract's 422: one `{field, issue}` per problem, camelCase paths."""
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        field = _field_path(loc) or prefix or "body"
        if prefix and loc:
            field = f"{prefix}{'' if field.startswith('[') else '.'}{field}"
        issue = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            issue = "is not a known field"
        elif err["type"] == "missing":
            issue = "is required"
        details.append({"field": field, "issue": issue})
    message = "; ".join(f"{d['field']}: {d['issue']}" for d in details[:5])
    return ValidationFailed(message or "The request is invalid.", details)
