
import marshmallow as ma

from fieldsales.geo import BBoxParam, GpsLocationIn, PROVIDERS
from fieldsales.photos.schemas import PhotoSchema
from fieldsales.schemas import IdArg, StrictSchema, Timestamp
from fieldsales.timeutil import TimeOrDate
from fieldsales.visits.flags import ALL_FLAGS
from fieldsales.visits.models import VISIT_STATUSES


# --- input -----------------------------------------------------------------------------------

class _EventFields(StrictSchema):
    location = ma.fields.Nested(GpsLocationIn, required=True, metadata={
        "description": "The phone's fix; lat/lng in `crs` (wgs84, gcj02 or bd09), stored as "
                       "WGS-84. `accuracy_m` missing or above the org's low_accuracy_m flags "
                       "low_accuracy."})
    device_time = Timestamp(required=True, metadata={
        "description": "The phone's clock at the event (RFC 3339 with offset)"})
    mock_location = ma.fields.Boolean(load_default=False, metadata={
        "description": "The phone reported a mock location provider"})


class CheckInSchema(_EventFields, IdArg):
    customer_id = ma.fields.UUID(required=True)
    project_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "A project of the same customer (else 422)"})
    plan_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "The visit plan this check-in carries out (404 if invisible, 409 "
                       "plan_closed if no longer planned, 422 if not a visit plan of this "
                       "customer). Default: the rep's planned visit to this customer that day"})
    purpose = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000))


class CheckOutSchema(_EventFields):
    summary = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=1, max=5000),
                               metadata={"description": "Written to the customer's follow-up "
                                                        "log (a contact record, method visit)"})
    outcome = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    next_follow_up_at = Timestamp(allow_none=True)


class VisitQuerySchema(StrictSchema):
    user_id = ma.fields.UUID()
    team_id = ma.fields.UUID(metadata={"description": "Users of this team and the teams below"})
    customer_id = ma.fields.UUID()
    project_id = ma.fields.UUID()
    from_ = TimeOrDate(data_key="from", metadata={
        "description": "Check-in at or after: RFC 3339 time, or a date (start of that local "
                       "day in the caller's time zone)", "type": "string"})
    to = TimeOrDate(metadata={
        "description": "Check-in at or before: RFC 3339 time, or a date (end of that local "
                       "day in the caller's time zone)", "type": "string"})
    status = ma.fields.String(validate=ma.validate.OneOf(VISIT_STATUSES))
    flagged = ma.fields.Boolean(metadata={"description": "true: visits with at least one flag; "
                                                         "false: visits with none"})
    min_risk = ma.fields.Integer(validate=ma.validate.Range(0, 100))
    bbox = BBoxParam(metadata={"description": "MINLNG,MINLAT,MAXLNG,MAXLAT: check-in point "
                                              "inside (WGS-84)"})


# --- output ----------------------------------------------------------------------------------

class EventLocationSchema(ma.Schema):
    lat = ma.fields.Float()
    lng = ma.fields.Float()
    accuracy_m = ma.fields.Float(allow_none=True)
    provider = ma.fields.String(allow_none=True, metadata={"enum": list(PROVIDERS)})


class VisitEventSchema(ma.Schema):
    at = Timestamp(metadata={"description": "device_time when plausible (not ahead of "
                                            "received_at by more than 5 min), else received_at"})
    device_time = Timestamp()
    received_at = Timestamp()
    location = ma.fields.Nested(EventLocationSchema)
    distance_m = ma.fields.Float(allow_none=True, metadata={
        "description": "Metres to the customer's location (null: the customer has none)"})
    within_geofence = ma.fields.Boolean(allow_none=True)


class VisitSchema(ma.Schema):
    id = ma.fields.UUID()
    user_id = ma.fields.UUID()
    customer_id = ma.fields.UUID()
    project_id = ma.fields.UUID(allow_none=True)
    plan_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "The plan this check-in fulfilled (null: unplanned)"})
    outing_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "The approved outing (外出) this check-in was made on: the rep's, at this "
                       "customer, inside its window (null: none); named also when the outing "
                       "was approved after the check-in"})
    purpose = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"enum": list(VISIT_STATUSES)})
    check_in = ma.fields.Nested(VisitEventSchema)
    check_out = ma.fields.Nested(VisitEventSchema, allow_none=True, metadata={
        "description": "null while open, and when the visit was closed automatically"})
    closed_at = Timestamp(allow_none=True, metadata={
        "description": "check_out.at, or the time it was closed automatically"})
    closed_by = ma.fields.String(allow_none=True, metadata={
        "enum": ["rep", "auto"], "description": "auto: closed without a check-out "
                                                "(flag missing_check_out)"})
    duration_s = ma.fields.Integer(allow_none=True)
    flags = ma.fields.List(ma.fields.String(metadata={"enum": list(ALL_FLAGS)}))
    risk_score = ma.fields.Integer(metadata={"description": "0..100; see the risk weights in "
                                                            "the API description"})
    photos = ma.fields.List(ma.fields.Nested(PhotoSchema))
    note = ma.fields.String(allow_none=True)
    summary = ma.fields.String(allow_none=True)
    outcome = ma.fields.String(allow_none=True)
    next_follow_up_at = Timestamp(allow_none=True)
    created_at = Timestamp()
