"""Sign-in and sign-out: the same check as `POST /auth/login`, its session kept in the cookie."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from app.auth.schemas import LoginInput
from app.auth.service import auth_service
from app.core.db import unit_of_work
from app.core.envelope import validation_failed
from app.core.errors import DomainError
from app.core.principal import ANONYMOUS, Source
from app.settings_pages import session
from app.settings_pages.panel import Form, error_page, redirect, render

HOME = "/settings/api"
NOTICES = {
    "signed-out": "You are signed out.",
    "expired": "Your session has ended. Sign in again.",
}


def _next_page(value: str) -> str:
    # Only a settings page of this site: never another host (`//evil`) or scheme.
    if value.startswith("/settings/") and not value.startswith("//") and "\\" not in value:
        return value
    return HOME


def _form(
    request: Request, status: int = 200, email: str = "", next_page: str = "",
    message: str = "", fields: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    nonce = session.sign_in_nonce(request)
    response = render(
        request, "sign_in.html", status, nonce=nonce, email=email, message=message, fields=fields or {},
        next_page=next_page or request.query_params.get("next", ""),
        notice=NOTICES.get(request.query_params.get("done", ""), ""),
    )  # fmt: skip
    session.keep_sign_in_nonce(response, nonce)
    return response


async def sign_in(request: Request) -> Response:
    if request.method == "GET":
        return _form(request)
    form = await Form.read(request)
    email, next_page = form.get("email"), form.get("next")
    expected = request.cookies.get(session.SIGN_IN_COOKIE)
    if not session.form_is_genuine(request, form.get(session.CSRF_FIELD), expected):
        return _form(request, 403, email, next_page, "This form has expired. Submit it again.")
    try:
        credentials = LoginInput.model_validate({"email": email, "password": form.get("password")})
    except ValidationError as exc:
        refused = validation_failed(exc)
        fields = {d["field"]: d["issue"] for d in refused.details}
        return _form(request, 422, email, next_page, refused.message, fields)
    try:
        async with unit_of_work(ANONYMOUS, Source.GRAPHQL) as uow:
            signed_in = await auth_service.login(uow, credentials)
    except DomainError as error:
        return _form(request, error.http_status, email, next_page, error.message)
    response = redirect(_next_page(next_page))
    session.keep_session(response, signed_in.access_token, signed_in.expires_at)  # type: ignore[arg-type]
    return response


async def sign_out(request: Request) -> Response:
    """Forget the session in this browser. (Sessions are signed, not stored: a copy taken elsewhere
    stays valid until it expires, which is why it never leaves the HttpOnly cookie.)"""
    form = await Form.read(request)
    token = session.session_token(request)
    if token is None:
        return redirect(f"{session.COOKIE_PATH}/sign-in")
    if not session.form_is_genuine(request, form.get(session.CSRF_FIELD), session.csrf_token(token)):
        return error_page(request, 403, "This form has expired", "Reload the page and sign out again.")
    response = redirect(f"{session.COOKIE_PATH}/sign-in?done=signed-out")
    session.end_session(response)
    return response
