from __future__ import annotations

from app.core.principal import Scope
from app.mobile_users.schemas import MobileUserOut, MobileUserQuery, MobileUserStatus, MobileUserUpdate
from app.mobile_users.service import mobile_user_service as svc
from rest_compat.spec import Endpoint

TAG = "Mobile users"

ENDPOINTS = [
    Endpoint("GET", "/mobile-users", Scope.READ, lambda uow, c: svc.list(uow, c.query),
             summary="List mobile users.", tag=TAG, query=MobileUserQuery, returns=MobileUserOut, many=True,
             description="Drivers' app accounts, created when a driver accepts an invite in the app."),
    Endpoint("GET", "/mobile-users/{id}", Scope.READ, lambda uow, c: c.record, loads=svc.get,
             summary="Get a mobile user.", tag=TAG, returns=MobileUserOut),
    Endpoint("PATCH", "/mobile-users/{id}", Scope.WRITE, lambda uow, c: svc.update(uow, c.record, c.body),
             loads=svc.get, summary="Update a mobile user.", tag=TAG, body=MobileUserUpdate,
             returns=MobileUserOut, example={"phone": "+905559876543"},
             description="Phone and email are the account's logins: unique across the platform (409 "
             "`conflict` naming the field otherwise), and at least one must remain."),
    Endpoint("PUT", "/mobile-users/{id}/disable", Scope.WRITE,
             lambda uow, c: svc.set_status(uow, c.record, MobileUserStatus.DISABLED), loads=svc.get,
             summary="Disable a mobile user.", tag=TAG, returns=MobileUserOut,
             description="The driver can no longer sign in, and every open app session stops working on "
             "its next request. Disabling a disabled user changes nothing. No body is needed."),
    Endpoint("PUT", "/mobile-users/{id}/enable", Scope.WRITE,
             lambda uow, c: svc.set_status(uow, c.record, MobileUserStatus.ACTIVE), loads=svc.get,
             summary="Enable a mobile user.", tag=TAG, returns=MobileUserOut,
             description="Enabling an active user changes nothing. No body is needed."),
    Endpoint("DELETE", "/mobile-users/{id}", Scope.WRITE, lambda uow, c: svc.delete(uow, c.record),
             loads=svc.get, summary="Delete a mobile user.", tag=TAG, status=204, emits=("driver.updated",),
             description="Deletes the account and its devices and unlinks the driver (`mobileUserId` "
             "becomes null), who may then be invited again."),
]  # fmt: skip
