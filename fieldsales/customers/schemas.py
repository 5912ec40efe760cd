import marshmallow as ma

from fieldsales.customers.models import CONTACT_METHODS, CUSTOMER_STATUSES, GRADES
from fieldsales.geo import LatLng, LatLngParam, LocationIn
from fieldsales.schemas import IdArg, StrictSchema, Timestamp, name_field

_tags = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=50)),
                       validate=ma.validate.Length(max=50))


class CustomerSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    address = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    location = ma.fields.Nested(LatLng, allow_none=True, metadata={"description": "WGS-84"})
    geofence_radius_m = ma.fields.Integer(allow_none=True)
    owner_id = ma.fields.UUID(allow_none=True)
    team_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "The card's team (default: the owner's); null when it belongs to no "
                       "team, e.g. an admin's card with no owner, which every rep sees"})
    tags = ma.fields.List(ma.fields.String())
    status = ma.fields.String(metadata={"enum": list(CUSTOMER_STATUSES)})
    custom = ma.fields.Dict()
    grade = ma.fields.String(allow_none=True, metadata={
        "enum": list(GRADES), "description": "A–D; sets the visit cadence (org settings)"})
    created_at = Timestamp()
    updated_at = Timestamp()
    distance_m = ma.fields.Float(metadata={"description": "Only with `near`: metres from it",
                                           "x_optional": True})


class _CustomerFields(StrictSchema):
    address = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    phone = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=50))
    location = ma.fields.Nested(LocationIn, allow_none=True, metadata={
        "description": "lat/lng in `crs` (wgs84, gcj02 or bd09); stored as WGS-84 "
                       "(`accuracy_m` is accepted and not stored)"})
    geofence_radius_m = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(10, 100000),
                                          metadata={"description": "Overrides the org radius"})
    owner_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "Reps may only name themselves (default: the creator when a rep)"})
    team_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "Default: the owner's team"})
    tags = _tags
    status = ma.fields.String(validate=ma.validate.OneOf(CUSTOMER_STATUSES))
    custom = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(max=100)))
    grade = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(GRADES))


class CustomerCreateSchema(_CustomerFields, IdArg):
    name = name_field(required=True)


class CustomerPatchSchema(_CustomerFields):
    name = name_field()


class CustomerQuerySchema(StrictSchema):
    q = ma.fields.String(validate=ma.validate.Length(min=1, max=200),
                         metadata={"description": "Substring of name, address or phone"})
    owner_id = ma.fields.UUID()
    team_id = ma.fields.UUID()
    tag = ma.fields.String()
    status = ma.fields.String(validate=ma.validate.OneOf(CUSTOMER_STATUSES))
    near = LatLngParam(metadata={"description": "LAT,LNG (WGS-84): nearest first, with "
                                                "distance_m"})
    radius_m = ma.fields.Float(validate=ma.validate.Range(1, 1000000), metadata={
        "description": "With near: only customers within this many metres (default: no limit)"})
    updated_since = Timestamp()


class ContactSchema(ma.Schema):
    id = ma.fields.UUID()
    customer_id = ma.fields.UUID()
    name = ma.fields.String()
    title = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)


class ContactCreateSchema(IdArg):
    name = name_field(required=True)
    title = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    phone = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=50))
    email = ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=254))


class ContactRecordSchema(ma.Schema):
    id = ma.fields.UUID()
    customer_id = ma.fields.UUID()
    user_id = ma.fields.UUID()
    method = ma.fields.String(metadata={"enum": list(CONTACT_METHODS)})
    contact_id = ma.fields.UUID(allow_none=True)
    visit_id = ma.fields.UUID(allow_none=True)
    summary = ma.fields.String()
    outcome = ma.fields.String(allow_none=True)
    next_follow_up_at = Timestamp(allow_none=True)
    created_at = Timestamp()


class ContactRecordCreateSchema(IdArg):
    method = ma.fields.String(required=True, validate=ma.validate.OneOf(CONTACT_METHODS))
    contact_id = ma.fields.UUID(allow_none=True)
    summary = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=5000))
    outcome = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    next_follow_up_at = Timestamp(allow_none=True)


class TimelineItemSchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": ["visit", "contact_record", "project",
                                               "contract", "payment"]})
    at = Timestamp()
    id = ma.fields.UUID()
    user_id = ma.fields.UUID(allow_none=True)
    summary = ma.fields.String(allow_none=True, metadata={"description": "One line for people"})
    detail = ma.fields.Dict(metadata={"description": "The item's own fields (by type)"})
