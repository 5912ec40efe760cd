import marshmallow as ma

from fieldsales.projects.models import OPEN_STAGES
from fieldsales.schemas import Day, IdArg, StrictSchema, Timestamp
from fieldsales.targets import periods
from fieldsales.targets.models import METRICS, MONEY, STATUSES, SUBJECT_TYPES

COUNTED = tuple(m for m in METRICS if m not in MONEY)  # these count things: whole amounts


class PeriodField(ma.fields.String):
    """"2027", "2027-Q1" or "2027-03" (years 1900 … 2199); loads as a periods.Period."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return periods.parse(text)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None


def _amount_range(value):
    if value < 0 or value >= 10**12:
        raise ma.ValidationError("Must be between 0 and 999999999999.99.")


def amount_field(**kwargs):
    # A plain validator rather than Range: apispec would render a Decimal bound as a string.
    return ma.fields.Decimal(places=2, as_string=True, allow_nan=False, validate=_amount_range,
                             metadata={"type": "string", "format": "decimal",
                                       "example": "1200.00"}, **kwargs)


def _period(description=None, **kwargs):
    meta = {"example": "2027-Q1", "pattern": r"^\d{4}(-Q[1-4]|-\d{2})?$"}
    return PeriodField(metadata={**meta, **({"description": description} if description else {})},
                       **kwargs)


class SubjectSchema(StrictSchema):
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(SUBJECT_TYPES))
    id = ma.fields.UUID(required=True, metadata={"description": "The org's, team's or user's id"})


class SubjectOutSchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": list(SUBJECT_TYPES)})
    id = ma.fields.UUID()


class TargetSchema(ma.Schema):
    id = ma.fields.UUID()
    metric = ma.fields.String(metadata={"enum": list(METRICS)})
    period = ma.fields.String()
    subject = ma.fields.Nested(SubjectOutSchema)
    amount = ma.fields.Decimal(places=2, as_string=True,
                               metadata={"type": "string", "format": "decimal"})
    parent_id = ma.fields.UUID(allow_none=True)
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    created_by = ma.fields.UUID()
    created_at = Timestamp()
    updated_at = Timestamp()


def check_whole(data, metric):
    """A target of a counted metric is a whole number (ValidationError on `amount`)."""
    if metric in COUNTED and data.get("amount") is not None and data["amount"] % 1:
        raise ma.ValidationError(f"A {metric} target is a whole number.", "amount")


class TargetCreateSchema(IdArg):
    metric = ma.fields.String(required=True, validate=ma.validate.OneOf(METRICS))
    period = _period(required=True)
    subject = ma.fields.Nested(SubjectSchema, required=True)
    amount = amount_field(required=True)

    @ma.validates_schema
    def _whole_counts(self, data, **kwargs):
        check_whole(data, data.get("metric"))


class ChildSchema(StrictSchema):
    subject = ma.fields.Nested(SubjectSchema, required=True)
    period = _period("Default: the parent's; else one of its quarters or months (same "
                     "subject)")
    amount = amount_field(required=True)


class AllocateSchema(StrictSchema):
    children = ma.fields.List(ma.fields.Nested(ChildSchema), required=True,
                              validate=ma.validate.Length(min=1, max=100))


class TargetPatchSchema(StrictSchema):
    amount = amount_field(required=True)
    reason = ma.fields.String(validate=ma.validate.Length(min=1, max=1000), metadata={
        "description": "Required once the target is published (it goes in the audit entry)"})


class TargetQuerySchema(StrictSchema):
    metric = ma.fields.String(validate=ma.validate.OneOf(METRICS))
    period = _period()
    team_id = ma.fields.UUID(metadata={"description": "Targets of this team"})
    user_id = ma.fields.UUID(metadata={"description": "Targets of this user"})
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))


class ProgressQuerySchema(StrictSchema):
    metric = ma.fields.String(validate=ma.validate.OneOf(METRICS))
    period = _period()
    team_id = ma.fields.UUID()
    user_id = ma.fields.UUID()
    as_of = Day(metadata={"description": "The day expected_to_date is computed for (default: "
                                         "today in the subject's time zone)"})


def _money_out(**kwargs):
    return ma.fields.Decimal(places=2, as_string=True,
                             metadata={"type": "string", "format": "decimal", **kwargs})


class ProgressSchema(ma.Schema):
    target = ma.fields.Nested(TargetSchema)
    achieved = _money_out(description="Computed live from the records of the period")
    rate = ma.fields.Float(allow_none=True, metadata={
        "description": "achieved / amount (null for a zero target)"})
    expected_to_date = _money_out(description="amount × days elapsed / days in the period")
    gap = _money_out(description="expected_to_date − achieved: above 0 means behind pace")
    children = ma.fields.List(ma.fields.Nested(lambda: ProgressSchema()))


class FunnelQuerySchema(StrictSchema):
    from_ = Day(data_key="from", metadata={"description": "First local day (inclusive)"})
    to = Day(metadata={"description": "Last local day (inclusive)"})
    team_id = ma.fields.UUID()
    user_id = ma.fields.UUID()


class FunnelStageSchema(ma.Schema):
    stage = ma.fields.String(metadata={"enum": list(OPEN_STAGES)})
    entered = ma.fields.Integer(metadata={"description": "Projects that entered the stage in "
                                                         "the span"})
    moved_on = ma.fields.Integer(metadata={"description": "Of those, the ones that have left "
                                                          "it since (moved_on / entered is the "
                                                          "stage's conversion)"})
    median_days = ma.fields.Float(allow_none=True, metadata={
        "description": "Median days spent in the stage by those that moved on (null: none)"})


class FunnelLeadsSchema(ma.Schema):
    claimed = ma.fields.Integer(metadata={"description": "Leads claimed or assigned to the "
                                                         "people in the period"})
    converted = ma.fields.Integer()
    conversion_rate = ma.fields.Float(allow_none=True, metadata={
        "description": "converted / claimed (null when none was claimed)"})


class FunnelSchema(ma.Schema):
    stages = ma.fields.List(ma.fields.Nested(FunnelStageSchema), metadata={
        "description": "The open stages in their order"})
    won = ma.fields.Integer(metadata={"description": "Projects won in the span"})
    lost = ma.fields.Integer(metadata={"description": "Projects lost in the span"})
    win_rate = ma.fields.Float(allow_none=True, metadata={
        "description": "won / (won + lost) (null when neither)"})
    leads = ma.fields.Nested(FunnelLeadsSchema)
