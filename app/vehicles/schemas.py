from __future__ import annotations

import enum
import uuid
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from app.core.schemas import INT4_MAX, ExternalId, InputModel, ListQuery, Name, ResourceOut, UpdateModel


class VehicleType(enum.StrEnum):
    CAR = "car"
    VAN = "van"
    TRUCK = "truck"
    MOTORBIKE = "motorbike"
    BICYCLE = "bicycle"


class VehicleStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


PlateNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Kilograms = Annotated[float, Field(ge=0, description="Kilograms; null = unlimited.")]
CubicMetres = Annotated[float, Field(ge=0, description="Cubic metres; null = unlimited.")]
Items = Annotated[int, Field(ge=0, le=INT4_MAX, description="Number of items; null = unlimited.")]
Cost = Annotated[float, Field(ge=0, description="Cost per kilometre in the company's currency.")]


class VehicleCreate(InputModel):
    external_id: ExternalId | None = None
    branch_id: uuid.UUID
    name: Name
    plate_number: PlateNumber | None = None
    type: VehicleType
    status: VehicleStatus = VehicleStatus.ACTIVE
    capacity_weight_kg: Kilograms | None = None
    capacity_volume_m3: CubicMetres | None = None
    capacity_items: Items | None = None
    cost_per_km: Cost | None = None


class VehicleUpdate(UpdateModel):
    required_fields: ClassVar[frozenset[str]] = frozenset({"branch_id", "name", "type", "status"})

    external_id: ExternalId | None = None
    branch_id: uuid.UUID | None = None
    name: Name | None = None
    plate_number: PlateNumber | None = None
    type: VehicleType | None = None
    status: VehicleStatus | None = None
    capacity_weight_kg: Kilograms | None = None
    capacity_volume_m3: CubicMetres | None = None
    capacity_items: Items | None = None
    cost_per_km: Cost | None = None


class VehicleOut(ResourceOut):
    external_id: str | None
    branch_id: uuid.UUID
    name: str
    plate_number: str | None
    type: VehicleType
    status: VehicleStatus
    capacity_weight_kg: float | None
    capacity_volume_m3: float | None
    capacity_items: int | None
    cost_per_km: float | None


class VehicleQuery(ListQuery):
    branch_id: uuid.UUID | None = Field(None, description="Only vehicles of this branch.")
    status: VehicleStatus | None = Field(None, description="Only vehicles with this status.")
    type: VehicleType | None = Field(None, description="Only vehicles of this type.")
