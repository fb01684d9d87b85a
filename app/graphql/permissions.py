"""Declared permissions for GraphQL fields: `permission(Scope.WRITE)` on the field."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission, PermissionExtension

from app.core.errors import InsufficientScope
from app.core.principal import ActorType, Scope


class HasScope(BasePermission):
    message = "This credential may not do that."

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = info.context.principal
        if self.scope == Scope.ADMIN and principal.actor_type != ActorType.USER:
            raise InsufficientScope(
                "Settings need a company admin's web session; API tokens may not use them."
            )
        if not principal.can(self.scope):
            raise InsufficientScope(
                f"This needs the `{self.scope.value}` scope.", {"requiredScope": self.scope.value}
            )
        return True


def permission(scope: Scope) -> list[Any]:
    return [PermissionExtension([HasScope(scope)], fail_silently=False)]


class IsDriver(BasePermission):
    """The driver app's own operations: a signed-in driver, whatever its read-only scopes say."""

    message = "Only the driver app, signed in as a driver, may do this."

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if info.context.principal.actor_type != ActorType.DRIVER:
            raise InsufficientScope(self.message)
        return True


def driver_only() -> list[Any]:
    return [PermissionExtension([IsDriver()], fail_silently=False)]
