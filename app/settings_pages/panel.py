"""What every settings page shares: the signed-in admin's GraphQL, form reading, typed mutation
outcomes, and rendering with the pages' security headers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app.auth.service import auth_service
from app.core import gateway
from app.core.bodies import read_capped
from app.core.db import unit_of_work
from app.core.errors import DomainError, Unauthorized
from app.core.principal import ANONYMOUS, Principal, Scope, Source
from app.graphql import endpoint
from app.settings_pages import session
from app.settings_pages.assets import ASSETS, CONTENT_SECURITY_POLICY

MAX_FORM_BYTES = 64 * 1024
SIGN_IN = "/settings/sign-in"

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: str | None) -> str:
    """An API timestamp as a reader scans it: `2026-11-26 08:30 UTC`."""
    if not value:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


_templates.filters["when"] = _when
_templates.globals["assets"] = ASSETS


class Form:
    """A submitted urlencoded form: the last value of a field, or all of them."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self.values = values

    def get(self, name: str) -> str:
        found = self.values.get(name)
        return found[-1] if found else ""

    def getlist(self, name: str) -> list[str]:
        return list(self.values.get(name, []))

    @classmethod
    async def read(cls, request: Request) -> Form:
        raw = await read_capped(request, MAX_FORM_BYTES)
        text = raw.decode("utf-8", errors="replace").replace("\x00", "")
        return cls(parse_qs(text, keep_blank_values=True))


@dataclass
class Outcome:
    """A mutation's typed answer: its payload, or the refusal's message and per-field issues."""

    payload: dict[str, Any] | None = None
    message: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.payload is None


_FIELD = re.compile(r"^(?:input\.)?([A-Za-z_]+)")


def outcome(result: dict[str, Any]) -> Outcome:
    if "code" not in result:
        return Outcome(payload=result)
    fields: dict[str, str] = {}
    for issue in result.get("fields") or []:
        matched = _FIELD.match(issue["field"])
        name = matched.group(1) if matched else ""
        fields.setdefault(name, issue["issue"])
    return Outcome(message=result["message"], fields=fields)


class Refused(Exception):
    """A top-level GraphQL error (an unknown record, a value that is not of its type)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Panel:
    request: Request
    principal: Principal
    session: str

    @property
    def csrf(self) -> str:
        return session.csrf_token(self.session)

    async def run(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one document as a request to /graphql would: in a transaction of its own, so a
        mutation is committed before the page that shows its outcome is read."""
        request_id = self.request.scope.get("state", {}).get("request_id", "")
        async with unit_of_work(ANONYMOUS, Source.GRAPHQL) as uow:
            principal = await auth_service.authenticate(uow, f"Bearer {self.session}")
            body = await endpoint.execute(self.request, uow, principal, document, variables, None, request_id)
            if body.get("errors"):
                first = body["errors"][0]
                raise Refused(first.get("extensions", {}).get("code", "validation_error"), first["message"])
        return body["data"]  # type: ignore[no-any-return]

    async def mutate(self, document: str, variables: dict[str, Any]) -> Outcome:
        try:
            data = await self.run(document, variables)
        except Refused as refused:
            return Outcome(message=refused.message)
        return outcome(next(iter(data.values())))

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        return render(self.request, template, status, csrf=self.csrf, principal=self.principal, **context)


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    body = _templates.get_template(template).render(request=request, **context)
    # `no-store`: a page may show a token or secret once, which no cache may keep.
    headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "cache-control": "no-store",
        # Not the API's `no-referrer`: under it browsers send `Origin: null` with form posts, and
        # the pages check that their forms come from this origin. No referrer leaves the site.
        "referrer-policy": "same-origin",
    }
    return HTMLResponse(body, status_code=status, headers=headers)


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers={"cache-control": "no-store"})


def error_page(request: Request, status: int, title: str, message: str, **context: Any) -> Response:
    return render(request, "error.html", status, title=title, message=message, **context)


Handler = Callable[[Panel, Form | None], Awaitable[Response]]


def admin_page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A page for the signed-in company admin: anyone else is sent to sign in (no session) or shown
    a 403 page (another role). Posted forms must carry the session's CSRF token."""

    async def page(request: Request) -> Response:
        token = session.session_token(request)
        if token is None:
            return redirect(f"{SIGN_IN}?next={quote(request.url.path)}")
        form = await Form.read(request) if request.method == "POST" else None
        try:
            async with unit_of_work(ANONYMOUS, Source.GRAPHQL) as uow:
                admitted = await gateway.admit(request, uow, f"Bearer {token}")
            response = await _answer(Panel(request, admitted.principal, token), handler, form)
            response.headers.update(admitted.headers)
            return response
        except Unauthorized:
            gone = redirect(f"{SIGN_IN}?done=expired")
            session.end_session(gone)
            return gone
        except DomainError as error:
            return error_page(request, error.http_status, "Something stopped this page", error.message)

    return page


async def _answer(panel: Panel, handler: Handler, form: Form | None) -> Response:
    if not panel.principal.can(Scope.ADMIN):
        return error_page(
            panel.request, 403, "Only company admins can open Settings",
            "Ask an admin of your company to change these settings, or sign in as one.",
            csrf=panel.csrf, principal=panel.principal,
        )  # fmt: skip
    if form is not None and not session.form_is_genuine(
        panel.request, form.get(session.CSRF_FIELD), panel.csrf
    ):
        return error_page(
            panel.request, 403, "This form has expired",
            "Reload the page and submit it again.", csrf=panel.csrf, principal=panel.principal,
        )  # fmt: skip
    try:
        return await handler(panel, form)
    except Refused as refused:
        status = 404 if refused.code == "not_found" else 400
        return error_page(
            panel.request, status, "Not found" if status == 404 else "This request cannot be answered",
            refused.message, csrf=panel.csrf, principal=panel.principal,
        )  # fmt: skip
