from __future__ import annotations

from app.core.principal import Scope
from app.drivers import invites
from app.drivers.schemas import DriverCreate, DriverInviteOut, DriverOut, DriverQuery, DriverUpdate
from app.drivers.service import driver_service as svc
from app.mobile_users.devices import device_service
from app.mobile_users.schemas import DeviceOut, DeviceQuery
from rest_compat.spec import Endpoint, example_id

TAG = "Drivers"
EXAMPLE = {
    "externalId": "erp-driver-7",
    "branchId": example_id(),
    "firstName": "Ayse",
    "lastName": "Yilmaz",
    "phone": "+905551234567",
    "email": "ayse@example.com",
    "status": "active",
    "shiftStart": "08:00",
    "shiftEnd": "17:00",
}

ENDPOINTS = [
    Endpoint("GET", "/drivers", Scope.READ, lambda uow, c: svc.list(uow, c.query),
             summary="List drivers.", tag=TAG, query=DriverQuery, returns=DriverOut, many=True),
    Endpoint("POST", "/drivers", Scope.WRITE, lambda uow, c: svc.create(uow, c.body),
             summary="Create a driver.", tag=TAG, body=DriverCreate, returns=DriverOut, status=201,
             emits=("driver.created",), example=EXAMPLE),
    Endpoint("GET", "/drivers/{id}", Scope.READ, lambda uow, c: c.record, loads=svc.get,
             summary="Get a driver.", tag=TAG, returns=DriverOut),
    Endpoint("PATCH", "/drivers/{id}", Scope.WRITE, lambda uow, c: svc.update(uow, c.record, c.body),
             loads=svc.get, summary="Update a driver.", tag=TAG, body=DriverUpdate, returns=DriverOut,
             emits=("driver.updated",), example={"shiftEnd": "18:00"}),
    Endpoint("DELETE", "/drivers/{id}", Scope.WRITE, lambda uow, c: svc.delete(uow, c.record),
             loads=svc.get, summary="Delete a driver.", tag=TAG, status=204, emits=("driver.deleted",),
             description="Refused with 409 `conflict` while vehicle-driver assignments or routes that are "
             "not completed use the driver. The driver's mobile user, devices and open invite are deleted "
             "with it."),
    Endpoint("POST", "/drivers/{id}/invite", Scope.WRITE, lambda uow, c: invites.invite(uow, c.record),
             loads=svc.get, summary="Invite a driver to the mobile app.", tag=TAG, returns=DriverInviteOut,
             status=201,
             description="Creates a single-use invite valid for 7 days and returns its `code` (shown only "
             "here), replacing any earlier invite of the driver. No body is needed (`{}` is accepted). "
             "Inviting an inactive driver, or one who already has a mobile user, is 409 `conflict`."),
    Endpoint("GET", "/drivers/{id}/devices", Scope.READ,
             lambda uow, c: device_service.list_for_driver(uow, c.record, c.query), loads=svc.get,
             summary="List registered driver devices.", tag=TAG, query=DeviceQuery, returns=DeviceOut,
             many=True,
             description="The phones the driver's mobile user registered in the app; empty until the "
             "driver accepted an invite."),
]  # fmt: skip
