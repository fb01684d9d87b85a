"""Who is calling: the company every query is scoped to, and what the caller may do."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field

from app.core.errors import InsufficientScope


class Scope(enum.StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"
    # The driver app's session: its own profile, routes and missions, never the company's lists.
    DRIVER = "driver"


class Preset(enum.StrEnum):
    READ_ONLY = "read_only"
    FULL_ACCESS = "full_access"


PRESET_SCOPES: dict[Preset, frozenset[Scope]] = {
    Preset.READ_ONLY: frozenset({Scope.READ}),
    Preset.FULL_ACCESS: frozenset({Scope.READ, Scope.WRITE}),
}

ROLE_SCOPES: dict[str, frozenset[Scope]] = {
    "admin": frozenset({Scope.READ, Scope.WRITE, Scope.ADMIN}),
    "dispatcher": frozenset({Scope.READ, Scope.WRITE}),
    "viewer": frozenset({Scope.READ}),
}


class ActorType(enum.StrEnum):
    USER = "user"
    TOKEN = "token"
    DRIVER = "driver"
    SYSTEM = "system"


class Source(enum.StrEnum):
    API = "api"
    GRAPHQL = "graphql"
    MOBILE = "mobile"
    SYSTEM = "system"


@dataclass(frozen=True)
class Principal:
    company_id: uuid.UUID | None
    actor_type: ActorType
    actor_id: uuid.UUID | None
    actor_name: str
    scopes: frozenset[Scope] = field(default_factory=frozenset)
    token_id: uuid.UUID | None = None
    token_preset: Preset | None = None
    user_id: uuid.UUID | None = None
    role: str | None = None

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes

    @classmethod
    def system(cls, company_id: uuid.UUID | None) -> Principal:
        return cls(
            company_id=company_id,
            actor_type=ActorType.SYSTEM,
            actor_id=None,
            actor_name="system",
            # Not DRIVER: that scope reads "the caller's own records", and the system is no driver.
            scopes=frozenset(Scope) - {Scope.DRIVER},
        )


def own_driver_id(principal: Principal) -> uuid.UUID:
    """The driver a driver-app session acts as: the owner of every record its driver fields read.
    Any other caller is refused, so a driver query can never fall back to the whole company."""
    driver = principal.actor_type == ActorType.DRIVER and principal.can(Scope.DRIVER)
    if not driver or principal.actor_id is None:
        raise InsufficientScope(
            "Only the driver app, signed in as a driver, may do this.", {"requiredScope": Scope.DRIVER.value}
        )
    return principal.actor_id


# Who a request is before its credential is checked: no company, no scopes.
ANONYMOUS = Principal(company_id=None, actor_type=ActorType.SYSTEM, actor_id=None, actor_name="anonymous")
