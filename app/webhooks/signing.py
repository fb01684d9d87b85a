"""What a webhook delivery carries to prove where it came from, and the encryption of signing
secrets at rest.

Each delivery is signed twice with the same secrets and timestamp: our own header
(`X-Rouptimize-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, see the contract) and the Standard
Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`), which receivers can
check with the `standardwebhooks` or Svix libraries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from app.core import clock, security

TOLERANCE_SECONDS = 300
USER_AGENT = "Rouptimize-Webhooks/1.0"
_SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    # Standard base64 of 24 bytes, the form Standard Webhooks and Svix decode (192 bits).
    return _SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


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


def standard_headers(
    message_id: str, timestamp: int, body: bytes, signing_secrets: list[str]
) -> dict[str, str]:
    """The Standard Webhooks headers: one `v1,<base64 HMAC-SHA256>` per active secret over
    "<id>.<timestamp>." + body, keyed by the secret's decoded bytes."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    signatures = [
        "v1," + base64.b64encode(hmac.new(_key(s), signed, hashlib.sha256).digest()).decode()
        for s in signing_secrets
    ]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def delivery_headers(
    event_id: str, event_type: str, body: bytes, signing_secrets: list[str], timestamp: int | None = None
) -> dict[str, str]:
    """Every header a delivery of `body` carries; both signatures share one timestamp."""
    t = int(clock.timestamp()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Rouptimize-Signature": signature_header(signing_secrets, body, t),
        "X-Rouptimize-Event-Id": event_id,
        "X-Rouptimize-Event-Type": event_type,
        **standard_headers(event_id, t, body, signing_secrets),
    }


def _key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks signature: the secret's base64 part, decoded.

    Secrets issued before Standard Webhooks were URL-safe base64 without padding, which the
    standard's libraries cannot decode; they are read as URL-safe here, so a receiver keeping
    one must decode it the same way by hand, or rotate it to get a standard one."""
    encoded = secret.removeprefix(_SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
