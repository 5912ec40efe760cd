import re

import marshmallow as ma

from fieldsales.reports import rules
from fieldsales.schemas import Day, StrictSchema, Timestamp
from fieldsales.visits.flags import ALL_FLAGS

_date = ma.validate.Range(min=rules.EARLIEST_DATE, error="Dates start at {min}.")


class ReportDateField(Day):
    """A local date in the rep's time zone, exactly YYYY-MM-DD (Python would also take the
    basic form 20260105, which the contract does not)."""

    _SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}")

    def __init__(self, **kwargs):
        super().__init__(validate=_date, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not self._SHAPE.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


# --- input -----------------------------------------------------------------------------------

class ReportDatePath(ma.Schema):
    date = ReportDateField(required=True, metadata={
        "description": "The rep's local date (YYYY-MM-DD, in the rep's time zone: the user's, "
                       "else the org's, else UTC). A date after the rep's today → 422 "
                       "`date_in_future`."})


class ReportUserQuery(StrictSchema):
    user_id = ma.fields.UUID(metadata={
        "description": "Whose report (default: the caller's). Others' reports: their managers, "
                       "hr and admin; anyone else gets 404."})


_text = ma.validate.Length(max=5000)


class ReportPutSchema(StrictSchema):
    summary = ma.fields.String(allow_none=True, validate=_text, metadata={
        "description": "What the day brought. Left out: unchanged; null: cleared."})
    plan = ma.fields.String(allow_none=True, validate=_text, metadata={
        "description": "Plan for the next day. Left out: unchanged; null: cleared."})
    problems = ma.fields.String(allow_none=True, validate=_text, metadata={
        "description": "Problems and help needed. Left out: unchanged; null: cleared."})
    submit = ma.fields.Boolean(load_default=False, metadata={
        "description": "true: submit for review (freezes the stats and locks the report); "
                       "false (default): save a draft"})


class ReportQuerySchema(StrictSchema):
    user_id = ma.fields.UUID()
    team_id = ma.fields.UUID(metadata={"description": "Reps of this team and the teams below"})
    from_ = ReportDateField(data_key="from", metadata={
        "description": "First local date (YYYY-MM-DD), inclusive"})
    to = ReportDateField(metadata={"description": "Last local date (YYYY-MM-DD), inclusive"})
    status = ma.fields.String(validate=ma.validate.OneOf(rules.STATUSES))

    @ma.validates_schema
    def _range(self, data, **kwargs):
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ma.ValidationError("`to` is before `from`.", "to")


class ReviewSchema(StrictSchema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(rules.DECISIONS))
    comment = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000), metadata={
        "description": "Required (non-empty) when returning a report: what the rep should fix"})

    @ma.validates_schema
    def _comment_on_return(self, data, **kwargs):
        if data.get("decision") == "returned" and not (data.get("comment") or "").strip():
            raise ma.ValidationError("Say what to fix when returning a report.", "comment")


# --- output ----------------------------------------------------------------------------------

class ReportStatsSchema(ma.Schema):
    visits = ma.fields.Integer(metadata={"description": "Visits checked in on the day"})
    customers_visited = ma.fields.Integer(metadata={"description": "Distinct customers"})
    first_check_in_at = Timestamp(allow_none=True)
    last_check_out_at = Timestamp(allow_none=True, metadata={
        "description": "The latest check-out made by the rep (automatic closes do not count)"})
    working_minutes = ma.fields.Integer(metadata={
        "description": "From the first check-in to the latest check-in or check-out of the "
                       "day, travel included"})
    travel_km = ma.fields.Float(metadata={
        "description": "Length of the line through the day's check-ins in time order "
                       "(on the spheroid), km, 2 decimals"})
    flagged_visits = ma.fields.Integer(metadata={"description": "Visits with at least one flag"})
    photos = ma.fields.Integer(metadata={"description": "Photos on the day's visits"})
    leads_claimed = ma.fields.Integer(metadata={
        "description": "Leads the rep claimed (claim, claim-next); assignments do not count"})
    follow_ups = ma.fields.Integer(metadata={
        "description": "Lead follow-ups plus contact records the rep logged, without the "
                       "records written by check-outs and lead conversions"})
    plans = ma.fields.Integer(metadata={"description": "Plans for the day, cancelled ones "
                                                       "not counted"})
    plans_done = ma.fields.Integer(metadata={"description": "Plans done (by a visit, contact "
                                                            "record or lead follow-up)"})
    plans_missed = ma.fields.Integer(metadata={"description": "Plans missed (still planned "
                                                              "when the day ended)"})


class ReportVisitSchema(ma.Schema):
    id = ma.fields.UUID()
    customer_id = ma.fields.UUID()
    customer_name = ma.fields.String()
    check_in_at = Timestamp()
    check_out_at = Timestamp(allow_none=True, metadata={
        "description": "null while open or when closed automatically"})
    flags = ma.fields.List(ma.fields.String(metadata={"enum": list(ALL_FLAGS)}))


class ReviewOutSchema(ma.Schema):
    by = ma.fields.UUID(metadata={"description": "The reviewer's user id"})
    at = Timestamp()
    comment = ma.fields.String(allow_none=True)
    decision = ma.fields.String(metadata={"enum": list(rules.DECISIONS)})


class DailyReportSchema(ma.Schema):
    id = ma.fields.UUID(allow_none=True, metadata={"description": "null: nothing saved yet "
                                                                   "(a draft compiled now)"})
    user_id = ma.fields.UUID()
    date = Day(attribute="day", metadata={"description": "The rep's local date"})
    status = ma.fields.String(metadata={"enum": list(rules.STATUSES)})
    stats = ma.fields.Nested(ReportStatsSchema, metadata={
        "description": "Compiled live while draft or returned; frozen at submission"})
    visits = ma.fields.List(ma.fields.Nested(ReportVisitSchema), metadata={
        "description": "The day's visits by check-in time; frozen with the stats"})
    summary = ma.fields.String(allow_none=True)
    plan = ma.fields.String(allow_none=True)
    problems = ma.fields.String(allow_none=True)
    submitted_at = Timestamp(allow_none=True, metadata={"description": "The latest submission"})
    review = ma.fields.Nested(ReviewOutSchema, allow_none=True, metadata={
        "description": "The latest review (kept after a return until the next review)"})
