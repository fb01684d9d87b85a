"""Devices: the phones a mobile user signs in on, listed per driver for dispatchers."""

from __future__ import annotations

from typing import Any

from sqlmodel import col

from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.pagination import Page
from app.core.repository import Repository
from app.drivers.models import Driver
from app.mobile_users.models import Device
from app.mobile_users.schemas import DeviceRegister
from app.mobile_users.service import mobile_user_service


class DeviceService:
    def __init__(self) -> None:
        self.repo = Repository(Device)

    async def list_for_driver(self, uow: UnitOfWork, driver: Driver, query: Any) -> Page[Device]:
        # A driver without a mobile user has no devices; the filter then matches nothing.
        return await self.repo.page(uow, query, [col(Device.mobile_user_id) == driver.mobile_user_id])

    async def register(self, uow: UnitOfWork, data: DeviceRegister) -> Device:
        """Upsert by installation id: the same phone registering again refreshes its row."""
        user = await mobile_user_service.current(uow)
        device = await uow.scalar(
            self.repo.base(uow)
            .where(col(Device.mobile_user_id) == user.id, col(Device.device_id) == data.device_id)
            .with_for_update()
        )
        now = utcnow()
        if device is None:
            device = Device(
                company_id=uow.company_id, mobile_user_id=user.id, last_seen_at=now, **data.model_dump()
            )
            uow.add(device)
        else:
            for name, value in data.model_dump().items():
                setattr(device, name, value)
            device.last_seen_at = now
            device.updated_at = now
        await uow.flush()
        return device


device_service = DeviceService()
