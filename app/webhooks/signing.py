"""Webhook signatures (`X-Rouptimize-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`) and the
encryption of signing secrets at rest."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from app.core import clock, security

TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def seal(secret: str) -> str:
    return security.seal(secret.encode()).decode()


def unseal(sealed: str) -> str:
    return security.unseal(sealed.encode()).decode()


def signature_header(signing_secrets: list[str], body: bytes, timestamp: int | None = None) -> str:
    """`t=<unix seconds>,v1=<hex>` with one `v1` per active secret, HMAC-SHA256 over "<t>." + body."""
    t = int(clock.timestamp()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + body
    parts = [f"t={t}"] + [
        "v1=" + hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in signing_secrets
    ]
    return ",".join(parts)


def verify(
    header: str, secret: str, body: bytes, tolerance: int = TOLERANCE_SECONDS, now: int | None = None
) -> bool:
    """What a receiver does: the timestamp is recent and one `v1` matches this secret."""
    fields = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [v for k, v in fields if k == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    t = int(timestamps[0])
    if abs((int(clock.timestamp()) if now is None else now) - t) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for k, v in fields if k == "v1")
