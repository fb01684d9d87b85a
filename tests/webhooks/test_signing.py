"""Delivery signatures as receivers check them: our own header, and the Standard Webhooks headers
through the `standardwebhooks` library itself."""

from __future__ import annotations

import base64
import secrets
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from app.webhooks.signing import delivery_headers, new_secret, signature_header, standard_headers, verify

BODY = b'{"id":"evt_1","type":"vehicle.created","data":{"name":"Van 1"}}'


def _now() -> int:
    # The library checks the timestamp against the machine's clock, not the application's
    # (which a TEST_TODAY run shifts), so these headers are made at the machine's "now".
    return int(time.time())


class TestNewSecret:
    def test_is_standard_base64_of_24_bytes(self) -> None:
        secret = new_secret()
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 24
        assert new_secret() != secret


class TestDeliveryHeaders:
    def test_carries_every_header(self) -> None:
        headers = delivery_headers("evt_1", "vehicle.created", BODY, [new_secret()], timestamp=1_700_000_000)
        assert headers["Content-Type"] == "application/json"
        assert headers["User-Agent"] == "Rouptimize-Webhooks/1.0"
        assert headers["X-Rouptimize-Event-Id"] == headers["webhook-id"] == "evt_1"
        assert headers["X-Rouptimize-Event-Type"] == "vehicle.created"
        assert headers["webhook-timestamp"] == "1700000000"
        assert headers["X-Rouptimize-Signature"].startswith("t=1700000000,v1=")

    def test_standard_webhooks_library_verifies_it(self) -> None:
        secret = new_secret()
        headers = delivery_headers("evt_1", "vehicle.created", BODY, [secret], timestamp=_now())
        assert Webhook(secret).verify(BODY, headers) == {
            "id": "evt_1",
            "type": "vehicle.created",
            "data": {"name": "Van 1"},
        }

    def test_during_a_rotation_either_secret_verifies(self) -> None:
        old, new = new_secret(), new_secret()
        headers = delivery_headers("evt_1", "vehicle.created", BODY, [new, old], timestamp=_now())
        assert len(headers["webhook-signature"].split(" ")) == 2
        for secret in (old, new):
            Webhook(secret).verify(BODY, headers)
            assert verify(headers["X-Rouptimize-Signature"], secret, BODY, now=_now())
        with pytest.raises(WebhookVerificationError):
            Webhook(new_secret()).verify(BODY, headers)

    def test_a_tampered_body_is_rejected(self) -> None:
        secret = new_secret()
        headers = delivery_headers("evt_1", "vehicle.created", BODY, [secret], timestamp=_now())
        tampered = BODY.replace(b"Van 1", b"Van 2")
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(tampered, headers)
        assert not verify(headers["X-Rouptimize-Signature"], secret, tampered, now=_now())

    def test_one_timestamp_for_both_signatures(self) -> None:
        secret = new_secret()
        headers = delivery_headers("evt_1", "vehicle.created", BODY, [secret])
        t = int(headers["webhook-timestamp"])
        assert headers["X-Rouptimize-Signature"] == signature_header([secret], BODY, t)
        assert verify(headers["X-Rouptimize-Signature"], secret, BODY)


class TestVerify:
    def test_checks_the_rouptimize_signature(self) -> None:
        secret = new_secret()
        header = signature_header([secret], BODY, timestamp=1_700_000_000)
        assert verify(header, secret, BODY, now=1_700_000_010)
        assert not verify(header, new_secret(), BODY, now=1_700_000_010)
        assert not verify(header, secret, BODY + b" ", now=1_700_000_010)

    def test_refuses_an_old_timestamp(self) -> None:
        secret = new_secret()
        header = signature_header([secret], BODY, timestamp=1_700_000_000)
        assert not verify(header, secret, BODY, now=1_700_000_000 + 301)


class TestLegacySecret:
    def test_urlsafe_secret_signs_with_its_urlsafe_bytes(self) -> None:
        # Secrets issued before Standard Webhooks: token_urlsafe(32), which the library cannot
        # decode; the key is their URL-safe decoding, which a receiver can use by hand.
        legacy = "whsec_" + secrets.token_urlsafe(32)
        key = base64.urlsafe_b64decode(legacy.removeprefix("whsec_") + "=")
        headers = standard_headers("evt_1", _now(), BODY, [legacy])
        Webhook(key).verify(BODY, headers)
