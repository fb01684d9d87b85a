"""The panel's session cookie and CSRF tokens.

The session token from sign-in lives only in an HttpOnly cookie scoped to /settings, so page scripts
cannot read it and other surfaces never receive it. Forms of a signed-in page carry a synchronizer
token derived from that session (an HMAC under the session secret): a cross-site form cannot know it.
The sign-in form, before any session exists, uses a double-submit token: a random value both in a
cookie and in the form, which another site can neither read nor set."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from app.core.clock import utcnow
from app.core.security import constant_time_equals
from app.settings import get_settings

SESSION_COOKIE = "rouptimize_session"
SIGN_IN_COOKIE = "rouptimize_sign_in"
COOKIE_PATH = "/settings"
CSRF_FIELD = "csrf"


def _secure() -> bool:
    # Development servers run over plain http, where a Secure cookie would never come back.
    return get_settings().environment != "development"


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def keep_session(response: Response, token: str, expires_at: dt.datetime) -> None:
    max_age = max(int((expires_at - utcnow()).total_seconds()), 0)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, path=COOKIE_PATH,
        secure=_secure(), httponly=True, samesite="lax",
    )  # fmt: skip


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, secure=_secure(), httponly=True, samesite="lax")


def csrf_token(session: str) -> str:
    key = get_settings().secret("session_secret")
    digest = hmac.new(key, b"settings-csrf:" + session.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_in_nonce(request: Request) -> str:
    """The sign-in form's double-submit value: the one already in the cookie, or a new one."""
    return request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)


def keep_sign_in_nonce(response: Response, nonce: str) -> None:
    response.set_cookie(
        SIGN_IN_COOKIE, nonce, max_age=3600, path=COOKIE_PATH, secure=_secure(), httponly=True, samesite="lax"
    )


def same_origin(request: Request) -> bool:
    """A form post that no other site's page sent: its Origin, when the browser names one, is this
    host. ("null" names none: privacy settings send it; the CSRF token still has to match.)"""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def form_is_genuine(request: Request, submitted: str, expected: str | None) -> bool:
    return bool(expected) and same_origin(request) and constant_time_equals(submitted, expected or "")
