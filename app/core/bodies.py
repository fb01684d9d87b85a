"""Reading a request body no bigger than a limit, for both surfaces: a declared length over the
limit is refused before anything is read, and a stream is cut off as soon as it passes the limit."""

from __future__ import annotations

from starlette.requests import Request

from app.core.errors import PayloadTooLarge, ValidationFailed


async def read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is over the {limit}-byte limit.", {"limitBytes": limit})
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body is over the {limit}-byte limit.", {"limitBytes": limit})
        chunks.append(chunk)
    return b"".join(chunks)


def refuse_nul(decoded: object, raw: bytes, prefix: str = "") -> None:
    """PostgreSQL text cannot hold the NUL character: a string carrying one is the caller's error
    (422 on its field), found before anything is written. Cheap when there is none."""
    if b"\\u0000" not in raw:
        return
    path = _nul_path(decoded, prefix)
    if path is not None:
        raise ValidationFailed.field(path or "body", "must not contain the NUL character (\\u0000)")


def _nul_path(value: object, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_path(key, path) or _nul_path(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None
