"""GraphQL input types generated from the REST body models, so both surfaces validate alike.

Every input field defaults to UNSET: an update leaves absent fields alone and `null` clears,
exactly like a REST PATCH. The pydantic model then applies the same rules and error paths."""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

import strawberry
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel
from strawberry.types.unset import UNSET

from app.core.envelope import validation_failed

_enums: dict[type, Any] = {}


def graphql_enum(enum_cls: type[enum.Enum]) -> Any:
    if enum_cls not in _enums:
        _enums[enum_cls] = strawberry.enum(enum_cls)
    return _enums[enum_cls]


def plain_annotation(annotation: Any) -> Any:
    """A model field's annotation as strawberry takes it: constraints dropped, enums registered."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return plain_annotation(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = tuple(plain_annotation(a) for a in typing.get_args(annotation))
        return typing.Union[args]  # noqa: UP007
    if origin is list:
        return list[plain_annotation(typing.get_args(annotation)[0])]  # type: ignore[misc]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return graphql_enum(annotation)
    return annotation


def input_type(model: type[BaseModel], name: str, *, partial: bool = False) -> type:
    """A strawberry input with the model's fields; required ones stay required unless `partial`."""
    annotations: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        annotation = plain_annotation(info.annotation)
        if partial or not info.is_required():
            annotation = typing.Optional[annotation]  # noqa: UP045
            defaults[field_name] = UNSET
        annotations[field_name] = annotation
    cls = type(name, (), {"__annotations__": annotations, "__doc__": model.__doc__, **defaults})
    return strawberry.input(cls)


def to_model(model: type[BaseModel], value: Any) -> Any:
    """Validate a strawberry input through the pydantic model (422 with camelCase paths on failure)."""
    data = {
        (info.alias or to_camel(name)): getattr(value, name)
        for name, info in model.model_fields.items()
        if getattr(value, name, UNSET) is not UNSET
    }
    try:
        return model.model_validate(data, strict=False)
    except ValidationError as exc:
        raise validation_failed(exc, prefix="input") from None
