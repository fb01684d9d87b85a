from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    ConfigDict,
    Field,
    RootModel,
    SkipValidation,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from app.core.schemas import (
    INT4_MAX,
    ExternalId,
    InputModel,
    Latitude,
    ListQuery,
    Longitude,
    OutModel,
    Phone,
    QueryModel,
    ResourceOut,
    ShortText,
    TimeOfDay,
    UpdateModel,
    field_error,
)
from app.drivers.schemas import Email


class MissionType(enum.StrEnum):
    DELIVERY = "delivery"
    PICKUP = "pickup"


class MissionStatus(enum.StrEnum):
    UNASSIGNED = "unassigned"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    PROOFED = "proofed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class SmsStatus(enum.StrEnum):
    NOT_SENT = "not_sent"
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


CustomerName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Notes = Annotated[str, StringConstraints(max_length=2000)]
FailureReason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
ServiceSeconds = Annotated[int, Field(ge=0, le=86_400, description="Time spent at the stop, seconds.")]
Priority = Annotated[int, Field(ge=0, le=3, description="0..3; higher is planned first when not all fit.")]
Kilograms = Annotated[float, Field(ge=0)]
CubicMetres = Annotated[float, Field(ge=0)]
ItemCount = Annotated[int, Field(ge=0, le=INT4_MAX)]


def _check_window(start: dt.time | None, end: dt.time | None) -> None:
    if start is not None and end is not None and start >= end:
        raise field_error(("timeWindowEnd",), "must be after timeWindowStart", end.strftime("%H:%M"))


class MissionCreate(InputModel):
    external_id: ExternalId | None = None
    branch_id: uuid.UUID
    type: MissionType = MissionType.DELIVERY
    date: dt.date = Field(description="The day the mission is to be done (YYYY-MM-DD).")
    customer_name: CustomerName | None = None
    customer_phone: Phone | None = None
    customer_email: Email | None = None
    address: ShortText | None = None
    latitude: Latitude
    longitude: Longitude
    time_window_start: TimeOfDay | None = Field(None, description="HH:MM, branch local time.")
    time_window_end: TimeOfDay | None = Field(None, description="HH:MM, branch local time.")
    service_duration_seconds: ServiceSeconds = 300
    priority: Priority = 0
    weight_kg: Kilograms | None = None
    volume_m3: CubicMetres | None = None
    items: ItemCount | None = None
    notes: Notes | None = None
    proof_required: bool = True

    @model_validator(mode="after")
    def _window(self) -> MissionCreate:
        _check_window(self.time_window_start, self.time_window_end)
        return self


class MissionUpdate(UpdateModel):
    """Fields of a mission; `status` may make the moves DOMAIN's "who moves a status" allows."""

    required_fields: ClassVar[frozenset[str]] = frozenset(
        {"branch_id", "type", "date", "latitude", "longitude", "service_duration_seconds", "priority",
         "proof_required", "status"}
    )  # fmt: skip
    schema_rules: ClassVar[dict[str, Any]] = {
        "anyOf": [  # a failureReason comes with the move to failed
            {"properties": {"failureReason": {"type": "null"}}},
            {"required": ["status"], "properties": {"status": {"const": "failed"}}},
        ]
    }

    external_id: ExternalId | None = None
    branch_id: uuid.UUID | None = None
    type: MissionType | None = None
    date: dt.date | None = None
    customer_name: CustomerName | None = None
    customer_phone: Phone | None = None
    customer_email: Email | None = None
    address: ShortText | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    time_window_start: TimeOfDay | None = None
    time_window_end: TimeOfDay | None = None
    service_duration_seconds: ServiceSeconds | None = None
    priority: Priority | None = None
    weight_kg: Kilograms | None = None
    volume_m3: CubicMetres | None = None
    items: ItemCount | None = None
    notes: Notes | None = None
    proof_required: bool | None = None
    status: MissionStatus | None = None
    failure_reason: FailureReason | None = None


# ProofOut fields and the mission columns they show (besides `code`, and `proofed` = verified).
PROOF_COLUMNS = {
    "required": "proof_required", "sent_to": "proof_sent_to", "sms_status": "proof_sms_status",
    "sent_at": "proof_sent_at", "expires_at": "proof_expires_at", "attempts": "proof_attempts",
    "max_attempts": "proof_max_attempts", "verified_at": "proof_verified_at",
}  # fmt: skip


class ProofOut(OutModel):
    required: bool
    code: str | None = Field(None, description="Only in the create and bulk-create answers.")
    sent_to: str | None
    sms_status: SmsStatus
    sent_at: dt.datetime | None
    expires_at: dt.datetime | None
    attempts: int
    max_attempts: int
    verified_at: dt.datetime | None
    proofed: bool

    @classmethod
    def of(cls, mission: Any, code: str | None = None) -> ProofOut:
        """A mission's proof of delivery; `code` only when a create answer reveals it."""
        columns = {name: getattr(mission, column) for name, column in PROOF_COLUMNS.items()}
        return cls(**columns, code=code, proofed=mission.proof_verified_at is not None)


class MissionOut(ResourceOut):
    external_id: str | None
    branch_id: uuid.UUID
    type: MissionType
    date: dt.date
    customer_name: str | None
    customer_phone: str | None
    customer_email: str | None
    address: str | None
    latitude: float
    longitude: float
    time_window_start: dt.time | None
    time_window_end: dt.time | None
    service_duration_seconds: int
    priority: int
    weight_kg: float | None
    volume_m3: float | None
    items: int | None
    notes: str | None
    proof_required: bool
    status: MissionStatus
    route_id: uuid.UUID | None
    sequence: int | None
    driver_id: uuid.UUID | None
    vehicle_id: uuid.UUID | None
    eta: dt.datetime | None
    etd: dt.datetime | None
    failure_reason: str | None
    proof: ProofOut

    @classmethod
    def from_record(cls, record: Any) -> MissionOut:
        """A mission as the API shows it. `record` may carry a just-made proof code
        (`CreatedMission`), which only create answers reveal."""
        mission = getattr(record, "mission", record)
        proof = ProofOut.of(mission, getattr(record, "proof_code", None))
        values = {name: getattr(mission, name) for name in cls.model_fields if name != "proof"}
        return cls.model_validate({**values, "proof": proof})

    def public(self) -> dict[str, Any]:
        data = self.model_dump(by_alias=True)
        if data["proof"]["code"] is None:
            del data["proof"]["code"]
        return data


class MissionFilters(QueryModel):
    """The filters shared by the list and the export."""

    branch_id: uuid.UUID | None = Field(None, description="Only missions of this branch.")
    date: dt.date | None = Field(None, description="Only missions of this day.")
    date_from: dt.date | None = Field(None, description="Only missions on or after this day.")
    date_to: dt.date | None = Field(None, description="Only missions on or before this day.")
    status: list[MissionStatus] | None = Field(None, description="Repeatable: any of these statuses.")
    route_id: uuid.UUID | None = Field(None, description="Only missions on this route.")
    driver_id: uuid.UUID | None = Field(None, description="Only missions on routes of this driver.")

    @model_validator(mode="after")
    def _range(self) -> MissionFilters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise field_error(("dateTo",), "must not be before dateFrom", self.date_to.isoformat())
        return self


class MissionQuery(ListQuery, MissionFilters):
    pass


class ExportFormat(enum.StrEnum):
    JSON = "json"
    CSV = "csv"


class MissionExportQuery(MissionFilters):
    updated_since: dt.datetime | None = Field(
        None, description="Only records with `updatedAt >= updatedSince`."
    )
    external_id: str | None = Field(None, description="Exact match on `externalId`.")
    format: ExportFormat | None = Field(
        None, description="`csv` or `json`; default from the Accept header (`text/csv`), else JSON."
    )


class ExportRowOut(OutModel):
    """A row of the export (JSON; CSV has the same columns): the mission flattened, with the names
    of its route, driver and vehicle."""

    id: uuid.UUID
    external_id: str | None
    branch_id: uuid.UUID
    type: MissionType
    date: dt.date
    status: MissionStatus
    customer_name: str | None
    customer_phone: str | None
    customer_email: str | None
    address: str | None
    latitude: float
    longitude: float
    time_window_start: dt.time | None
    time_window_end: dt.time | None
    service_duration_seconds: int
    priority: int
    weight_kg: float | None
    volume_m3: float | None
    items: int | None
    notes: str | None
    proof_required: bool
    proofed_at: dt.datetime | None
    failure_reason: str | None
    route_id: uuid.UUID | None
    route_name: str | None
    sequence: int | None
    eta: dt.datetime | None
    etd: dt.datetime | None
    driver_id: uuid.UUID | None
    driver_name: str | None
    vehicle_id: uuid.UUID | None
    vehicle_name: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


# --- bulk ---------------------------------------------------------------------------------------

BULK_LIMIT = 1000


class MissionBulkCreate(InputModel):
    # Items are validated one by one by the service, so one bad item fails only itself: the schema
    # documents them as MissionCreate bodies but the envelope does not validate them.
    missions: Annotated[
        list[SkipValidation[MissionCreate]],
        # Any item is taken: one that is not a valid mission body fails alone, in its result.
        WithJsonSchema(
            {"type": "array", "items": {"anyOf": [{"$ref": "#/components/schemas/MissionCreate"}, {}]}}
        ),
    ] = Field(description=f"Up to {BULK_LIMIT} mission bodies, each exactly as POST /missions takes it.")


class BulkItemError(OutModel):
    code: str
    message: str
    details: Any


class BulkItemOut(OutModel):
    index: int
    status: Literal["created", "error"]
    data: MissionOut | None = None
    error: BulkItemError | None = None


class BulkResultOut(RootModel[list[BulkItemOut]]):
    pass


# --- actions ------------------------------------------------------------------------------------

ProofCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")]


class ProofVerify(InputModel):
    code: ProofCode = Field(description="The customer's 5-digit code.")


class MissionReassign(InputModel):
    route_id: uuid.UUID | None = Field(
        description="The route to move the mission to; null takes it off its route."
    )
    position: int | None = Field(
        None, ge=1, description="1-based stop position on the new route (default: last)."
    )


# --- history ------------------------------------------------------------------------------------


class HistoryQuery(QueryModel):
    limit: int = Field(50, ge=1, le=200, description="Page size, 1..200.")
    cursor: str | None = Field(None, description="Opaque cursor from `pagination.nextCursor`.")


class ActorOut(OutModel):
    type: str
    id: uuid.UUID | None
    name: str


class ChangeOut(OutModel):
    model_config = ConfigDict(populate_by_name=True)

    field: str
    from_: Any = Field(alias="from")
    to: Any


class HistoryEntryOut(OutModel):
    id: uuid.UUID
    at: dt.datetime
    action: str
    source: str
    actor: ActorOut
    changes: list[ChangeOut]

    @classmethod
    def from_record(cls, record: Any) -> HistoryEntryOut:
        return cls(
            id=record.id,
            at=record.at,
            action=record.action,
            source=record.source,
            actor=ActorOut(type=record.actor_type, id=record.actor_id, name=record.actor_name),
            changes=[
                ChangeOut(field=c["field"], from_=c.get("from"), to=c.get("to")) for c in record.field_changes
            ],
        )


# --- distribution view --------------------------------------------------------------------------


class DistributionQuery(QueryModel):
    date: dt.date = Field(description="The day (YYYY-MM-DD).")
    branch_id: uuid.UUID = Field(description="The branch.")


class RouteSummaryOut(OutModel):
    id: uuid.UUID
    external_id: str | None
    name: str
    date: dt.date
    status: str
    start_time: dt.time | None
    start_depot_id: uuid.UUID | None
    end_depot_id: uuid.UUID | None
    total_distance_meters: int
    total_duration_seconds: int
    optimized_at: dt.datetime | None


class DriverSummaryOut(OutModel):
    id: uuid.UUID
    first_name: str
    last_name: str
    phone: str | None


class VehicleSummaryOut(OutModel):
    id: uuid.UUID
    name: str
    plate_number: str | None
    type: str


class MissionSummaryOut(OutModel):
    id: uuid.UUID
    external_id: str | None
    status: MissionStatus
    sequence: int | None
    latitude: float
    longitude: float
    time_window_start: dt.time | None
    time_window_end: dt.time | None
    eta: dt.datetime | None
    weight_kg: float | None
    volume_m3: float | None
    items: int | None
    customer_name: str | None
    address: str | None


class DistributionRouteOut(OutModel):
    route: RouteSummaryOut
    driver: DriverSummaryOut | None
    vehicle: VehicleSummaryOut | None
    missions: list[MissionSummaryOut]


class DistributionOut(OutModel):
    date: dt.date
    branch_id: uuid.UUID
    routes: list[DistributionRouteOut]
    unassigned: list[MissionSummaryOut]
