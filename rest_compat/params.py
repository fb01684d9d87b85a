"""Query strings and JSON bodies into validated models, with the contract's errors."""

from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams

from app.core import jsonutil
from app.core.bodies import refuse_nul
from app.core.envelope import validation_failed
from app.core.errors import InvalidJson, UnsupportedMediaType, ValidationFailed


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(arg) for arg in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _is_list(typing.get_args(annotation)[0])
    return origin is list


def parse_query(model: type[BaseModel] | None, params: QueryParams) -> Any:
    if model is None:
        if params:
            key = next(iter(params.keys()))
            raise ValidationFailed.field(key, "is not a known parameter")
        return None
    list_aliases = {
        (info.alias or name) for name, info in model.model_fields.items() if _is_list(info.annotation)
    }
    values: dict[str, Any] = {}
    for key in params.keys():
        items = params.getlist(key)
        values[key] = items if key in list_aliases else items[-1]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        refused = validation_failed(exc)
        # A repeatable parameter is named as the caller sent it (`status`, not `status[1]`).
        for detail in refused.details:
            detail["field"] = re.sub(r"\[\d+\]$", "", detail["field"])
        raise refused from None


def is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def parse_body(model: type[BaseModel] | None, raw: bytes, content_type: str | None) -> Any:
    """Decode and validate a JSON object body. No body at all is `{}` for bodiless writes."""
    if not raw.strip():
        if model is None:
            return None
        raw = b"{}" if not _required_fields(model) else b""
        if not raw:
            raise InvalidJson("This endpoint needs a JSON object body.")
    if not is_json(content_type):
        raise UnsupportedMediaType()
    try:
        decoded = jsonutil.loads(raw)
    except ValueError:
        raise InvalidJson() from None
    if not isinstance(decoded, dict):
        raise InvalidJson("The request body must be a JSON object.")
    refuse_nul(decoded, raw)
    if model is None:
        if decoded:
            raise ValidationFailed(
                "This endpoint takes no body fields.",
                [{"field": key, "issue": "is not a known field"} for key in decoded],
            )
        return None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise validation_failed(exc) from None


def _required_fields(model: type[BaseModel]) -> bool:
    return any(info.is_required() for info in model.model_fields.values())
