import marshmallow as ma

from fieldsales.customers.models import GRADES
from fieldsales.geo import LatLng, LatLngParam
from fieldsales.plans.models import KINDS, SOURCES, STATUSES
from fieldsales.schemas import Day, IdArg, StrictSchema, Timestamp

_text = ma.validate.Length(max=5000)


class PlanSchema(ma.Schema):
    id = ma.fields.UUID()
    user_id = ma.fields.UUID()
    kind = ma.fields.String(metadata={"enum": list(KINDS)})
    customer_id = ma.fields.UUID(allow_none=True)
    lead_id = ma.fields.UUID(allow_none=True)
    project_id = ma.fields.UUID(allow_none=True)
    planned_date = Day(metadata={"description": "The user's local date"})
    planned_start = Timestamp(allow_none=True)
    planned_end = Timestamp(allow_none=True)
    purpose = ma.fields.String()
    talking_points = ma.fields.String()
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    visit_id = ma.fields.UUID(allow_none=True, metadata={"description": "The visit that did it"})
    contact_record_id = ma.fields.UUID(allow_none=True)
    source = ma.fields.String(metadata={
        "enum": list(SOURCES), "description": "self: the rep's own; manager: planned by a "
                                              "manager or admin; cadence: from the grade"})
    created_by = ma.fields.UUID()
    cancel_reason = ma.fields.String(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()


class _Window(StrictSchema):
    @ma.validates_schema
    def _end_after_start(self, data, **kwargs):
        start, end = data.get("planned_start"), data.get("planned_end")
        if start is not None and end is not None and end < start:
            raise ma.ValidationError("Must not be before planned_start.", "planned_end")


class PlanCreateSchema(IdArg, _Window):
    user_id = ma.fields.UUID(metadata={
        "description": "Whose plan (default: the caller). Managers and admin may name users in "
                       "their scope (source: manager); a rep naming someone else → 403"})
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    customer_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "Required for a visit plan; a call/follow_up names a customer or a lead"})
    lead_id = ma.fields.UUID(allow_none=True)
    project_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "A project of the customer"})
    planned_date = Day(required=True, metadata={
        "description": "The user's local date; not before the user's today"})
    planned_start = Timestamp(allow_none=True)
    planned_end = Timestamp(allow_none=True)
    purpose = ma.fields.String(validate=_text)
    talking_points = ma.fields.String(validate=_text)

    @ma.validates_schema
    def _subject(self, data, **kwargs):
        customer, lead = data.get("customer_id"), data.get("lead_id")
        if data.get("kind") == "visit":
            if lead is not None:
                raise ma.ValidationError("A visit plan names a customer, not a lead.", "lead_id")
            if customer is None:
                raise ma.ValidationError("A visit plan names a customer.", "customer_id")
        elif (customer is None) == (lead is None):
            raise ma.ValidationError("Name a customer or a lead (one of them).", "customer_id")
        if lead is not None and data.get("project_id") is not None:
            raise ma.ValidationError("A project belongs to a customer, not a lead.",
                                     "project_id")


class PlanPatchSchema(_Window):
    planned_date = Day()
    planned_start = Timestamp(allow_none=True)
    planned_end = Timestamp(allow_none=True)
    purpose = ma.fields.String(validate=_text)
    talking_points = ma.fields.String(validate=_text)


class PlanCancelSchema(StrictSchema):
    reason = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=1, max=1000),
                              metadata={"description": "Required when a rep cancels a plan "
                                                       "its manager made"})


class PlanQuerySchema(StrictSchema):
    user_id = ma.fields.UUID()
    team_id = ma.fields.UUID()
    customer_id = ma.fields.UUID()
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    from_ = Day(data_key="from", metadata={"description": "First planned_date (inclusive)"})
    to = Day(metadata={"description": "Last planned_date (inclusive)"})


# --- the agenda ------------------------------------------------------------------------------

class AgendaQuerySchema(StrictSchema):
    date = Day(metadata={"description": "The user's local date (default: its today)"})
    user_id = ma.fields.UUID(metadata={
        "description": "Whose day (default: the caller); managers: their people"})
    near = LatLngParam(metadata={"description": "LAT,LNG (WGS-84): each list nearest first, "
                                                "with distance_m"})


class AgendaCustomerSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    location = ma.fields.Nested(LatLng, allow_none=True)
    distance_m = ma.fields.Float(allow_none=True, metadata={
        "description": "Metres from `near` (null without near or without a location)"})


class AgendaPlanSchema(PlanSchema):
    customer = ma.fields.Nested(AgendaCustomerSchema, allow_none=True, metadata={
        "description": "null for a plan that names a lead"})


class DueFollowUpSchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": ["customer", "lead"]})
    id = ma.fields.UUID()
    name = ma.fields.String()
    next_follow_up_at = Timestamp()
    from_ = ma.fields.String(data_key="from", metadata={
        "enum": ["visit", "contact_record", "lead_follow_up"],
        "description": "What set next_follow_up_at"})
    distance_m = ma.fields.Float(allow_none=True)


class OverdueCustomerSchema(ma.Schema):
    customer = ma.fields.Nested(AgendaCustomerSchema)
    grade = ma.fields.String(metadata={"enum": list(GRADES)})
    last_visit_at = Timestamp(allow_none=True)
    due_since = Timestamp(metadata={"description": "Last visit (or the card's creation) plus "
                                                   "the grade's visit_cadence_days"})


class AgendaSchema(ma.Schema):
    date = Day()
    plans = ma.fields.List(ma.fields.Nested(AgendaPlanSchema))
    due_follow_ups = ma.fields.List(ma.fields.Nested(DueFollowUpSchema))
    overdue_customers = ma.fields.List(ma.fields.Nested(OverdueCustomerSchema))
