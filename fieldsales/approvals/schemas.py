import marshmallow as ma

from fieldsales.approvals.models import DECISIONS, KINDS, MISSING, STATUSES
from fieldsales.schemas import Day, IdArg, StrictSchema, Timestamp, Variants
from fieldsales.targets.schemas import amount_field

_reason = ma.validate.Length(min=1, max=2000)


class OutingSchema(StrictSchema):
    customer_id = ma.fields.UUID(required=True, metadata={
        "description": "A customer the requester can see (else 404)"})
    project_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "A project of that customer (else 422)"})
    starts_at = Timestamp(required=True)
    ends_at = Timestamp(required=True, metadata={
        "description": "After starts_at, at most 14 days later"})
    purpose = ma.fields.String(required=True, validate=_reason)

    @ma.validates_schema
    def _window(self, data, **kwargs):
        start, end = data.get("starts_at"), data.get("ends_at")
        if start is not None and end is not None:
            if end <= start:
                raise ma.ValidationError("Must be after starts_at.", "ends_at")
            if (end - start).days >= 14:
                raise ma.ValidationError("An outing lasts at most 14 days.", "ends_at")


class AttendanceCorrectionSchema(StrictSchema):
    date = Day(required=True, metadata={
        "description": "The requester's local date, not in the future, at most 93 days ago"})
    missing = ma.fields.String(required=True, validate=ma.validate.OneOf(MISSING))
    visit_id = ma.fields.UUID(allow_none=True, metadata={
        "description": "The requester's visit of that date it is about (optional)"})
    at = Timestamp(required=True, metadata={
        "description": "When the missing check-in or check-out happened: on that local date "
                       "(a check-out up to a day later), not in the future"})
    reason = ma.fields.String(required=True, validate=_reason)


class TargetChangeSchema(StrictSchema):
    target_id = ma.fields.UUID(required=True, metadata={
        "description": "A target the requester can see (else 404)"})
    amount = amount_field(required=True)
    reason = ma.fields.String(required=True, validate=_reason)


PAYLOADS = {"outing": OutingSchema, "attendance_correction": AttendanceCorrectionSchema,
            "target_change": TargetChangeSchema}


class ApprovalCreateSchema(IdArg):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    payload = Variants(PAYLOADS, required=True, metadata={
        "description": "The request, in the shape of its kind"})

    @ma.post_load
    def _payload(self, data, **kwargs):
        if not isinstance(data.get("payload"), dict):
            raise ma.ValidationError({"payload": ["Send an object."]})
        try:
            data["payload"] = PAYLOADS[data["kind"]]().load(data["payload"])
        except ma.ValidationError as exc:
            raise ma.ValidationError({"payload": exc.messages}) from None
        return data


class StepSchema(ma.Schema):
    approver_ids = ma.fields.List(ma.fields.UUID(), metadata={
        "description": "Who may decide this step (any one of them)"})
    decided_by = ma.fields.UUID(allow_none=True)
    decision = ma.fields.String(allow_none=True, metadata={"enum": list(DECISIONS)})
    comment = ma.fields.String(allow_none=True)
    at = ma.fields.String(allow_none=True, metadata={"format": "date-time",
                                                     "description": "When it was decided"})


class ApprovalSchema(ma.Schema):
    id = ma.fields.UUID()
    kind = ma.fields.String(metadata={"enum": list(KINDS)})
    requester_id = ma.fields.UUID()
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    payload = Variants(PAYLOADS, metadata={"description": "The request, in the shape of its "
                                                          "kind"})
    steps = ma.fields.List(ma.fields.Nested(StepSchema), metadata={
        "description": "Lowest level first; the first undecided one is the current step"})
    created_at = Timestamp()
    decided_at = Timestamp(allow_none=True, metadata={
        "description": "When it was approved, rejected or withdrawn"})


class ApprovalQuerySchema(StrictSchema):
    box = ma.fields.String(validate=ma.validate.OneOf(("mine", "todo")), metadata={
        "description": "mine: the caller's requests; todo: pending ones whose current step the "
                       "caller may decide; default: every approval the caller may read"})
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))


class DecideSchema(StrictSchema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(DECISIONS))
    comment = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000))
