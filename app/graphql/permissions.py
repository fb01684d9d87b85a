"""Declared permissions for GraphQL fields: `permission(Scope.WRITE)` on the field.

A driver session holds only the `driver` scope: it is refused every company-wide field and reads
through the driver app's own fields (`@isDriver` in the SDL), which the services restrict to the
driver's own records."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission, PermissionExtension

from app.core.errors import InsufficientScope
from app.core.principal import ActorType, Scope

DRIVER_FIELDS = "myDriverProfile, myRoutes, myRoute, myMissions and myMission"


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
            message = f"This needs the `{self.scope.value}` scope."
            if principal.actor_type == ActorType.DRIVER:
                message += f" A driver session reads only its own records: {DRIVER_FIELDS}."
            raise InsufficientScope(message, {"requiredScope": self.scope.value})
        return True


class IsDriver(BasePermission):
    """The driver app's own fields: a signed-in driver (the `driver` scope), and nobody else."""

    message = "Only the driver app, signed in as a driver, may do this."

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal.actor_type != ActorType.DRIVER or not principal.can(Scope.DRIVER):
            raise InsufficientScope(self.message, {"requiredScope": Scope.DRIVER.value})
        return True


def permission(scope: Scope) -> list[Any]:
    check = IsDriver() if scope == Scope.DRIVER else HasScope(scope)
    return [PermissionExtension([check], fail_silently=False)]
