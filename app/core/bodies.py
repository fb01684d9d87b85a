"""Reading a request body no bigger than a limit, for both surfaces: a declared length over the
limit is refused before anything is read, and a stream is cut off as soon as it passes the limit."""

from __future__ import annotations

from starlette.requests import Request

from app.core.errors import PayloadTooLarge


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
